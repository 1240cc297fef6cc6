//! bf16 convolution: bf16 activations and weights, f32 accumulators, f32 bias and activation,
//! f32 output (oneDNN's `bf16bf16f32`). This module owns the bf16 registry ([`variants`]) and
//! [`BConvPlan`]; the drivers are the low-precision ones every family shares (`lowp/`), the lanes
//! are in `simd/bf16.rs`.
//!
//! ## Arithmetic and accuracy
//! Every product of two bf16 values is exact in f32, so a bf16 variant computes the f32
//! convolution of the bf16-rounded data with only its f32 additions rounding: the f32 bound holds
//! unchanged against the f64 reference over the same bf16 values
//! (`|y - y_ref| <= (L + 2) * 2^-24 * max(M, mean M)`, see [`crate::reference`]), whatever the
//! order of the additions. `vdpbf16ps` also treats denormal inputs as zero and flushes denormal
//! results, which adds at most `2^-126` per addition: nothing next to the bound for any data
//! whose terms are normal numbers. Against the f32 convolution of the unrounded data, the
//! rounding of the inputs (relative `2^-9` each) dominates: that is bf16's accuracy cost, which
//! the harness reports per layer.
//!
//! ## Algorithms
//! Direct and pointwise, as the indirect GEMM (`K` pairs of channels per dot-product step; an odd
//! channel count is padded with a zero channel). Grouped and depthwise layers run on the direct
//! rows (depthwise wastes half of each pair); Winograd and im2col have no bf16 form here.
//! Variants: the scalar one (pairs converted to f32, multiplied and added in f32: the portable
//! path) and AVX512_BF16's `vdpbf16ps`; a CPU without AVX512_BF16 runs the scalar rows only.

mod plan;

pub use crate::lowp::probe;
pub use plan::{variants, BConvPlan, TYPES};

use crate::Bf16;

/// `x` rounded to bf16, element by element (ties to even).
pub fn round(x: &[f32]) -> Vec<Bf16> {
    x.iter().map(|&v| Bf16::from_f32(v)).collect()
}

/// The f32 values of `x` (exact).
pub fn widen(x: &[Bf16]) -> Vec<f32> {
    x.iter().map(|v| v.to_f32()).collect()
}
