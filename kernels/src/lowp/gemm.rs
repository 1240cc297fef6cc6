//! The low-precision direct driver and its microkernel: an indirect GEMM of `MR` output pixels x
//! `NV * LANES` output channels, written once over [`Dot<F>`] for every family (int8, bf16).
//! Each tap adds `cp / KG` dot-product steps; the weights are packed per (group, column block)
//! as `[tap][word][NR][KG]`, zero-padded to `NR` columns and `cp` channels, so the inner loop has
//! no tail. Grouped layers run each group as its own GEMM over its channels of the same source.

use std::marker::PhantomData;

use super::kernel::{split, try_vec, LowpKernel, Source, SrcPtr};
use crate::error::product;
use crate::simd::dot::{Dot, Family};
use crate::simd::Body;
use crate::{ConvError, ConvShape};

/// A planned direct (or pointwise) convolution of family `F` on token `S` with tile `MR x NV`
/// vectors.
pub(crate) struct Gemm<F: Family, S: Dot<F>, const MR: usize, const NV: usize> {
    shape: ConvShape,
    src: Source<S::A>,
    /// Packed weights `[group][block][tap][word][NR][KG]`.
    b: Vec<S::B>,
    /// The epilogue's constants `[group][block * NR]`, zero-padded.
    cols: F::Cols,
    /// 32-bit words per tap, column blocks per group.
    words: usize,
    blocks: usize,
    _s: PhantomData<S>,
}

/// Builds the kernel: packs the weights for `S`'s dot product and lays the per-channel
/// constants `cols` out per padded column; `zero` is the activation the padding holds.
pub(crate) fn build<F: Family, S: Dot<F>, const MR: usize, const NV: usize>(
    shape: &ConvShape,
    weights: &[F::W],
    cols: &F::Cols,
    zero: F::X,
) -> Result<Box<dyn LowpKernel<F>>, ConvError> {
    let nr = NV * S::LANES;
    let (g, cg, kg) = (shape.groups(), shape.c_per_group(), shape.k_per_group());
    let taps = shape.r() * shape.s();
    let cp = cg.div_ceil(S::KG) * S::KG;
    let (words, blocks) = (cp / S::KG, kg.div_ceil(nr));
    // In place only when the input's elements are the GEMM's activations and whole words.
    let in_place = std::mem::size_of::<S::A>() == std::mem::size_of::<F::X>() && cp == cg;
    let src = Source::new(shape, cp, in_place, S::A::from(zero), F::NAME)?;
    let len = product(&[g, blocks, taps, cp, nr], "packed weights")?;
    let mut b = try_vec::<S::B>(len, "packed weights")?;
    let mut i = 0;
    for gi in 0..g {
        for jb in 0..blocks {
            for t in 0..taps {
                for wd in 0..words {
                    for j in 0..nr {
                        for e in 0..S::KG {
                            let (col, c) = (jb * nr + j, wd * S::KG + e);
                            if col < kg && c < cg {
                                let k = gi * kg + col;
                                b[i] = S::B::from(weights[(k * taps + t) * cg + c]);
                            }
                            i += 1;
                        }
                    }
                }
            }
        }
    }
    let map: Vec<Option<usize>> = (0..g * blocks * nr)
        .map(|i| {
            let (gi, col) = (i / (blocks * nr), i % (blocks * nr));
            (col < kg).then_some(gi * kg + col)
        })
        .collect();
    Ok(Box::new(Gemm::<F, S, MR, NV> {
        shape: *shape,
        src,
        b,
        cols: F::relayout(cols, &map)?,
        words,
        blocks,
        _s: PhantomData,
    }))
}

impl<F: Family, S: Dot<F>, const MR: usize, const NV: usize> LowpKernel<F> for Gemm<F, S, MR, NV> {
    fn run(
        &mut self,
        input: &[F::X],
        mut out: F::Out<'_>,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), ConvError> {
        let base = SrcPtr::new(self.src.fill(&self.shape, input)?);
        let out = F::ptr(&mut out);
        let k = &*self;
        let m_all = k.src.pixels;
        split(m_all.div_ceil(MR), k.shape.flops(), pool, |lo, hi| {
            // SAFETY: the plan made this kernel only after checking that `S`'s ISA is available.
            let s = unsafe { S::assume() };
            let (m_lo, m_hi) = (lo * MR, (hi * MR).min(m_all));
            s.vectorize(Band::<F, S, MR, NV> {
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

// SAFETY: the raw pointers in `Source` and `Band` are derived per run from borrowed slices.
unsafe impl<F: Family, S: Dot<F>, const MR: usize, const NV: usize> Send for Gemm<F, S, MR, NV> {}
unsafe impl<F: Family, S: Dot<F>, const MR: usize, const NV: usize> Sync for Gemm<F, S, MR, NV> {}

/// The tiles of output pixels `m_lo..m_hi` (a multiple of `MR` apart, but for the last), as a
/// body for `S`'s entry point.
struct Band<'a, F: Family, S: Dot<F>, const MR: usize, const NV: usize> {
    k: &'a Gemm<F, S, MR, NV>,
    base: *const S::A,
    out: F::Ptr,
    m_lo: usize,
    m_hi: usize,
}

impl<F: Family, S: Dot<F>, const MR: usize, const NV: usize> Body<S> for Band<'_, F, S, MR, NV> {
    type Output = ();
    #[inline(always)]
    fn body(self, s: S) {
        let k = self.k;
        let nr = NV * S::LANES;
        let (kk, kg) = (k.shape.k(), k.shape.k_per_group());
        let m_all = self.m_hi;
        let panel = k.src.taps.len() * k.words * nr * S::KG;
        for gi in 0..k.shape.groups() {
            for jb in 0..k.blocks {
                let col0 = jb * nr;
                let n = nr.min(kg - col0);
                let cb = (gi * k.blocks + jb) * nr;
                for m0 in (self.m_lo..m_all).step_by(MR) {
                    let m = MR.min(m_all - m0);
                    // SAFETY: pixel and tap offsets stay inside the source by construction
                    // (`Source::new`); a group's words stay inside its `cp` channels; rows past
                    // `m` repeat the last real one, and the epilogue stores only `m` rows and `n`
                    // columns, inside the output (`m0 + m <= pixels`, `col0 + n <= kg`).
                    unsafe {
                        let offs: [usize; MR] = k.src.offsets(&k.shape, m0, m);
                        let rows: [*const S::A; MR] = std::array::from_fn(|r| {
                            self.base.add(offs[r] + gi * k.src.group_stride)
                        });
                        let acc = tile::<F, S, MR, NV>(
                            s,
                            &rows,
                            &k.src.taps,
                            k.words,
                            k.b.as_ptr().add((gi * k.blocks + jb) * panel),
                        );
                        let out = F::offset(self.out, m0 * kk + gi * kg + col0);
                        epilogue::<F, S, MR, NV>(s, &acc, out, kk, m, n, &k.cols, cb);
                    }
                }
            }
        }
    }
}

/// The accumulators of one tile: `sum over taps and words of dot(rows + tap, panel)`.
///
/// # Safety
/// Every `rows[r] + tap + words * KG` is readable; `b` holds `taps * words * NR * KG` values.
#[inline(always)]
unsafe fn tile<F: Family, S: Dot<F>, const MR: usize, const NV: usize>(
    s: S,
    rows: &[*const S::A; MR],
    taps: &[usize],
    words: usize,
    mut b: *const S::B,
) -> [[S::V; NV]; MR] {
    let mut acc = [[s.zero(); NV]; MR];
    let step = S::LANES * S::KG;
    for &t in taps {
        let mut a: [*const S::A; MR] = std::array::from_fn(|r| rows[r].add(t));
        for _ in 0..words {
            let bv: [S::V; NV] = std::array::from_fn(|v| s.load_b(b.add(v * step)));
            for r in 0..MR {
                for v in 0..NV {
                    acc[r][v] = s.dot(acc[r][v], a[r], bv[v]);
                }
                a[r] = a[r].add(S::KG);
            }
            b = b.add(NV * step);
        }
    }
    acc
}

/// Stores `m x n` of the tile through `S`'s epilogue; `col` is the tile's first padded column.
///
/// # Safety
/// `out + r * ld + c` writable for `r < m`, `c < n`; `cols` holds `col + NV * LANES` columns.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) unsafe fn epilogue<F: Family, S: Dot<F>, const MR: usize, const NV: usize>(
    s: S,
    acc: &[[S::V; NV]; MR],
    out: F::Ptr,
    ld: usize,
    m: usize,
    n: usize,
    cols: &F::Cols,
    col: usize,
) {
    for (r, row) in acc.iter().enumerate().take(m) {
        for (v, &a) in row.iter().enumerate() {
            let c0 = v * S::LANES;
            if c0 >= n {
                break;
            }
            let p = F::offset(out, r * ld + c0);
            s.store(a, p, cols, col + c0, S::LANES.min(n - c0));
        }
    }
}
