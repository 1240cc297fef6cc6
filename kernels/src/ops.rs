//! The small ops CNN blocks need besides convolutions, NHWC f32: max-pooling, residual add and
//! concatenation along channels. Pooling and add are vectorised over channels with the same ISA
//! variants as the kernels (they are memory-bound, so the win is modest); concatenation is a copy.
//! Every function checks its lengths and returns a `ConvError` naming the buffer on a mismatch.

use crate::error::{check_len as check, product};
use crate::simd::{Simd, WithSimd};
use crate::{ConvError, Isa};

/// Geometry of a max-pool: NHWC input `n x h x w x c`, square window, stride, equal padding
/// (padding never wins the max).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// Batch.
    pub n: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Channels.
    pub c: usize,
    /// Window edge.
    pub window: usize,
    /// Stride.
    pub stride: usize,
    /// Padding on every side.
    pub pad: usize,
}

impl Pool {
    /// Output height and width.
    pub fn out_hw(&self) -> Result<(usize, usize), ConvError> {
        let bad = |field, value, reason: &str| ConvError::InvalidShape {
            field,
            value,
            reason: reason.into(),
        };
        if self.window == 0 || self.stride == 0 {
            return Err(bad(
                "window",
                self.window,
                "window and stride must be at least 1",
            ));
        }
        if self.pad >= self.window {
            return Err(bad(
                "pad",
                self.pad,
                "padding must be smaller than the window",
            ));
        }
        let padded = |x: usize, field| {
            self.pad
                .checked_mul(2)
                .and_then(|p| p.checked_add(x))
                .ok_or(ConvError::Overflow { what: field })
        };
        let (ph, pw) = (
            padded(self.h, "pool padded height H + 2*pad")?,
            padded(self.w, "pool padded width W + 2*pad")?,
        );
        if ph < self.window || pw < self.window {
            return Err(bad(
                "window",
                self.window,
                "window larger than the padded input",
            ));
        }
        Ok((
            (ph - self.window) / self.stride + 1,
            (pw - self.window) / self.stride + 1,
        ))
    }
    /// Input floats (an error if N*H*W*C overflows).
    pub fn input_len(&self) -> Result<usize, ConvError> {
        product(
            &[self.n, self.h, self.w, self.c],
            "pool input length N*H*W*C",
        )
    }
    /// Output floats.
    pub fn output_len(&self) -> Result<usize, ConvError> {
        let (p, q) = self.out_hw()?;
        product(&[self.n, p, q, self.c], "pool output length N*P*Q*C")
    }
}

/// Max-pooling with `isa`'s vectors.
pub fn max_pool(isa: Isa, pool: &Pool, input: &[f32], output: &mut [f32]) -> Result<(), ConvError> {
    check("input", pool.input_len()?, input.len())?;
    check("output", pool.output_len()?, output.len())?;
    isa.dispatch(PoolBody {
        pool,
        input,
        output,
    })
    .ok_or(ConvError::IsaUnavailable { isa })
}

/// `out = a + b` elementwise (the residual add), with `isa`'s vectors.
pub fn add(isa: Isa, a: &[f32], b: &[f32], out: &mut [f32]) -> Result<(), ConvError> {
    check("b", a.len(), b.len())?;
    check("output", a.len(), out.len())?;
    isa.dispatch(AddBody { a, b, out })
        .ok_or(ConvError::IsaUnavailable { isa })
}

/// Concatenates NHWC tensors of `pixels` pixels along channels: `parts[i]` has `channels[i]`
/// channels; `out` has their sum.
pub fn concat_channels(
    parts: &[&[f32]],
    channels: &[usize],
    pixels: usize,
    out: &mut [f32],
) -> Result<(), ConvError> {
    if parts.len() != channels.len() {
        return Err(ConvError::BufferLength {
            buffer: "channels",
            expected: parts.len(),
            got: channels.len(),
        });
    }
    let total = channels
        .iter()
        .try_fold(0usize, |acc, &c| acc.checked_add(c))
        .ok_or(ConvError::Overflow {
            what: "concatenated channels",
        })?;
    for (p, &c) in parts.iter().zip(channels) {
        check(
            "part",
            product(&[pixels, c], "part length pixels*channels")?,
            p.len(),
        )?;
    }
    check(
        "output",
        product(&[pixels, total], "output length pixels*channels")?,
        out.len(),
    )?;
    for (px, dst) in out.chunks_exact_mut(total.max(1)).enumerate().take(pixels) {
        let mut at = 0;
        for (p, &c) in parts.iter().zip(channels) {
            dst[at..at + c].copy_from_slice(&p[px * c..(px + 1) * c]);
            at += c;
        }
    }
    Ok(())
}

struct PoolBody<'a> {
    pool: &'a Pool,
    input: &'a [f32],
    output: &'a mut [f32],
}

impl WithSimd for PoolBody<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        pool_body(s, self.pool, self.input, self.output)
    }
}

struct AddBody<'a> {
    a: &'a [f32],
    b: &'a [f32],
    out: &'a mut [f32],
}

impl WithSimd for AddBody<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        add_body(s, self.a, self.b, self.out)
    }
}

#[inline(always)]
fn pool_body<S: Simd>(s: S, pool: &Pool, input: &[f32], output: &mut [f32]) {
    let (p, q) = pool.out_hw().expect("checked by the caller");
    let c = pool.c;
    let lanes = S::LANES;
    // The input rows (columns) under output row `o`'s window, in input coordinates: the window
    // clipped to the image, so the cost follows the taps that exist, never the window's size.
    let taps = |o: usize, len: usize| {
        let start = o * pool.stride;
        let lo = start.max(pool.pad);
        let hi = start
            .saturating_add(pool.window)
            .min(pool.pad.saturating_add(len));
        if hi > lo {
            (lo - pool.pad)..(hi - pool.pad)
        } else {
            0..0
        }
    };
    for b in 0..pool.n {
        for oy in 0..p {
            for ox in 0..q {
                let dst = &mut output[((b * p + oy) * q + ox) * c..][..c];
                for c0 in (0..c).step_by(lanes) {
                    let n = lanes.min(c - c0);
                    let mut m = s.splat(f32::NEG_INFINITY);
                    for y in taps(oy, pool.h) {
                        for x in taps(ox, pool.w) {
                            let src = &input[((b * pool.h + y) * pool.w + x) * c + c0..][..n];
                            // SAFETY: `src` is a checked slice of n <= LANES floats.
                            let v = unsafe {
                                if n == lanes {
                                    s.load(src.as_ptr())
                                } else {
                                    s.load_n(src.as_ptr(), n)
                                }
                            };
                            // max(v, m): a NaN input wins only where the reference's rule says.
                            m = s.max(v, m);
                        }
                    }
                    let d = &mut dst[c0..c0 + n];
                    // SAFETY: `d` is a checked slice of n <= LANES floats.
                    unsafe {
                        if n == lanes {
                            s.store(d.as_mut_ptr(), m)
                        } else {
                            s.store_n(d.as_mut_ptr(), m, n)
                        }
                    }
                }
            }
        }
    }
}

#[inline(always)]
fn add_body<S: Simd>(s: S, a: &[f32], b: &[f32], out: &mut [f32]) {
    let lanes = S::LANES;
    for ((x, y), o) in a
        .chunks(lanes)
        .zip(b.chunks(lanes))
        .zip(out.chunks_mut(lanes))
    {
        let n = x.len();
        // SAFETY: the three chunks are checked slices of n <= LANES floats.
        unsafe {
            if n == lanes {
                s.store(
                    o.as_mut_ptr(),
                    s.add(s.load(x.as_ptr()), s.load(y.as_ptr())),
                );
            } else {
                s.store_n(
                    o.as_mut_ptr(),
                    s.add(s.load_n(x.as_ptr(), n), s.load_n(y.as_ptr(), n)),
                    n,
                );
            }
        }
    }
}
