//! Depthwise convolution (groups = c = k): the driver and the generic row body.
//!
//! Vectorised across channels (contiguous in NHWC), one vector of channels at a time, walking an
//! output row with that vector's taps held in registers. The driver hands the microkernel one
//! output row with R input-row pointers; kernel rows that fall in the vertical padding point at a
//! zero row, so only the left and right borders need checks, and those run in a separate loop:
//! the interior loop has no branches. 3x3 and 5x5 are unrolled at compile time (const generics);
//! other sizes, strides and dilations take the same loop with run-time tap counts. Memory-bound:
//! judge it against the bandwidth roof, not the FMA roof.

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
#[cfg(target_arch = "aarch64")]
pub(crate) mod neon;
pub(crate) mod portable;
pub(crate) mod scalar;

use crate::plan::{Kernel, Scratch, ScratchSpec};
use crate::simd::{Act, Simd};
use crate::{AlignedBuf, ConvShape};

/// One output row of one image, all channels.
pub(crate) struct DwRow {
    /// `[r]` pointers to the start (x = 0, c = 0) of the input row each kernel row reads; each has
    /// `w * c` readable floats (a zero row in the vertical padding).
    pub rows: *const *const f32,
    /// Packed weights `[ceil(c / L)][r][s][L]`, zero-padded lanes.
    pub w: *const f32,
    /// Packed bias `[ceil(c / L)][L]` (zeros without bias).
    pub bias: *const f32,
    /// Output row start: `q * c` writable floats.
    pub out: *mut f32,
    pub c: usize,
    pub q: usize,
    pub w_in: usize,
    pub r: usize,
    pub s: usize,
    pub stride: usize,
    pub dil: usize,
    pub left: usize,
    /// Output columns `x_lo .. x_hi` read only inside the row: no column checks.
    pub x_lo: usize,
    pub x_hi: usize,
    pub act: Act,
}

/// One ISA's row microkernel and its channel tile.
#[derive(Clone, Copy)]
pub(crate) struct DwUkernel {
    pub lanes: usize,
    pub row: unsafe fn(&DwRow),
}

/// The generic row body.
///
/// # Safety
/// The pointer contracts documented on [`DwRow`]; `x_lo <= x_hi <= q`, and for `x_lo <= ox <
/// x_hi` every tap column `ox * stride + s * dil - left` lies in `0 .. w_in`.
#[inline(always)]
pub(crate) unsafe fn row<S: Simd>(s: S, a: &DwRow) {
    match (a.r, a.s) {
        (3, 3) => row_taps::<S, 3, 3>(s, a),
        (5, 5) => row_taps::<S, 5, 5>(s, a),
        _ => row_taps::<S, 0, 0>(s, a),
    }
}

/// Loads `n` lanes (all of them when `n == LANES`).
#[inline(always)]
unsafe fn ld<S: Simd>(s: S, p: *const f32, n: usize) -> S::V {
    if n == S::LANES {
        s.load(p)
    } else {
        s.load_n(p, n)
    }
}

/// Stores `n` lanes (all of them when `n == LANES`).
#[inline(always)]
unsafe fn st<S: Simd>(s: S, p: *mut f32, v: S::V, n: usize) {
    if n == S::LANES {
        s.store(p, v)
    } else {
        s.store_n(p, v, n)
    }
}

/// One output pixel of one channel vector with every tap's column checked (the border path).
///
/// # Safety
/// As [`row`]; `wp` points at this channel block's `r * sk` packed taps.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn border_pixel<S: Simd>(
    s: S,
    a: &DwRow,
    wp: *const f32,
    bias: S::V,
    c0: usize,
    n: usize,
    r: usize,
    sk: usize,
    ox: usize,
) {
    let mut acc = bias;
    for ky in 0..r {
        for kx in 0..sk {
            let x = (ox * a.stride + kx * a.dil) as isize - a.left as isize;
            if x >= 0 && (x as usize) < a.w_in {
                let p = (*a.rows.add(ky)).add(x as usize * a.c + c0);
                acc = s.fma(ld(s, p, n), s.load(wp.add((ky * sk + kx) * S::LANES)), acc);
            }
        }
    }
    st(s, a.out.add(ox * a.c + c0), a.act.apply(s, acc), n);
}

/// `R`, `SK` > 0: taps known at compile time (fully unrolled, held in registers); 0: run time.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // ky/kx index both the taps and the row pointers
unsafe fn row_taps<S: Simd, const R: usize, const SK: usize>(s: S, a: &DwRow) {
    let lanes = S::LANES;
    let (r, sk) = if R > 0 { (R, SK) } else { (a.r, a.s) };
    let blocks = a.c.div_ceil(lanes);
    for cb in 0..blocks {
        let c0 = cb * lanes;
        let n = lanes.min(a.c - c0);
        let wp = a.w.add(cb * r * sk * lanes);
        let bias = s.load(a.bias.add(cb * lanes));
        for ox in 0..a.x_lo {
            border_pixel(s, a, wp, bias, c0, n, r, sk, ox);
        }
        if R > 0 {
            // Taps in registers for the whole row.
            let mut wt = [[s.zero(); SK]; R];
            for ky in 0..R {
                for kx in 0..SK {
                    wt[ky][kx] = s.load(wp.add((ky * SK + kx) * lanes));
                }
            }
            let mut rows = [std::ptr::null::<f32>(); R];
            for ky in 0..R {
                rows[ky] = (*a.rows.add(ky)).add(c0);
            }
            let ox0 = a.x_lo;
            if n == lanes {
                for ox in ox0..a.x_hi {
                    let x0 = ox * a.stride - a.left;
                    // One accumulator per kernel row: R short FMA chains instead of one long
                    // one, so consecutive pixels overlap in the out-of-order window.
                    let mut acc = [s.zero(); R];
                    acc[0] = bias;
                    for ky in 0..R {
                        for kx in 0..SK {
                            let p = rows[ky].add((x0 + kx * a.dil) * a.c);
                            acc[ky] = s.fma(s.load(p), wt[ky][kx], acc[ky]);
                        }
                    }
                    let mut sum = acc[0];
                    for &v in &acc[1..] {
                        sum = s.add(sum, v);
                    }
                    s.store(a.out.add(ox * a.c + c0), a.act.apply(s, sum));
                }
            } else {
                for ox in ox0..a.x_hi {
                    let x0 = ox * a.stride - a.left;
                    let mut acc = bias;
                    for ky in 0..R {
                        for kx in 0..SK {
                            let p = rows[ky].add((x0 + kx * a.dil) * a.c);
                            acc = s.fma(s.load_n(p, n), wt[ky][kx], acc);
                        }
                    }
                    s.store_n(a.out.add(ox * a.c + c0), a.act.apply(s, acc), n);
                }
            }
        } else {
            for ox in a.x_lo..a.x_hi {
                let x0 = ox * a.stride - a.left;
                let mut acc = bias;
                for ky in 0..r {
                    let row = (*a.rows.add(ky)).add(c0);
                    for kx in 0..sk {
                        let p = row.add((x0 + kx * a.dil) * a.c);
                        acc = s.fma(ld(s, p, n), s.load(wp.add((ky * sk + kx) * lanes)), acc);
                    }
                }
                st(s, a.out.add(ox * a.c + c0), a.act.apply(s, acc), n);
            }
        }
        for ox in a.x_hi.max(a.x_lo)..a.q {
            border_pixel(s, a, wp, bias, c0, n, r, sk, ox);
        }
    }
}

struct Depthwise {
    shape: ConvShape,
    uk: &'static DwUkernel,
    w: AlignedBuf,
    bias: AlignedBuf,
    act: Act,
    zero: Vec<f32>,
    x_lo: usize,
    x_hi: usize,
}

pub(crate) fn build(
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: &'static DwUkernel,
) -> Box<dyn Kernel> {
    let (c, r, s, l) = (shape.c(), shape.r(), shape.s(), uk.lanes);
    let blocks = c.div_ceil(l);
    // OHWI with one input channel per group: weight (ch, ky, kx) is at (ch * r + ky) * s + kx.
    let mut w = AlignedBuf::zeroed(blocks * r * s * l);
    for ch in 0..c {
        for ky in 0..r {
            for kx in 0..s {
                w[((ch / l * r + ky) * s + kx) * l + ch % l] = weights[(ch * r + ky) * s + kx];
            }
        }
    }
    let mut b = AlignedBuf::zeroed(blocks * l);
    if let Some(bias) = bias {
        b[..c].copy_from_slice(bias);
    }
    // Interior columns: ox * sw >= left and ox * sw - left + (s - 1) * dw < w.
    let (sw, dw, left) = (shape.stride().1, shape.dilation().1, shape.padding().left);
    let span = (s - 1) * dw;
    let x_hi = if shape.w() + left > span {
        ((shape.w() + left - span - 1) / sw + 1).min(shape.q())
    } else {
        0
    };
    let x_lo = left.div_ceil(sw).min(x_hi);
    Box::new(Depthwise {
        shape: *shape,
        uk,
        w,
        bias: b,
        act,
        zero: vec![0.0; shape.w() * c],
        x_lo,
        x_hi,
    })
}

impl Kernel for Depthwise {
    fn run(&self, input: &[f32], output: &mut [f32], scratch: &mut Scratch) {
        let s = &self.shape;
        let (h, w, c, r) = (s.h(), s.w(), s.c(), s.r());
        let (sh, dh, top) = (s.stride().0, s.dilation().0, s.padding().top);
        let rows = &mut scratch.ptrs[..r];
        let row_len = w * c;
        for (b, (img, out_img)) in input
            .chunks_exact(h * row_len)
            .zip(output.chunks_exact_mut(s.p() * s.q() * c))
            .enumerate()
        {
            let _ = b;
            for (oy, out_row) in out_img.chunks_exact_mut(s.q() * c).enumerate() {
                for (ky, p) in rows.iter_mut().enumerate() {
                    let y = (oy * sh + ky * dh) as isize - top as isize;
                    *p = if (0..h as isize).contains(&y) {
                        img[y as usize * row_len..][..row_len].as_ptr()
                    } else {
                        self.zero[..row_len].as_ptr()
                    };
                }
                let args = DwRow {
                    rows: rows.as_ptr(),
                    w: self.w.as_ptr(),
                    bias: self.bias.as_ptr(),
                    out: out_row.as_mut_ptr(),
                    c,
                    q: s.q(),
                    w_in: w,
                    r,
                    s: s.s(),
                    stride: s.stride().1,
                    dil: s.dilation().1,
                    left: s.padding().left,
                    x_lo: self.x_lo,
                    x_hi: self.x_hi,
                    act: self.act,
                };
                // SAFETY: each row pointer comes from a slice of w*c floats; `out_row` has q*c;
                // weights and bias were packed for ceil(c/L) blocks of this ISA's L; x_lo/x_hi
                // were derived in `build` so interior taps stay inside the row; the ISA was
                // checked at plan time.
                unsafe { (self.uk.row)(&args) };
            }
        }
    }

    fn scratch(&self) -> ScratchSpec {
        ScratchSpec {
            floats: 0,
            ptrs: self.shape.r(),
        }
    }
}
