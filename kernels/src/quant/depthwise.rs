//! The int8 depthwise driver and its row body, written once over [`Int8`]: per output pixel and
//! vector of channels, the taps' u8 activations widened to i32 times the weights, pre-widened to
//! i32 at planning (`[tap][channel]`). A depthwise tap is one multiply per channel with no
//! reduction across channels, so a dot-product instruction would first need a transpose of four
//! taps; widening is as fast at these sizes and exact.

use std::marker::PhantomData;

use crate::lowp::gemm::epilogue;
use crate::lowp::kernel::{split, try_vec, LowpKernel, Source, SrcPtr};
use crate::simd::dot::Family;
use crate::simd::int8::{Int8, OutPtr, QCols, QOut, Q8};
use crate::simd::Body;
use crate::{ConvError, ConvShape};

/// A planned int8 depthwise convolution on token `S`.
pub(super) struct QDepthwise<S: Int8> {
    shape: ConvShape,
    src: Source<u8>,
    /// Weights `[tap][cpad]`, bias and multipliers `[cpad]`, `cpad` a multiple of `LANES`.
    w: Vec<i32>,
    cols: QCols,
    cpad: usize,
    _s: PhantomData<S>,
}

/// Builds the kernel (the plan has checked that the shape is depthwise).
pub(super) fn build<S: Int8>(
    shape: &ConvShape,
    weights: &[i8],
    cols: &QCols,
    zero: u8,
) -> Result<Box<dyn LowpKernel<Q8>>, ConvError> {
    let c = shape.c();
    let taps = shape.r() * shape.s();
    let cpad = c.div_ceil(S::LANES) * S::LANES;
    let src = Source::new(shape, 1, true, zero, Q8::NAME)?;
    let len = taps.checked_mul(cpad).ok_or(ConvError::Overflow {
        what: "int8 depthwise weights",
    })?;
    let mut w = try_vec(len, "int8 depthwise weights")?;
    for ch in 0..c {
        for t in 0..taps {
            w[t * cpad + ch] = i32::from(weights[ch * taps + t]);
        }
    }
    let map: Vec<Option<usize>> = (0..cpad).map(|i| (i < c).then_some(i)).collect();
    Ok(Box::new(QDepthwise::<S> {
        shape: *shape,
        src,
        w,
        cols: Q8::relayout(cols, &map)?,
        cpad,
        _s: PhantomData,
    }))
}

impl<S: Int8> LowpKernel<Q8> for QDepthwise<S> {
    fn run(
        &mut self,
        input: &[u8],
        mut out: QOut<'_>,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), ConvError> {
        let base = SrcPtr::new(self.src.fill(&self.shape, input)?);
        let out = Q8::ptr(&mut out);
        let k = &*self;
        let m_all = k.src.pixels;
        split(m_all.div_ceil(PX), k.shape.flops(), pool, |lo, hi| {
            // SAFETY: the plan made this kernel only after checking that `S`'s ISA is available.
            let s = unsafe { S::assume() };
            let (m_lo, m_hi) = (lo * PX, (hi * PX).min(m_all));
            s.vectorize(Rows::<S> {
                k,
                base: base.get(),
                out,
                m_lo,
                m_hi,
            });
        });
        Ok(())
    }
}

// SAFETY: the raw pointers in `Source` and `Rows` are derived per run from borrowed slices.
unsafe impl<S: Int8> Send for QDepthwise<S> {}
unsafe impl<S: Int8> Sync for QDepthwise<S> {}

/// Output pixels `m_lo..m_hi` (a multiple of `PX` apart, but for the last).
struct Rows<'a, S: Int8> {
    k: &'a QDepthwise<S>,
    base: *const u8,
    out: OutPtr,
    m_lo: usize,
    m_hi: usize,
}

/// Output pixels per register block: each weight vector loaded once serves this many.
const PX: usize = 8;

impl<S: Int8> Body<S> for Rows<'_, S> {
    type Output = ();
    #[inline(always)]
    fn body(self, s: S) {
        let k = self.k;
        let c = k.shape.c();
        for m0 in (self.m_lo..self.m_hi).step_by(PX) {
            let rows = PX.min(self.m_hi - m0);
            let offs: [usize; PX] = k.src.offsets(&k.shape, m0, rows);
            for c0 in (0..c).step_by(S::LANES) {
                let n = S::LANES.min(c - c0);
                // SAFETY: pixel and tap offsets stay inside the source (`Source::new`, one
                // channel per group, so a group's channel is `base + offset + c0 + lane`); rows
                // past `rows` repeat the last real pixel and are not stored; lanes past `n` are
                // neither read nor written, and `w` and `cols` are padded to
                // `cpad >= c0 + LANES`.
                unsafe {
                    let at: [*const u8; PX] =
                        std::array::from_fn(|px| self.base.add(offs[px] + c0));
                    let mut acc = [[s.zero(); 1]; PX];
                    for (t, &off) in k.src.taps.iter().enumerate() {
                        let w = s.load_i32(k.w.as_ptr().add(t * k.cpad + c0));
                        for px in 0..PX {
                            let x = s.load_u8_n(at[px].add(off), n);
                            acc[px][0] = s.add(acc[px][0], s.mul(x, w));
                        }
                    }
                    let out = Q8::offset(self.out, m0 * c + c0);
                    epilogue::<Q8, S, PX, 1>(s, &acc, out, c, rows, n, &k.cols, c0);
                }
            }
        }
    }
}
