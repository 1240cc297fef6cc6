//! What the int8 drivers share: the kernel contract, the output they write, the per-channel
//! constants folded at planning, and the activation source (the input in place, or a padded copy
//! whose border holds the input zero point) with its row and tap offsets.

use crate::error::product;
use crate::simd::int8::Requant;
use crate::{ConvError, ConvShape};

/// Where a run writes: requantized u8, or the i32 accumulators (bias included) for testing.
pub(crate) enum QOut<'a> {
    U8(&'a mut [u8]),
    I32(&'a mut [i32]),
}

/// A raw output pointer of one of the two kinds, offset per tile.
#[derive(Clone, Copy)]
pub(super) enum OutPtr {
    U8(*mut u8),
    I32(*mut i32),
}

// SAFETY: the tasks of one run write through it to disjoint output rows (`split`'s bands).
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// The source pointer the tasks of one run share.
#[derive(Clone, Copy)]
pub(super) struct SrcPtr<A>(*const A);

// SAFETY: the tasks only read through it, from a buffer that outlives the run and is not written
// during it (`Source::fill` runs before the tasks start).
unsafe impl<A> Send for SrcPtr<A> {}
unsafe impl<A> Sync for SrcPtr<A> {}

impl<A> SrcPtr<A> {
    pub(super) fn new(p: *const A) -> SrcPtr<A> {
        SrcPtr(p)
    }
    pub(super) fn get(self) -> *const A {
        self.0
    }
}

impl OutPtr {
    pub(super) fn of(out: &mut QOut<'_>) -> OutPtr {
        match out {
            QOut::U8(o) => OutPtr::U8(o.as_mut_ptr()),
            QOut::I32(o) => OutPtr::I32(o.as_mut_ptr()),
        }
    }
    /// # Safety
    /// The result stays inside the output buffer.
    pub(super) unsafe fn add(self, i: usize) -> OutPtr {
        match self {
            OutPtr::U8(p) => OutPtr::U8(p.add(i)),
            OutPtr::I32(p) => OutPtr::I32(p.add(i)),
        }
    }
}

/// A planned int8 convolution. `run`'s buffers have the shape's lengths (checked by the plan);
/// with a pool, the work is split over it (bit-identical: each output is computed by the same
/// operations whatever the split).
pub(crate) trait QKernel: Send + Sync {
    fn run(
        &mut self,
        input: &[u8],
        out: QOut<'_>,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), ConvError>;
}

/// Runs `band(lo, hi)` over `0..units` (units of output rows that never split a reduction):
/// at once on this thread, or in chunks over `pool` when it has several threads and the layer
/// is worth splitting (`flops` above twice the crate's grain).
pub(super) fn split(
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

/// The per-output-channel constants: the bias with `-x_zero * sum w` folded in, the
/// requantization multipliers, and the layer's bounds.
pub(crate) struct Prepared {
    pub bias: Vec<i32>,
    pub scale: Vec<f32>,
    pub q: Requant,
    pub zero: u8,
}

/// Where the activations are read from, and the element offsets of every output pixel's first
/// tap and of each tap from it.
pub(super) struct Source<A> {
    /// A padded copy `[n][h + pads][w + pads][groups][cp]`, or empty when the input is read in
    /// place.
    pub copy: Vec<A>,
    copy_len: usize,
    pub in_place: bool,
    /// Channels per group in the source (`cp` in the copy, `c / groups` in place).
    pub group_stride: usize,
    /// Output pixels (image, row, column order).
    pub pixels: usize,
    /// Strides of the source in elements: image, row, column.
    strides: (usize, usize, usize),
    /// Per tap (row-major `r x s`): offset from the pixel's first tap.
    pub taps: Vec<usize>,
    cp: usize,
    zero: u8,
}

/// A vector of `len` default values; a refused allocation is an error.
pub(super) fn try_vec<T: Copy + Default>(
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

impl<A: Copy + Default + From<u8>> Source<A> {
    /// The source for `shape` with `cp` channels per group (`>= c / groups`); in place when
    /// `in_place_ok` (the caller knows the element type and channel count allow it) and there is
    /// no padding.
    pub(super) fn new(
        shape: &ConvShape,
        cp: usize,
        in_place_ok: bool,
        zero: u8,
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
            product(&[shape.n(), hh, ww, pix], "int8 padded input copy")?
        };
        // The copy holds the whole padded image: padding far beyond what any layer uses would
        // make it arbitrarily larger than the work (a tiny output from a huge padded image).
        if copy_len > 64 * shape.input_len() + (1 << 20) {
            return Err(ConvError::InvalidShape {
                field: "padding",
                value: pad.top.max(pad.left).max(pad.bottom).max(pad.right),
                reason: format!(
                    "the int8 kernels copy the padded input: {copy_len} elements for an input of {}; padding this far beyond the image is not supported in int8",
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
    pub(super) fn offsets<const N: usize>(
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
    /// writing `input` into it (border = zero point, channel padding = 0).
    pub(super) fn fill(&mut self, shape: &ConvShape, input: &[u8]) -> Result<*const A, ConvError> {
        if self.in_place {
            return Ok(input.as_ptr().cast());
        }
        if self.copy.len() != self.copy_len {
            self.copy = try_vec(self.copy_len, "int8 padded input copy")?;
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
        let z = A::from(self.zero);
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
