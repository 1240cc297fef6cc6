//! What the low-precision drivers (int8 in `quant/`, bf16 in `bf16/`) share: the kernel
//! contract, work splitting, and the activation source (the input in place, or a padded copy whose
//! border holds the family's zero: the input zero point in int8, 0.0 in bf16) with its row and
//! tap offsets.

use crate::error::product;
use crate::simd::dot::Family;
use crate::{ConvError, ConvShape};

/// The source pointer the tasks of one run share.
#[derive(Clone, Copy)]
pub(crate) struct SrcPtr<A>(*const A);

// SAFETY: the tasks only read through it, from a buffer that outlives the run and is not written
// during it (`Source::fill` runs before the tasks start).
unsafe impl<A> Send for SrcPtr<A> {}
unsafe impl<A> Sync for SrcPtr<A> {}

impl<A> SrcPtr<A> {
    pub(crate) fn new(p: *const A) -> SrcPtr<A> {
        SrcPtr(p)
    }
    pub(crate) fn get(self) -> *const A {
        self.0
    }
}

/// A planned low-precision convolution of family `F`. `run`'s buffers have the shape's lengths
/// (checked by the plan); with a pool, the work is split over it (bit-identical: each output is
/// computed by the same operations whatever the split).
pub(crate) trait LowpKernel<F: Family>: Send + Sync {
    fn run(
        &mut self,
        input: &[F::X],
        out: F::Out<'_>,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), ConvError>;
}

/// Runs `band(lo, hi)` over `0..units` (units of output rows that never split a reduction):
/// at once on this thread, or in chunks over `pool` when it has several threads and the layer
/// is worth splitting (`flops` above twice the crate's grain).
pub(crate) fn split(
    units: usize,
    flops: u64,
    pool: Option<&rayon::ThreadPool>,
    band: impl Fn(usize, usize) + Sync,
) {
    use rayon::prelude::*;
    let threads = pool.map_or(1, |p| p.current_num_threads());
    match pool {
        Some(p) if threads > 1 && flops as f64 >= 2.0 * crate::DEFAULT_GRAIN_FLOPS && units > 1 => {
            let chunks = units.min(threads * 4);
            p.install(|| {
                (0..chunks)
                    .into_par_iter()
                    .for_each(|c| band(c * units / chunks, (c + 1) * units / chunks))
            });
        }
        _ => band(0, units),
    }
}

/// Where the activations are read from, and the element offsets of every output pixel's first
/// tap and of each tap from it.
pub(crate) struct Source<A> {
    /// A padded copy `[n][h + pads][w + pads][groups][cp]`, or empty when the input is read in
    /// place.
    pub(crate) copy: Vec<A>,
    copy_len: usize,
    pub(crate) in_place: bool,
    /// Channels per group in the source (`cp` in the copy, `c / groups` in place).
    pub(crate) group_stride: usize,
    /// Output pixels (image, row, column order).
    pub(crate) pixels: usize,
    /// Strides of the source in elements: image, row, column.
    strides: (usize, usize, usize),
    /// Per tap (row-major `r x s`): offset from the pixel's first tap.
    pub(crate) taps: Vec<usize>,
    cp: usize,
    zero: A,
}

/// A vector of `len` default values; a refused allocation is an error.
pub(crate) fn try_vec<T: Copy + Default>(
    len: usize,
    what: &'static str,
) -> Result<Vec<T>, ConvError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| ConvError::OutOfMemory {
            what,
            bytes: len.saturating_mul(std::mem::size_of::<T>()),
        })?;
    v.resize(len, T::default());
    Ok(v)
}

impl<A: Copy + Default> Source<A> {
    /// The source for `shape` with `cp` channels per group (`>= c / groups`); in place when
    /// `in_place_ok` (the caller knows the element type and channel count allow it) and there is
    /// no padding. `what` names the family in messages; `zero` fills the border.
    pub(crate) fn new(
        shape: &ConvShape,
        cp: usize,
        in_place_ok: bool,
        zero: A,
        what: &'static str,
    ) -> Result<Source<A>, ConvError> {
        let pad = shape.padding();
        let padded = (pad.top, pad.left, pad.bottom, pad.right) != (0, 0, 0, 0);
        let in_place = in_place_ok && !padded && cp == shape.c_per_group();
        let (hh, ww) = if in_place {
            (shape.h(), shape.w())
        } else {
            (
                shape.h() + pad.top + pad.bottom,
                shape.w() + pad.left + pad.right,
            )
        };
        let pix = shape.groups() * cp;
        let copy_len = if in_place {
            0
        } else {
            product(&[shape.n(), hh, ww, pix], "padded input copy")?
        };
        // The copy holds the whole padded image: padding far beyond what any layer uses would
        // make it arbitrarily larger than the work (a tiny output from a huge padded image).
        if copy_len > 64 * shape.input_len() + (1 << 20) {
            return Err(ConvError::InvalidShape {
                field: "padding",
                value: pad.top.max(pad.left).max(pad.bottom).max(pad.right),
                reason: format!(
                    "the {what} kernels copy the padded input: {copy_len} elements for an input of {}; padding this far beyond the image is not supported in {what}",
                    shape.input_len()
                ),
            });
        }
        // Allocated by the first run: planning a layer costs no input-sized memory.
        let copy = Vec::new();
        let ((sh, sw), (dh, dw)) = (shape.stride(), shape.dilation());
        // Computed per tile, not stored: a huge shape that is planned but never run costs
        // nothing per pixel.
        let strides = (hh * ww * pix, sh * ww * pix, sw * pix);
        let pixels = shape.n() * shape.p() * shape.q();
        let taps = (0..shape.r())
            .flat_map(|y| (0..shape.s()).map(move |x| (y * dh * ww + x * dw) * pix))
            .collect();
        Ok(Source {
            copy,
            copy_len,
            in_place,
            group_stride: cp,
            pixels,
            strides,
            taps,
            cp,
            zero,
        })
    }

    /// The offsets of the first taps of output pixels `m0..m0 + m` (group 0), then the last
    /// one repeated up to `N`.
    pub(crate) fn offsets<const N: usize>(
        &self,
        shape: &ConvShape,
        m0: usize,
        m: usize,
    ) -> [usize; N] {
        let (si, sy, sx) = self.strides;
        let mut out = [0; N];
        for (o, (b, oy, ox)) in out.iter_mut().zip(shape.output_pixels(m0).take(m)) {
            *o = b * si + oy * sy + ox * sx;
        }
        for i in m..N {
            out[i] = out[m - 1];
        }
        out
    }

    /// The base pointer to read from for this `input`: the input itself, or the copy after
    /// writing `input` into it (border = the family's zero, channel padding = `A::default()`).
    /// In place, `A` has `X`'s representation (the caller's `in_place_ok`).
    pub(crate) fn fill<X: Copy>(
        &mut self,
        shape: &ConvShape,
        input: &[X],
    ) -> Result<*const A, ConvError>
    where
        A: From<X>,
    {
        if self.in_place {
            return Ok(input.as_ptr().cast());
        }
        if self.copy.len() != self.copy_len {
            self.copy = try_vec(self.copy_len, "padded input copy")?;
        }
        let pad = shape.padding();
        let (h, w, g, cg, cp) = (
            shape.h(),
            shape.w(),
            shape.groups(),
            shape.c_per_group(),
            self.cp,
        );
        let ww = w + pad.left + pad.right;
        let z = self.zero;
        let row = ww * g * cp;
        for (i, img) in self
            .copy
            .chunks_exact_mut(row * (h + pad.top + pad.bottom))
            .enumerate()
        {
            let (top, rest) = img.split_at_mut(pad.top * row);
            top.fill(z);
            let (mid, bottom) = rest.split_at_mut(h * row);
            bottom.fill(z);
            for (y, dst) in mid.chunks_exact_mut(row).enumerate() {
                let (left, rest) = dst.split_at_mut(pad.left * g * cp);
                left.fill(z);
                let (body, right) = rest.split_at_mut(w * g * cp);
                right.fill(z);
                let src = &input[(i * h + y) * w * g * cg..][..w * g * cg];
                if cp == cg {
                    for (d, &s) in body.iter_mut().zip(src) {
                        *d = A::from(s);
                    }
                } else {
                    for (d, s) in body.chunks_exact_mut(cp).zip(src.chunks_exact(cg)) {
                        for (d, &s) in d.iter_mut().zip(s) {
                            *d = A::from(s);
                        }
                        d[cg..].fill(A::default());
                    }
                }
            }
        }
        Ok(self.copy.as_ptr())
    }
}
