//! `ConvPlan`: choose a variant, check it can run, pack the weights once, size the scratch; then
//! `run` as many times as wanted without allocating.

use std::fmt;

use crate::registry::{variants, Variant};
use crate::{ConvError, ConvShape, Isa};

/// Winograd output tile x kernel size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WinogradTile {
    /// F(2x2, 3x3): 4x4 input tiles, 16 GEMMs, 2.25x fewer multiplies.
    F2x2_3x3,
    /// F(4x4, 3x3): 6x6 input tiles, 36 GEMMs, 4x fewer multiplies, larger rounding error.
    F4x4_3x3,
}

impl WinogradTile {
    /// Output tile edge m of F(m x m, 3x3).
    pub fn m(self) -> usize {
        match self {
            WinogradTile::F2x2_3x3 => 2,
            WinogradTile::F4x4_3x3 => 4,
        }
    }
}

/// The convolution algorithm of a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// Direct convolution (as an indirect GEMM over the input in place); any shape with groups 1.
    Direct,
    /// Tiled im2col (the gather is the GEMM's A packing, scratch bounded) + packed GEMM.
    Im2col,
    /// Winograd minimal filtering; 3x3, stride 1, dilation 1, groups 1.
    Winograd(WinogradTile),
    /// Depthwise: groups == c == k, any kernel size, stride, dilation and padding.
    Depthwise,
    /// 1x1, stride 1, no padding, groups 1: one GEMM over the NHWC input.
    Pointwise,
}

impl Algorithm {
    /// Every algorithm, in a fixed order.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Direct,
        Algorithm::Im2col,
        Algorithm::Winograd(WinogradTile::F2x2_3x3),
        Algorithm::Winograd(WinogradTile::F4x4_3x3),
        Algorithm::Depthwise,
        Algorithm::Pointwise,
    ];

    /// Short lower-case name used in variant names and results files.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Direct => "direct",
            Algorithm::Im2col => "im2col",
            Algorithm::Winograd(WinogradTile::F2x2_3x3) => "winograd-f2",
            Algorithm::Winograd(WinogradTile::F4x4_3x3) => "winograd-f4",
            Algorithm::Depthwise => "depthwise",
            Algorithm::Pointwise => "pointwise",
        }
    }

    /// Parses [`Algorithm::name`].
    pub fn from_name(s: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == s.trim())
    }

    /// Whether this algorithm can compute `shape`; the error says which field stops it.
    pub fn supports(self, shape: &ConvShape) -> Result<(), ConvError> {
        let fail = |reason: String| {
            Err(ConvError::Unsupported {
                algorithm: self,
                reason,
            })
        };
        match self {
            Algorithm::Direct | Algorithm::Im2col => {
                if shape.groups() != 1 {
                    return fail(format!("needs groups = 1; got groups = {}", shape.groups()));
                }
            }
            Algorithm::Winograd(_) => {
                let (r, s) = (shape.r(), shape.s());
                let (sh, sw) = shape.stride();
                let (dh, dw) = shape.dilation();
                if (r, s, sh, sw, dh, dw) != (3, 3, 1, 1, 1, 1) || shape.groups() != 1 {
                    return fail(format!(
                        "needs a 3x3 kernel, stride 1, dilation 1 and groups 1; got {r}x{s}, stride {sh}x{sw}, dilation {dh}x{dw}, groups {}",
                        shape.groups()
                    ));
                }
            }
            Algorithm::Depthwise => {
                if !shape.is_depthwise() {
                    return fail(format!(
                        "needs groups = c = k; got groups = {}, c = {}, k = {}",
                        shape.groups(),
                        shape.c(),
                        shape.k()
                    ));
                }
            }
            Algorithm::Pointwise => {
                let p = shape.padding();
                if (shape.r(), shape.s()) != (1, 1)
                    || shape.stride() != (1, 1)
                    || (p.top, p.left, p.bottom, p.right) != (0, 0, 0, 0)
                    || shape.groups() != 1
                {
                    return fail(format!(
                        "needs a 1x1 kernel, stride 1, no padding and groups 1; got {}x{}, stride {}x{}, padding {},{},{},{}, groups {}",
                        shape.r(),
                        shape.s(),
                        shape.stride().0,
                        shape.stride().1,
                        p.top,
                        p.left,
                        p.bottom,
                        p.right,
                        shape.groups()
                    ));
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Algorithm::Direct => f.write_str("Direct"),
            Algorithm::Im2col => f.write_str("Im2col"),
            Algorithm::Winograd(WinogradTile::F2x2_3x3) => f.write_str("Winograd F(2x2,3x3)"),
            Algorithm::Winograd(WinogradTile::F4x4_3x3) => f.write_str("Winograd F(4x4,3x3)"),
            Algorithm::Depthwise => f.write_str("Depthwise"),
            Algorithm::Pointwise => f.write_str("Pointwise"),
        }
    }
}

/// The activation fused into the kernel's store, after the bias.
///
/// NaN rule, identical in every variant and in the reference: `max(x, lo)` returns `lo` when `x`
/// is NaN (the x86 `maxps` rule), so ReLU, ReLU6 and Clamp map NaN to their lower bound;
/// `None` lets NaN through.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `min(max(x, min), max)`.
    Clamp {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
}

impl Activation {
    /// Checks the parameters: clamp bounds must be ordered and not NaN.
    pub fn validate(self) -> Result<(), ConvError> {
        if let Activation::Clamp { min, max } = self {
            if min.is_nan() || max.is_nan() || min > max {
                return Err(ConvError::InvalidActivation {
                    reason: format!(
                        "Clamp needs min <= max and no NaN; got min = {min}, max = {max}"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Scratch memory a kernel uses during `run`: floats and a row-pointer table.
pub(crate) struct Scratch {
    pub floats: crate::AlignedBuf,
    pub ptrs: Vec<*const f32>,
}

// SAFETY: the pointer table holds no live borrows between runs; each `run` overwrites every entry
// it reads from the slices it was given before reading it.
unsafe impl Send for Scratch {}
// SAFETY: as above; shared references to a Scratch never read the table.
unsafe impl Sync for Scratch {}

/// How much scratch a kernel needs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScratchSpec {
    pub floats: usize,
    pub ptrs: usize,
}

/// A planned convolution: packed weights and everything precomputed for one shape.
pub(crate) trait Kernel: Send + Sync {
    /// Computes `output` from `input`; both lengths are already checked against the shape.
    fn run(&self, input: &[f32], output: &mut [f32], scratch: &mut Scratch);
    fn scratch(&self) -> ScratchSpec;
}

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
    name: &'static str,
    algorithm: Algorithm,
    isa: Isa,
    kernel: Box<dyn Kernel>,
    scratch: Scratch,
}

/// Percent of the GEMM work of `v` on `shape` that is padding (rows up to a multiple of MR,
/// output channels up to a multiple of NR); `None` for tiles that are not MRxNR.
fn padding_percent(shape: &ConvShape, v: &Variant) -> Option<usize> {
    let (mr, nr) = (v.tile_mr()?, v.tile_nr()?);
    let rows = match v.algorithm() {
        Algorithm::Winograd(t) => shape.n() * shape.p().div_ceil(t.m()) * shape.q().div_ceil(t.m()),
        _ => shape.n() * shape.p() * shape.q(),
    };
    let k = shape.k();
    let work = rows * k;
    let padded = rows.div_ceil(mr) * mr * (k.div_ceil(nr) * nr);
    Some((padded - work) * 100 / work)
}

impl ConvPlan {
    /// Plans `shape` with a registered variant of `algorithm` for `isa`. Where several register
    /// tiles are registered, the pick is the tile that pads the GEMM least (rows: output pixels,
    /// or Winograd tiles, up to a multiple of MR; columns: output channels up to a multiple of
    /// NR), counting tiles within 3 percentage points of the least padding as equal; among
    /// those, the widest, then the first registered. The slack is there because a wider tile's
    /// fewer row pointers and broadcasts are worth more than padding a few rows of a large layer.
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
        let candidates = || {
            variants()
                .iter()
                .filter(move |v| v.algorithm() == algorithm && v.isa() == isa)
        };
        let least = candidates().filter_map(|v| padding_percent(shape, v)).min();
        let v = candidates()
            .filter(|v| match (padding_percent(shape, v), least) {
                (Some(p), Some(least)) => p <= least + 3,
                _ => true,
            })
            .rev()
            .max_by_key(|v| v.tile_nr())
            .ok_or(ConvError::NoVariant { algorithm, isa })?;
        v.plan(shape, weights, bias, activation)
    }

    pub(crate) fn from_kernel(
        shape: &ConvShape,
        name: &'static str,
        algorithm: Algorithm,
        isa: Isa,
        kernel: Box<dyn Kernel>,
    ) -> ConvPlan {
        let spec = kernel.scratch();
        ConvPlan {
            shape: *shape,
            name,
            algorithm,
            isa,
            kernel,
            scratch: Scratch {
                floats: crate::AlignedBuf::zeroed(spec.floats),
                ptrs: vec![std::ptr::null(); spec.ptrs],
            },
        }
    }

    /// Runs the convolution: `input` is NHWC with `shape.input_len()` floats, `output` receives
    /// `shape.output_len()` floats. Does not allocate.
    pub fn run(&mut self, input: &[f32], output: &mut [f32]) -> Result<(), ConvError> {
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
        self.kernel.run(input, output, &mut self.scratch);
        Ok(())
    }

    /// The shape this plan computes.
    pub fn shape(&self) -> &ConvShape {
        &self.shape
    }
    /// The variant's name, e.g. `direct-avx512-14x32`.
    pub fn variant_name(&self) -> &'static str {
        self.name
    }
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The instruction set.
    pub fn isa(&self) -> Isa {
        self.isa
    }
    /// Bytes of scratch memory `run` uses (im2col's bounded patch buffer, Winograd's transformed
    /// tiles, row-pointer tables); packed weights are not counted.
    pub fn scratch_bytes(&self) -> usize {
        self.scratch.floats.len() * 4 + self.scratch.ptrs.len() * std::mem::size_of::<*const f32>()
    }
}

impl fmt::Debug for ConvPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConvPlan")
            .field("variant", &self.name)
            .field("shape", &self.shape)
            .finish()
    }
}
