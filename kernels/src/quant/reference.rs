//! The int8 oracle: exact accumulators in i64 by a naive loop over every output and tap, and the
//! ideal requantization in f64. The kernels' accumulators must equal [`conv_acc`]'s exactly;
//! their outputs must equal [`requantize`] of those accumulators byte for byte, and lie within 1
//! of [`requantize_ideal`] (see the module docs of `quant`).

use super::params::QuantParams;
use crate::simd::int8::Requant;
use crate::ConvShape;

/// `bias[k] + sum (x - input_zero) * w` for every output (NHWC), padding taps skipped.
/// Lengths must match the shape (the caller's duty: this is the oracle, not an API).
pub fn conv_acc(
    shape: &ConvShape,
    input: &[u8],
    input_zero: u8,
    weights: &[i8],
    bias: Option<&[i32]>,
) -> Vec<i64> {
    let (h, w, c, k) = (shape.h(), shape.w(), shape.c(), shape.k());
    let (r, s, cg, kg) = (
        shape.r(),
        shape.s(),
        shape.c_per_group(),
        shape.k_per_group(),
    );
    let ((sh, sw), (dh, dw), pad) = (shape.stride(), shape.dilation(), shape.padding());
    let mut out = Vec::with_capacity(shape.output_len());
    for b in 0..shape.n() {
        for oy in 0..shape.p() {
            for ox in 0..shape.q() {
                for ko in 0..k {
                    let g = ko / kg;
                    let mut acc = bias.map_or(0, |v| i64::from(v[ko]));
                    for ry in 0..r {
                        let iy = (oy * sh + ry * dh) as isize - pad.top as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        for sx in 0..s {
                            let ix = (ox * sw + sx * dw) as isize - pad.left as isize;
                            if ix < 0 || ix >= w as isize {
                                continue;
                            }
                            let px = ((b * h + iy as usize) * w + ix as usize) * c + g * cg;
                            let wk = ((ko * r + ry) * s + sx) * cg;
                            for ci in 0..cg {
                                let x = i64::from(input[px + ci]) - i64::from(input_zero);
                                acc += x * i64::from(weights[wk + ci]);
                            }
                        }
                    }
                    out.push(acc);
                }
            }
        }
    }
    out
}

/// The recipe every kernel follows (f32 arithmetic), on one accumulator of channel `k`.
pub fn requantize(params: &QuantParams, k: usize, acc: i32) -> u8 {
    recipe(params).one(acc, params.multiplier(k))
}

/// `round_half_even(acc * x_scale * w_scale[k] / y_scale) + y_zero`, clamped, in f64.
pub fn requantize_ideal(params: &QuantParams, k: usize, acc: i64) -> u8 {
    let m = f64::from(params.input_scale) * f64::from(params.weight_scale(k))
        / f64::from(params.output_scale);
    let v = (acc as f64 * m).round_ties_even() + f64::from(params.output_zero);
    v.clamp(f64::from(params.output_min), f64::from(params.output_max)) as u8
}

/// The per-layer requantization constants of `params`.
pub(crate) fn recipe(params: &QuantParams) -> Requant {
    let z = f32::from(params.output_zero);
    Requant {
        lo: f32::from(params.output_min) - z,
        hi: f32::from(params.output_max) - z,
        zero: i32::from(params.output_zero),
    }
}
