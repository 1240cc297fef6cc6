//! Quantized (int8) convolution: u8 activations with a zero point, s8 weights with a scale per
//! output channel, i32 accumulators, i32 bias, requantized to u8 (ONNX `QLinearConv`,
//! XNNPACK's QU8, oneDNN's u8s8u8). This module owns the parameters, the exact reference, the
//! int8 depthwise driver, the int8 registry ([`variants`]) and [`QConvPlan`]; the GEMM driver and
//! the ceiling probe are the ones bf16 shares (`lowp/`).
//!
//! ## Arithmetic
//! `acc[k] = bias[k] + sum (x - x_zero) * w` over the real taps (padding is `x_zero`, so it adds
//! nothing), exact in i32: a plan refuses a layer whose accumulators could overflow. The kernels
//! compute `sum x * w` plus a bias folded at planning (`bias - x_zero * sum w`), the same integer.
//!
//! ## Requantization
//! `y = clamp(round_half_even(f32(acc) * m[k]), out_min - y_zero, out_max - y_zero) + y_zero`,
//! with `m[k] = x_scale * w_scale[k] / y_scale` rounded once to f32 (XNNPACK's "fp32" recipe;
//! the clamp is done before the rounding, in f32, which gives the same result). Every variant
//! does these operations in this order, so all give the same bytes (tested). Against the ideal
//! `round(acc * m)` in exact arithmetic the result differs by at most 1: `f32(acc)` is exact
//! below 2^24, and the two roundings (of `m` and of the product) move the value by under
//! `2^-23` relative, which changes the rounded result only next to a midpoint.
//! Activations are the output bounds: ReLU is `out_min = y_zero`, ReLU6 also
//! `out_max = y_zero + round(6 / y_scale)` ([`QuantParams::with_activation`]).
//!
//! ## Limits
//! A layer whose accumulators could leave i32 (about 32,000 taps per output) is refused, and so
//! is padding so far beyond the image that the padded copy would be over 64 times the input.
//!
//! ## Algorithms
//! Direct (and pointwise, its one-tap case) is an indirect GEMM over the NHWC input (a padded
//! copy where there is padding, a channel count the dot product's group does not divide, or the
//! ISA multiplies i16); grouped layers run each group's channels as one GEMM. Depthwise has its
//! own row kernel. Winograd has no int8 form here: its transforms multiply inputs by fractions
//! and grow them (by up to 4x per axis for F(2x2,3x3), 100x for F(4x4,3x3)), so transformed
//! values no longer fit in 8 bits without a further loss the f32 form does not have.

mod depthwise;
mod params;
mod plan;
pub mod reference;

pub use crate::lowp::probe;
pub use params::QuantParams;
pub use plan::{variants, QConvPlan, QVariant, TYPES};
