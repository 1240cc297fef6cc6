//! `ConvPlan`: choose a variant, check it can run, pack the weights once, size the scratch; then
//! `run` as many times as wanted without allocating. The one place that chooses among the
//! registry's rows and validates before a driver builds.

use std::fmt;
use std::sync::Mutex;

use crate::auto::{self, AutoOptions};
use crate::kernel::{Kernel, ScratchSpec};
use crate::nonfinite::BorderFix;
use crate::par::{Exec, Worker, DEFAULT_GRAIN_FLOPS};
use crate::registry::Variant;
use crate::simd::Act;
use crate::{Activation, Algorithm, ConvError, ConvShape, Element, Isa, Tile};

/// A convolution ready to run: a variant, its packed weights and its scratch.
///
/// ```
/// use simdconv::{Activation, Algorithm, ConvPlan, ConvShape, Isa};
/// let shape = ConvShape::builder(1, 5, 5, 2, 3, 3, 3).pad(1).build()?;
/// let weights = vec![0.5f32; shape.weights_len()];
/// let bias = vec![1.0f32; shape.k()];
/// let mut plan = ConvPlan::new(&shape, Algorithm::Direct, Isa::Scalar, &weights, Some(&bias), Activation::Relu)?;
/// let input = vec![1.0f32; shape.input_len()];
/// let mut output = vec![0.0f32; shape.output_len()];
/// plan.run(&input, &mut output)?;
/// // The centre pixel sees all 3x3x2 taps: 18 * 0.5 + 1.
/// assert_eq!(output[(2 * 5 + 2) * 3], 10.0);
/// # Ok::<(), simdconv::ConvError>(())
/// ```
pub struct ConvPlan {
    shape: ConvShape,
    variant: &'static Variant,
    kernel: Box<dyn Kernel>,
    spec: ScratchSpec,
    /// Scratch written before the units run and read by all of them.
    shared: crate::AlignedBuf,
    /// One scratch per worker thread: one for `run`, as many as the largest pool `run_parallel`
    /// has seen.
    workers: Vec<Mutex<Worker>>,
    /// Set when a weight is non-finite: recomputes its channel's border outputs so padding taps
    /// are skipped, as the reference does (see `nonfinite`).
    border_fix: Option<BorderFix>,
}

impl ConvPlan {
    /// Plans `shape` with a registered variant of `algorithm` for `isa`. Where several register
    /// tiles are registered, the pick is [`auto::pick_tile`]'s: the tile that pads the GEMM
    /// least, within 3 percentage points; among those, the widest, then the first registered.
    ///
    /// Checks that the variant exists, supports the shape and runs on this CPU, that `weights`
    /// has `shape.weights_len()` floats (OHWI) and `bias`, if given, `shape.k()`; then packs the
    /// weights and allocates the scratch.
    pub fn new(
        shape: &ConvShape,
        algorithm: Algorithm,
        isa: Isa,
        weights: &[f32],
        bias: Option<&[f32]>,
        activation: Activation,
    ) -> Result<ConvPlan, ConvError> {
        let v = auto::pick_tile(shape, algorithm, isa)
            .ok_or(ConvError::NoVariant { algorithm, isa })?;
        v.plan(shape, weights, bias, activation)
    }

    /// Plans `shape` with the variant `auto` picks for it on this CPU (see [`crate::auto`]:
    /// the tuning map in `options` if it has layers of this kind, else the cost model), among
    /// the variants that support the shape, run here, belong to `options.isas` and fit
    /// `options.max_relative_error`. [`auto::choose`] gives the same pick with its reason.
    ///
    /// ```
    /// use simdconv::{auto::AutoOptions, Activation, ConvPlan, ConvShape};
    /// let shape = ConvShape::builder(1, 8, 8, 16, 16, 3, 3).pad(1).build()?;
    /// let weights = vec![0.1f32; shape.weights_len()];
    /// let plan = ConvPlan::auto(&shape, &weights, None, Activation::None, &AutoOptions::default())?;
    /// assert!(plan.variant().supports(&shape).is_ok());
    /// # Ok::<(), simdconv::ConvError>(())
    /// ```
    pub fn auto(
        shape: &ConvShape,
        weights: &[f32],
        bias: Option<&[f32]>,
        activation: Activation,
        options: &AutoOptions,
    ) -> Result<ConvPlan, ConvError> {
        auto::choose(shape, options)?
            .variant
            .plan(shape, weights, bias, activation)
    }

    /// Runs the convolution on the caller's thread: `input` is NHWC with `shape.input_len()`
    /// floats, `output` receives `shape.output_len()` floats. Does not allocate.
    pub fn run(&mut self, input: &[f32], output: &mut [f32]) -> Result<(), ConvError> {
        self.check(input, output)?;
        let ex = Exec::serial(&self.workers[..1]);
        self.kernel.run(input, output, &mut self.shared, &ex);
        if let Some(fix) = &self.border_fix {
            fix.apply(input, output);
        }
        Ok(())
    }

    /// Runs the convolution over the threads of `pool`, with the default grain
    /// ([`DEFAULT_GRAIN_FLOPS`](crate::DEFAULT_GRAIN_FLOPS)): the result is bit-identical to [`run`]'s.
    ///
    /// The work is cut into units that never split a reduction (GEMM-class: blocks of output
    /// rows x groups of output channels; Winograd: blocks of tiles, the transformed weights
    /// shared read-only; depthwise: output rows), spread by rayon's work stealing, each unit
    /// writing its own part of `output`. A layer of fewer than two grains of FLOPs runs on the
    /// caller's thread. The first call with a larger pool allocates one scratch per extra
    /// thread (and Winograd's shared V and M); later calls do not allocate scratch. Called from one of the pool's own threads
    /// (inside `pool.install`, as an inference loop would run), the caller takes its share at
    /// once; from outside, it hands the work over and sleeps until the pool wakes it.
    ///
    /// ```
    /// use simdconv::{Activation, Algorithm, ConvPlan, ConvShape, Isa};
    /// let shape = ConvShape::builder(1, 32, 32, 16, 16, 3, 3).pad(1).build()?;
    /// let weights = vec![0.25f32; shape.weights_len()];
    /// let mut plan = ConvPlan::new(&shape, Algorithm::Direct, Isa::Scalar, &weights, None, Activation::None)?;
    /// let input = vec![1.0f32; shape.input_len()];
    /// let (mut one, mut two) = (vec![0.0; shape.output_len()], vec![0.0; shape.output_len()]);
    /// plan.run(&input, &mut one)?;
    /// let pool = simdconv::rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    /// plan.run_parallel(&input, &mut two, &pool)?;
    /// assert_eq!(one, two);
    /// # Ok::<(), simdconv::ConvError>(())
    /// ```
    ///
    /// [`run`]: ConvPlan::run
    pub fn run_parallel(
        &mut self,
        input: &[f32],
        output: &mut [f32],
        pool: &rayon::ThreadPool,
    ) -> Result<(), ConvError> {
        self.run_parallel_grain(input, output, pool, DEFAULT_GRAIN_FLOPS)
    }

    /// [`run_parallel`](ConvPlan::run_parallel) with a task grain of `grain_flops` FLOPs: a
    /// task does at least that much work, and a layer below two grains stays on one thread.
    /// 0 gives every unit its own task (the tests split the smallest shapes that way).
    pub fn run_parallel_grain(
        &mut self,
        input: &[f32],
        output: &mut [f32],
        pool: &rayon::ThreadPool,
        grain_flops: f64,
    ) -> Result<(), ConvError> {
        self.check(input, output)?;
        let threads = pool.current_num_threads().max(1);
        if self.shared.len() < self.spec.shared_parallel {
            self.shared =
                crate::AlignedBuf::zeroed_for(self.spec.shared_parallel, "shared scratch")?;
        }
        while self.workers.len() < threads {
            self.workers
                .push(Mutex::new(Worker::new(self.spec.floats, self.spec.ptrs)?));
        }
        let ex = Exec::parallel(pool, &self.workers, grain_flops);
        self.kernel.run(input, output, &mut self.shared, &ex);
        if let Some(fix) = &self.border_fix {
            fix.apply(input, output);
        }
        Ok(())
    }

    fn check(&self, input: &[f32], output: &[f32]) -> Result<(), ConvError> {
        if input.len() != self.shape.input_len() {
            return Err(ConvError::BufferLength {
                buffer: "input",
                expected: self.shape.input_len(),
                got: input.len(),
            });
        }
        if output.len() != self.shape.output_len() {
            return Err(ConvError::BufferLength {
                buffer: "output",
                expected: self.shape.output_len(),
                got: output.len(),
            });
        }
        Ok(())
    }

    /// The shape this plan computes.
    pub fn shape(&self) -> &ConvShape {
        &self.shape
    }
    /// The variant's name, e.g. `direct-avx512-14x32`.
    pub fn variant_name(&self) -> &'static str {
        self.variant.name()
    }
    /// The registry row this plan runs.
    pub fn variant(&self) -> &'static Variant {
        self.variant
    }
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.variant.algorithm()
    }
    /// The instruction set.
    pub fn isa(&self) -> Isa {
        self.variant.isa()
    }
    /// The register tile the built kernel computes (the same as its registry row's; a test holds
    /// every row to that).
    pub fn kernel_tile(&self) -> Tile {
        self.kernel.tile()
    }
    /// Bytes of scratch memory `run` uses (direct's padded copy, im2col's bounded patch buffer,
    /// Winograd's transformed tiles, row-pointer tables); packed weights are not counted. A
    /// parallel run adds [`worker_scratch_bytes`](ConvPlan::worker_scratch_bytes) per extra thread.
    pub fn scratch_bytes(&self) -> usize {
        self.shared.len() * f32::BYTES + self.worker_scratch_bytes()
    }

    /// Bytes of the scratch each worker thread has to itself.
    pub fn worker_scratch_bytes(&self) -> usize {
        self.spec.floats * f32::BYTES + self.spec.ptrs * std::mem::size_of::<*const f32>()
    }
}

impl fmt::Debug for ConvPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConvPlan")
            .field("variant", &self.variant.name())
            .field("shape", &self.shape)
            .finish()
    }
}

impl Variant {
    /// Checks everything, packs the weights (OHWI) and returns a plan: the activation's
    /// parameters, that the algorithm supports `shape` and this CPU runs the ISA, that `weights`
    /// has `shape.weights_len()` floats and `bias`, if given, `shape.k()`.
    pub fn plan(
        &'static self,
        shape: &ConvShape,
        weights: &[f32],
        bias: Option<&[f32]>,
        activation: Activation,
    ) -> Result<ConvPlan, ConvError> {
        activation.validate()?;
        self.supports(shape)?;
        if !self.is_available() {
            return Err(ConvError::IsaUnavailable { isa: self.isa() });
        }
        if weights.len() != shape.weights_len() {
            return Err(ConvError::BufferLength {
                buffer: "weights",
                expected: shape.weights_len(),
                got: weights.len(),
            });
        }
        if let Some(b) = bias {
            if b.len() != shape.k() {
                return Err(ConvError::BufferLength {
                    buffer: "bias",
                    expected: shape.k(),
                    got: b.len(),
                });
            }
        }
        let act = Act::from_activation(activation);
        let kernel = self.build(shape, weights, bias, act)?;
        // Winograd's spread is wider by construction and documented; the rest follow the rule.
        let border_fix = match self.algorithm() {
            Algorithm::Winograd(_) => None,
            _ => BorderFix::new(shape, weights, bias, act)?,
        };
        let spec = kernel.scratch();
        Ok(ConvPlan {
            shape: *shape,
            variant: self,
            kernel,
            spec,
            shared: crate::AlignedBuf::zeroed_for(spec.shared, "shared scratch")?,
            workers: vec![Mutex::new(Worker::new(spec.floats, spec.ptrs)?)],
            border_fix,
        })
    }
}
