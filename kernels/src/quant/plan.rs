//! The int8 registry ([`variants`]: one row per algorithm, ISA and tile, as the f32 one) and
//! [`QConvPlan`], which checks everything, folds the bias and builds a row's kernel.

use std::sync::OnceLock;

use super::depthwise;
use super::params::QuantParams;
use super::reference::recipe;
use crate::error::check_len as len;
use crate::lowp::kernel::LowpKernel;
use crate::lowp::variant::{LowpVariant, Rows};
use crate::simd::int8::{Int8, QCols, QOut, Q8};
use crate::simd::Scalar;
use crate::{Algorithm, ConvError, ConvShape, Tile, Types};

/// An int8 row of the registry.
pub type QVariant = LowpVariant;

/// The element types of every int8 row: u8 activations, s8 weights, s32 accumulators.
pub const TYPES: Types = Q8::TYPES;

fn gemm<S: crate::simd::dot::Dot<Q8>, const MR: usize, const NV: usize>(
    algorithm: Algorithm,
    label: &'static str,
    available: fn() -> bool,
) -> QVariant {
    LowpVariant::gemm::<Q8, S, MR, NV>(algorithm, label, available)
}

fn depthwise<S: Int8>(label: &'static str, available: fn() -> bool) -> QVariant {
    let tile = Tile::Channels(S::LANES);
    let build = depthwise::build::<S>;
    LowpVariant::new::<Q8>(Algorithm::Depthwise, S::ISA, label, tile, available, build)
}

fn always() -> bool {
    true
}

/// Every int8 variant compiled into this build.
pub fn variants() -> &'static [QVariant] {
    static ROWS: OnceLock<Vec<QVariant>> = OnceLock::new();
    ROWS.get_or_init(|| {
        #[allow(unused_mut)]
        let mut rows = vec![
            gemm::<Scalar, 2, 4>(Algorithm::Direct, "scalar", always),
            gemm::<Scalar, 2, 4>(Algorithm::Pointwise, "scalar", always),
            depthwise::<Scalar>("scalar", always),
        ];
        #[cfg(target_arch = "aarch64")]
        {
            use crate::simd::neon::Neon;
            rows.extend([
                gemm::<Neon, 8, 3>(Algorithm::Direct, "neon", always),
                gemm::<Neon, 8, 3>(Algorithm::Pointwise, "neon", always),
                depthwise::<Neon>("neon", always),
            ]);
        }
        #[cfg(target_arch = "x86_64")]
        {
            use crate::simd::avx2::Avx2;
            use crate::simd::int8::{Avx512Vnni, AvxVnni};
            let avx2 = || crate::Isa::Avx2.is_available();
            rows.extend([
                gemm::<Avx2, 6, 2>(Algorithm::Direct, "avx2", avx2),
                gemm::<Avx2, 6, 2>(Algorithm::Pointwise, "avx2", avx2),
                depthwise::<Avx2>("avx2", avx2),
                gemm::<AvxVnni, 6, 2>(Algorithm::Direct, "avxvnni", AvxVnni::detected),
                gemm::<AvxVnni, 6, 2>(Algorithm::Pointwise, "avxvnni", AvxVnni::detected),
                gemm::<Avx512Vnni, 8, 3>(Algorithm::Direct, "avx512vnni", Avx512Vnni::detected),
                gemm::<Avx512Vnni, 8, 3>(Algorithm::Pointwise, "avx512vnni", Avx512Vnni::detected),
                gemm::<Avx512Vnni, 6, 4>(Algorithm::Direct, "avx512vnni", Avx512Vnni::detected),
                gemm::<Avx512Vnni, 6, 4>(Algorithm::Pointwise, "avx512vnni", Avx512Vnni::detected),
                gemm::<Avx512Vnni, 12, 2>(Algorithm::Direct, "avx512vnni", Avx512Vnni::detected),
                depthwise::<Avx512Vnni>("avx512vnni", Avx512Vnni::detected),
            ]);
        }
        rows
    })
}

/// An int8 convolution ready to run: a variant, its packed weights, folded bias and scratch.
///
/// ```
/// use simdconv::quant::{variants, QConvPlan, QuantParams};
/// use simdconv::ConvShape;
/// let shape = ConvShape::builder(1, 4, 4, 8, 8, 3, 3).pad(1).build()?;
/// let v = variants().iter().find(|v| v.name() == "u8s8u8-direct-scalar-2x4").unwrap();
/// let q = QuantParams::per_tensor(0.5, 10, 0.25, 1.0, 3);
/// let mut plan = QConvPlan::new(v, &shape, &vec![1i8; shape.weights_len()], None, &q)?;
/// let mut out = vec![0u8; shape.output_len()];
/// plan.run(&vec![12u8; shape.input_len()], &mut out)?;
/// // A corner sees 2x2 real taps of 8 channels: 32 * (12 - 10) * 1 * (0.5 * 0.25 / 1) + 3.
/// assert_eq!(out[0], 11);
/// # Ok::<(), simdconv::ConvError>(())
/// ```
pub struct QConvPlan {
    shape: ConvShape,
    variant: &'static QVariant,
    kernel: Box<dyn LowpKernel<Q8>>,
}

impl QConvPlan {
    /// Plans `shape` on `variant`: checks the variant runs here and supports the shape, the
    /// parameters, `weights` (OHWI, `shape.weights_len()`), `bias` (`k`, in units of
    /// `input_scale * weight_scale[k]`), and that no accumulator can overflow i32.
    pub fn new(
        variant: &'static QVariant,
        shape: &ConvShape,
        weights: &[i8],
        bias: Option<&[i32]>,
        params: &QuantParams,
    ) -> Result<QConvPlan, ConvError> {
        let build = variant.builder::<Q8>()?;
        if !variant.is_available() {
            return Err(ConvError::IsaUnavailable { isa: variant.isa() });
        }
        variant.supports(shape)?;
        params.validate(shape.k())?;
        len("weights", shape.weights_len(), weights.len())?;
        if let Some(b) = bias {
            len("bias", shape.k(), b.len())?;
        }
        let cols = prepare(shape, weights, bias, params)?;
        let kernel = build(shape, weights, &cols, params.input_zero)?;
        Ok(QConvPlan {
            shape: *shape,
            variant,
            kernel,
        })
    }

    /// The variant planned.
    pub fn variant(&self) -> &'static QVariant {
        self.variant
    }

    /// Computes the requantized output (NHWC u8).
    pub fn run(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), ConvError> {
        len("input", self.shape.input_len(), input.len())?;
        len("output", self.shape.output_len(), output.len())?;
        self.kernel.run(input, QOut::U8(output), None)
    }

    /// [`QConvPlan::run`] with the output rows split over `pool` (bit-identical to `run`; a
    /// layer under twice [`DEFAULT_GRAIN_FLOPS`](crate::DEFAULT_GRAIN_FLOPS) stays on the caller's thread).
    pub fn run_parallel(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        pool: &rayon::ThreadPool,
    ) -> Result<(), ConvError> {
        len("input", self.shape.input_len(), input.len())?;
        len("output", self.shape.output_len(), output.len())?;
        self.kernel.run(input, QOut::U8(output), Some(pool))
    }

    /// Computes the i32 accumulators, bias included, before requantization (what the exact
    /// reference is compared with).
    pub fn run_accumulators(&mut self, input: &[u8], output: &mut [i32]) -> Result<(), ConvError> {
        len("input", self.shape.input_len(), input.len())?;
        len("output", self.shape.output_len(), output.len())?;
        self.kernel.run(input, QOut::I32(output), None)
    }
}

/// Folds `-x_zero * sum w` into the bias, computes the multipliers, and refuses a layer whose
/// accumulators (or any partial sum) could leave i32.
fn prepare(
    shape: &ConvShape,
    weights: &[i8],
    bias: Option<&[i32]>,
    params: &QuantParams,
) -> Result<QCols, ConvError> {
    let l = shape.reduction_len();
    let zero = i64::from(params.input_zero);
    let max_bias = bias.map_or(0, |b| {
        b.iter().map(|&x| i64::from(x).abs()).max().unwrap_or(0)
    });
    // |sum x * w| <= 255 * 128 * l, and the folded bias adds at most as much again.
    let bound = (l as i64)
        .saturating_mul(2 * 255 * 128)
        .saturating_add(max_bias);
    if bound > i64::from(i32::MAX) {
        return Err(ConvError::InvalidShape {
            field: "reduction length (c/groups)*r*s",
            value: l,
            reason: format!(
                "int8 accumulators could reach {bound} with |bias| up to {max_bias}, beyond i32 (the limit is about 32,000 taps)"
            ),
        });
    }
    let folded = (0..shape.k())
        .map(|k| {
            let sum: i64 = weights[k * l..(k + 1) * l]
                .iter()
                .map(|&w| i64::from(w))
                .sum();
            (bias.map_or(0, |b| i64::from(b[k])) - zero * sum) as i32
        })
        .collect();
    Ok(QCols {
        bias: folded,
        scale: (0..shape.k()).map(|k| params.multiplier(k)).collect(),
        q: recipe(params),
    })
}
