//! The oracle: a deliberately naive convolution with f64 accumulation that handles everything a
//! [`ConvShape`] can say, and the tolerance every other kernel is held to.
//!
//! ## Tolerance
//! Errors are measured relative to the magnitude `M = sum |x * w| + |bias|` of the terms that
//! make up each output (computed here, in f64), so the bound does not depend on cancellation,
//! floored at the mean `M` of the layer (see [`max_relative_error`]):
//!
//! `|y - y_ref| <= tolerance(shape, algorithm) * max(M, mean M)`, with
//! `tolerance = (L + 2) * 2^-24 * g(algorithm)` and `L = (c/groups) * r * s`.
//!
//! For a sum of `L` products in f32, in any order, with or without FMA, the classic bound is
//! `gamma_L = L * u / (1 - L * u)` with `u = 2^-24` (Higham, *Accuracy and Stability of Numerical
//! Algorithms*, 3.1); one more rounding for the bias and one for the reference's own rounding to
//! f32 give `L + 2`. So `g = 1` for direct, im2col, depthwise and pointwise: a rigorous bound.
//!
//! Winograd evaluates a different sum (transformed inputs and weights, then an inverse transform)
//! whose intermediate values exceed `M`; its `g` is empirical: the worst ratio observed by
//! `tests/sweep.rs` over its whole sweep, times a margin.
//! Measured (max error / ((L + 2) * 2^-24 * M), all shapes of the sweep, all ISAs):
//! F(2x2,3x3): 0.21, F(4x4,3x3): 4.7, F(4x4,3x3) with {0, -1, 1, 1/2, -2}: 1.35, F(6x6,3x3):
//! 8.3, F(6x6,3x3) with integer points: 473 (direct, im2col, pointwise: 0.31; depthwise: 0.25)
//! (see [`winograd_factor`]).

use crate::simd::Act;
use crate::{Activation, Algorithm, ConvError, ConvShape, WinogradTile};

/// `g` for Winograd F(2x2,3x3) (measured worst 0.21; margin ~10).
pub const WINOGRAD_F2_FACTOR: f64 = 2.0;
/// `g` for Winograd F(4x4,3x3) (measured worst 4.7; margin ~4).
pub const WINOGRAD_F4_FACTOR: f64 = 20.0;
/// `g` for Winograd F(4x4,3x3) with points {0, -1, 1, 1/2, -2} (measured worst 1.35; margin ~4).
pub const WINOGRAD_F4_HALF_FACTOR: f64 = 6.0;
/// `g` for Winograd F(6x6,3x3) with points {0, ±1, ±2, ±1/2} (measured worst 8.3; margin ~4).
pub const WINOGRAD_F6_FACTOR: f64 = 35.0;
/// `g` for Winograd F(6x6,3x3) with points {0, ±1, ±2, ±3} (measured worst 473; margin ~4).
pub const WINOGRAD_F6_INTEGER_FACTOR: f64 = 2000.0;

/// `g` of a Winograd tile (see the module docs).
pub fn winograd_factor(tile: WinogradTile) -> f64 {
    match tile {
        WinogradTile::F2x2_3x3 => WINOGRAD_F2_FACTOR,
        WinogradTile::F4x4_3x3 => WINOGRAD_F4_FACTOR,
        WinogradTile::F4x4_3x3Half => WINOGRAD_F4_HALF_FACTOR,
        WinogradTile::F6x6_3x3 => WINOGRAD_F6_FACTOR,
        WinogradTile::F6x6_3x3Integer => WINOGRAD_F6_INTEGER_FACTOR,
    }
}

/// The allowed error relative to each output's term magnitude (see the module docs).
pub fn tolerance(shape: &ConvShape, algorithm: Algorithm) -> f64 {
    let l = shape.reduction_len() as f64;
    let g = match algorithm {
        Algorithm::Winograd(t) => winograd_factor(t),
        Algorithm::Direct | Algorithm::Im2col | Algorithm::Depthwise | Algorithm::Pointwise => 1.0,
    };
    (l + 2.0) * f64::from(f32::EPSILON) / 2.0 * g
}

/// Computes the convolution. Weights are OHWI (`k x r x s x c/groups`), bias has `k` entries.
pub fn conv(
    shape: &ConvShape,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    activation: Activation,
) -> Result<Vec<f32>, ConvError> {
    conv_with_magnitude(shape, input, weights, bias, activation).map(|(y, _)| y)
}

/// Computes the convolution and, per output, the term magnitude `sum |x * w| + |bias|`.
pub fn conv_with_magnitude(
    shape: &ConvShape,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    activation: Activation,
) -> Result<(Vec<f32>, Vec<f64>), ConvError> {
    activation.validate()?;
    let check = crate::error::check_len;
    check("input", shape.input_len(), input.len())?;
    check("weights", shape.weights_len(), weights.len())?;
    if let Some(b) = bias {
        check("bias", shape.k(), b.len())?;
    }
    let act = Act::from_activation(activation);
    let (p, q, k) = (shape.p(), shape.q(), shape.k());
    let per_k = shape.weights_len() / k.max(1);
    let mut out = vec![0.0f32; shape.output_len()];
    let mut mag = vec![0.0f64; shape.output_len()];
    for b in 0..shape.n() {
        for oy in 0..p {
            for ox in 0..q {
                for ko in 0..k {
                    let wk = &weights[ko * per_k..][..per_k];
                    let (acc, m) = output_sum(
                        shape,
                        input,
                        wk,
                        ko / shape.k_per_group(),
                        bias.map(|b| b[ko]),
                        (b, oy, ox),
                    );
                    let idx = ((b * p + oy) * q + ox) * k + ko;
                    out[idx] = act.apply_f32(acc as f32);
                    mag[idx] = m;
                }
            }
        }
    }
    Ok((out, mag))
}

/// One output before its activation, by the reference's rule, in f64: the real taps of pixel
/// `(b, oy, ox)` (padding taps skipped, not multiplied by zero) with `wk`, one output channel's
/// `R*S*C/groups` weights in group `g`, then `bias`; and the term magnitude `sum |x w| + |bias|`.
pub(crate) fn output_sum(
    shape: &ConvShape,
    input: &[f32],
    wk: &[f32],
    g: usize,
    bias: Option<f32>,
    (b, oy, ox): (usize, usize, usize),
) -> (f64, f64) {
    let (h, w, c) = (shape.h(), shape.w(), shape.c());
    let (r, s, cg) = (shape.r(), shape.s(), shape.c_per_group());
    let (sh, sw) = shape.stride();
    let (dh, dw) = shape.dilation();
    let pad = shape.padding();
    let (mut acc, mut m) = (0.0f64, 0.0f64);
    for ky in 0..r {
        // Input row = oy*sh + ky*dh - top; outside [0, h) is padding.
        let Some(iy) = (oy * sh + ky * dh).checked_sub(pad.top).filter(|&y| y < h) else {
            continue;
        };
        for kx in 0..s {
            let Some(ix) = (ox * sw + kx * dw).checked_sub(pad.left).filter(|&x| x < w) else {
                continue;
            };
            let x = &input[((b * h + iy) * w + ix) * c + g * cg..][..cg];
            for (&xv, &wv) in x.iter().zip(&wk[(ky * s + kx) * cg..][..cg]) {
                let t = f64::from(xv) * f64::from(wv);
                acc += t;
                m += t.abs();
            }
        }
    }
    if let Some(bv) = bias {
        acc += f64::from(bv);
        m += f64::from(bv).abs();
    }
    (acc, m)
}

/// The largest error of `got` against `want`, each relative to `max(mag_i, mean(mag))`
/// (infinite where exactly one of the two is NaN or infinite, or where the three lengths
/// differ: then the outputs cannot be compared, and infinity fails every tolerance).
///
/// The floor at the mean magnitude matters for Winograd, whose error at an output comes from its
/// whole input tile, not only from that output's own terms (an output whose receptive field is
/// all padding is exactly zero in direct form but a rounding residue in Winograd form).
pub fn max_relative_error(got: &[f32], want: &[f32], mag: &[f64]) -> f64 {
    if got.len() != want.len() || got.len() != mag.len() {
        return f64::INFINITY;
    }
    let finite: Vec<f64> = mag.iter().copied().filter(|m| m.is_finite()).collect();
    let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    let mut worst = 0.0f64;
    for ((&g, &w), &m) in got.iter().zip(want).zip(mag) {
        let e = if g == w || (g.is_nan() && w.is_nan()) {
            0.0
        } else if !g.is_finite() || !w.is_finite() {
            f64::INFINITY
        } else {
            let d = (f64::from(g) - f64::from(w)).abs();
            let m = m.max(mean);
            if m > 0.0 {
                d / m
            } else {
                f64::INFINITY
            }
        };
        worst = worst.max(e);
    }
    worst
}
