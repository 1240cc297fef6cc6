//! The bf16 registry ([`variants`]) and [`BConvPlan`], which checks everything and builds a row's
//! kernel.

use std::sync::OnceLock;

use crate::error::check_len as len;
use crate::lowp::kernel::LowpKernel;
use crate::lowp::variant::{LowpVariant, Rows};
use crate::simd::bf16::{BCols, Bf};
use crate::simd::{Act, Scalar};
use crate::{Activation, Algorithm, Bf16, ConvError, ConvShape, Types};

/// The element types of every bf16 row: bf16 activations and weights, f32 accumulators and
/// output.
pub const TYPES: Types = Bf::TYPES;

fn always() -> bool {
    true
}

/// Every bf16 variant compiled into this build.
pub fn variants() -> &'static [LowpVariant] {
    static ROWS: OnceLock<Vec<LowpVariant>> = OnceLock::new();
    ROWS.get_or_init(|| {
        #[allow(unused_mut)]
        let mut rows = vec![
            LowpVariant::gemm::<Bf, Scalar, 2, 4>(Algorithm::Direct, "scalar", always),
            LowpVariant::gemm::<Bf, Scalar, 2, 4>(Algorithm::Pointwise, "scalar", always),
        ];
        #[cfg(target_arch = "x86_64")]
        {
            use crate::simd::bf16::Avx512Bf16;
            let bf = Avx512Bf16::detected;
            rows.extend([
                LowpVariant::gemm::<Bf, Avx512Bf16, 8, 3>(Algorithm::Direct, "avx512bf16", bf),
                LowpVariant::gemm::<Bf, Avx512Bf16, 8, 3>(Algorithm::Pointwise, "avx512bf16", bf),
                LowpVariant::gemm::<Bf, Avx512Bf16, 6, 4>(Algorithm::Direct, "avx512bf16", bf),
                LowpVariant::gemm::<Bf, Avx512Bf16, 6, 4>(Algorithm::Pointwise, "avx512bf16", bf),
                LowpVariant::gemm::<Bf, Avx512Bf16, 12, 2>(Algorithm::Direct, "avx512bf16", bf),
            ]);
        }
        rows
    })
}

/// A bf16 convolution ready to run: a variant, its packed weights, bias and scratch.
///
/// ```
/// use simdconv::bf16::{round, variants, BConvPlan};
/// use simdconv::{Activation, ConvShape};
/// let shape = ConvShape::builder(1, 4, 4, 8, 8, 3, 3).pad(1).build()?;
/// let v = variants().iter().find(|v| v.name() == "bf16bf16f32-direct-scalar-2x4").unwrap();
/// let w = round(&vec![0.5; shape.weights_len()]);
/// let mut plan = BConvPlan::new(v, &shape, &w, None, Activation::None)?;
/// let mut out = vec![0.0; shape.output_len()];
/// plan.run(&round(&vec![1.5; shape.input_len()]), &mut out)?;
/// // A corner sees 2x2 real taps of 8 channels: 32 * 1.5 * 0.5.
/// assert_eq!(out[0], 24.0);
/// # Ok::<(), simdconv::ConvError>(())
/// ```
pub struct BConvPlan {
    shape: ConvShape,
    variant: &'static LowpVariant,
    kernel: Box<dyn LowpKernel<Bf>>,
}

impl BConvPlan {
    /// Plans `shape` on `variant` (a bf16 row): checks the variant runs here and supports the
    /// shape, `weights` (OHWI, `shape.weights_len()`), `bias` (`k`) and the activation.
    pub fn new(
        variant: &'static LowpVariant,
        shape: &ConvShape,
        weights: &[Bf16],
        bias: Option<&[f32]>,
        activation: Activation,
    ) -> Result<BConvPlan, ConvError> {
        let build = variant.builder::<Bf>()?;
        if !variant.is_available() {
            return Err(ConvError::IsaUnavailable { isa: variant.isa() });
        }
        variant.supports(shape)?;
        activation.validate()?;
        len("weights", shape.weights_len(), weights.len())?;
        if let Some(b) = bias {
            len("bias", shape.k(), b.len())?;
        }
        let cols = BCols {
            bias: bias.map_or_else(|| vec![0.0; shape.k()], <[f32]>::to_vec),
            act: Act::from_activation(activation),
        };
        let kernel = build(shape, weights, &cols, Bf16::default())?;
        Ok(BConvPlan {
            shape: *shape,
            variant,
            kernel,
        })
    }

    /// The variant planned.
    pub fn variant(&self) -> &'static LowpVariant {
        self.variant
    }

    /// Computes the output (NHWC f32).
    pub fn run(&mut self, input: &[Bf16], output: &mut [f32]) -> Result<(), ConvError> {
        len("input", self.shape.input_len(), input.len())?;
        len("output", self.shape.output_len(), output.len())?;
        self.kernel.run(input, output, None)
    }

    /// [`BConvPlan::run`] with the output rows split over `pool` (bit-identical to `run`; a layer
    /// under twice [`DEFAULT_GRAIN_FLOPS`](crate::DEFAULT_GRAIN_FLOPS) stays on the caller's
    /// thread).
    pub fn run_parallel(
        &mut self,
        input: &[Bf16],
        output: &mut [f32],
        pool: &rayon::ThreadPool,
    ) -> Result<(), ConvError> {
        len("input", self.shape.input_len(), input.len())?;
        len("output", self.shape.output_len(), output.len())?;
        self.kernel.run(input, output, Some(pool))
    }
}
