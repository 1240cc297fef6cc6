//! Winograd minimal filtering F(m x m, 3x3) for m = 2, 4 and 6 (Lavin & Gray): the driver and
//! the generic transform bodies. Every tile is one point set (`WinogradTile::points`) whose
//! matrices `toom_cook.rs` builds at compile time; the transforms (`transforms.rs`) are written
//! once, over those tables.
//!
//! Plan time: each 3x3 filter becomes `U = G g G^T` (alpha x alpha, alpha = m + 2), computed in
//! f64, and the alpha² matrices `U_xi` (C x K) are packed as GEMM B panels.
//! Run time, per block of output tiles (sized in `build` from L2 and the size of U):
//! 1. input transform `V = B^T d B` per tile and channel vector, written as alpha² row-major
//!    matrices `V_xi` (tiles x C);
//! 2. alpha² GEMMs `M_xi = V_xi U_xi` with the ISA's indirect GEMM tile (A read in place);
//! 3. output transform `Y = A^T M A`, fused with bias and activation, clipped at the image edge.
//!
//! In parallel, U is shared read-only and blocks are the units of work, each with its worker's V
//! and M; with fewer blocks than threads x 2 (small maps, where one block streams U once), each
//! block runs instead as three parallel phases over a shared V and M: the input transform by
//! tile ranges, the alpha² GEMMs by (xi, output-channel group), the output transform by tile
//! ranges.
//! Overflow: the intermediates grow by the row sums of B^T, G and A^T. With the standard points,
//! |V| <= 4 max|x| (F2) or 100 max|x| (F4), and |Y| before the bias <= 81 or 36100 times
//! `C * max|x| * max|w|` (`WinogradTile::growth` for every tile); the crate docs state what that
//! means for non-finite results.
//! The transforms are vectorised over channels (contiguous in NHWC). Rounding error grows with m;
//! see `reference::tolerance` for the measured bound.

use crate::gemm::{
    self, IndirectBlocking, IndirectGemm, IndirectScratch, MatrixRows, Output, PackedB, Ukernels,
};
use crate::kernel::{Kernel, ScratchSpec};
use crate::par::{part, Exec, SharedOut, Worker};
use crate::simd::{Act, Simd, WithSimd};
use crate::{ConvError, ConvShape, Element, Tile, WinogradTile};

mod transforms;

use crate::toom_cook as points;
pub(crate) use transforms::{transforms, Transforms};
use transforms::{InputArgs, OutputArgs, TileBlock};
struct Winograd {
    shape: ConvShape,
    tile: WinogradTile,
    uk: Ukernels,
    tr: Transforms,
    u: Vec<PackedB>,
    bias: Vec<f32>,
    act: Act,
    zero: Vec<f32>,
    block: usize,
    blocking: IndirectBlocking,
}

impl Winograd {
    fn alpha2(&self) -> usize {
        let al = self.tile.m() + 2;
        al * al
    }
    fn tiles(&self) -> (usize, usize) {
        (
            self.shape.p().div_ceil(self.tile.m()),
            self.shape.q().div_ceil(self.tile.m()),
        )
    }
}

pub(crate) fn build(
    tile: WinogradTile,
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: Ukernels,
    tr: Transforms,
) -> Result<Box<dyn Kernel>, ConvError> {
    debug_assert_eq!(uk.isa, tr.isa, "GEMM and transforms of one ISA");
    let m = tile.m();
    let al = m + 2;
    let g = points::g_matrix(tile.points());
    let (c, k) = (shape.c(), shape.k());
    // U[xi][c][k] = (G g G^T)[xi] for filter (k, c).
    let mut u = crate::aligned::zeros(al * al * c * k, "winograd transformed weights")?;
    for ko in 0..k {
        for ci in 0..c {
            let f = |ky: usize, kx: usize| f64::from(weights[((ko * 3 + ky) * 3 + kx) * c + ci]);
            for i in 0..al {
                for j in 0..al {
                    let mut acc = 0.0f64;
                    for ky in 0..3 {
                        for kx in 0..3 {
                            acc += g[i][ky] * f(ky, kx) * g[j][kx];
                        }
                    }
                    u[((i * al + j) * c + ci) * k + ko] = acc as f32;
                }
            }
        }
    }
    let u = (0..al * al)
        .map(|xi| PackedB::new(c, k, uk.nr, |ci, ko| u[(xi * c + ci) * k + ko]))
        .collect::<Result<_, _>>()?;
    let mut b = vec![0.0f32; k];
    if let Some(bias) = bias {
        b.copy_from_slice(bias);
    }
    // Tiles per block. The block's V and M matrices should fit in about half of L2, but every
    // block also streams all of U (alpha² x C x K) through its GEMMs: once U outgrows L2 that
    // traffic dominates unless a block has at least C*K/(C+K) tiles, which keeps U's bytes per
    // tile below V's and M's (3x3 layers with 256 and 512 channels). Whole MR tiles, at most
    // the image's tiles.
    let (_, l2) = gemm::cache_sizes();
    let per_tile = al * al * (c + k) * f32::BYTES;
    let fit = ((l2 / 2 / per_tile) / uk.mr).clamp(1, 16) * uk.mr;
    let amortize = (c * k / (c + k)).div_ceil(uk.mr) * uk.mr;
    let tiles = shape.n() * shape.p().div_ceil(m) * shape.q().div_ceil(m);
    let block = fit.max(amortize).min(tiles);
    Ok(Box::new(Winograd {
        shape: *shape,
        tile,
        uk,
        tr,
        u,
        bias: b,
        act,
        zero: crate::aligned::zeros(c, "winograd zero row")?,
        block,
        blocking: IndirectBlocking::new(&uk, 1, c, c, c),
    }))
}

impl Winograd {
    /// Tiles `t0 .. t0 + count`, which are rows `row0 ..` of V and M matrices of `stride` rows.
    fn tile_block(&self, t0: usize, count: usize, stride: usize, row0: usize) -> TileBlock<'_> {
        let (ty, tx) = self.tiles();
        TileBlock {
            shape: &self.shape,
            tile: self.tile,
            t0,
            count,
            tiles_y: ty,
            tiles_x: tx,
            stride,
            row0,
        }
    }

    fn input(&self, blk: &TileBlock, input: &[f32], v: &SharedOut) {
        let mut ia = InputArgs { blk, input, v };
        // SAFETY: the transforms assert the slice lengths their unchecked paths rely on and
        // check everything else; the ISA was checked at plan time; the caller gives each task
        // its own rows of V.
        unsafe { (self.tr.input)(&mut ia) };
    }

    fn output(&self, blk: &TileBlock, mm: &[f32], out: &SharedOut) {
        let mut oa = OutputArgs {
            blk,
            mm,
            output: out,
            bias: &self.bias,
            act: self.act,
        };
        // SAFETY: as for the input transform; blocks and tile ranges are disjoint, so no other
        // task writes these tiles' output pixels.
        unsafe { (self.tr.output)(&mut oa) };
    }

    /// GEMM `xi` of a block of `count` tiles (V_xi x U_xi = M_xi) over NR panels `panels`.
    fn gemm(
        &self,
        xi: usize,
        count: usize,
        v: &[f32],
        mm: &SharedOut,
        panels: std::ops::Range<usize>,
        scratch: &mut IndirectScratch,
    ) {
        let (c, k) = (self.shape.c(), self.shape.k());
        let a = MatrixRows {
            a: &v[xi * count * c..][..count * c],
            lda: c,
            k: c,
            zero: &self.zero,
        };
        let out = Output {
            c: mm.sub(xi * count * k, count * k),
            ldc: k,
            bias: None,
            act: Act::None,
        };
        let gemm = IndirectGemm {
            uk: &self.uk,
            m: count,
            rows: &a,
            blocking: &self.blocking,
            b: &self.u[xi],
            out: &out,
        };
        gemm.serial(panels, scratch);
    }

    /// One block of `count` tiles from tile `t0`, whole, in the worker's V and M.
    fn block(&self, input: &[f32], out: &SharedOut, t0: usize, count: usize, w: &mut Worker) {
        let (c, k) = (self.shape.c(), self.shape.k());
        let a2 = self.alpha2();
        let blk = self.tile_block(t0, count, count, 0);
        let Worker { floats, ptrs } = w;
        let (v, rest) = floats.split_at_mut(a2 * count * c);
        let (mm, copy) = rest.split_at_mut(a2 * count * k);
        self.input(&blk, input, &SharedOut::new(v));
        let ms = SharedOut::new(mm);
        for xi in 0..a2 {
            let mut scratch = IndirectScratch { table: ptrs, copy };
            self.gemm(xi, count, v, &ms, 0..self.u[xi].panels(), &mut scratch);
        }
        self.output(&blk, mm, out);
    }

    /// One block of `count` tiles from tile `t0` as three parallel phases over `shared`'s V and M.
    fn phased(
        &self,
        input: &[f32],
        out: &SharedOut,
        shared: &mut [f32],
        t0: usize,
        count: usize,
        ex: &Exec,
    ) {
        let (c, k) = (self.shape.c(), self.shape.k());
        let a2 = self.alpha2();
        let flops = 2.0 * (a2 * count * c * k) as f64;
        let (v, rest) = shared.split_at_mut(a2 * count * c);
        let mm = &mut rest[..a2 * count * k];
        // Transforms: about four tile ranges per thread.
        let chunk = count.div_ceil(4 * ex.threads()).max(1);
        let ranges = count.div_ceil(chunk);
        let vs = SharedOut::new(v);
        ex.for_each(ranges, flops, |u, _| {
            let r0 = u * chunk;
            let blk = self.tile_block(t0 + r0, chunk.min(count - r0), count, r0);
            self.input(&blk, input, &vs);
        });
        let v: &[f32] = v;
        let panels = self.u[0].panels();
        let groups = (4 * ex.threads()).div_ceil(a2).clamp(1, panels);
        let ms = SharedOut::new(mm);
        ex.for_each(a2 * groups, flops, |u, w| {
            let (xi, g) = (u / groups, u % groups);
            let Worker { floats, ptrs } = w;
            let mut scratch = IndirectScratch {
                table: ptrs,
                copy: floats,
            };
            self.gemm(xi, count, v, &ms, part(panels, groups, g), &mut scratch);
        });
        let mm: &[f32] = mm;
        ex.for_each(ranges, flops, |u, _| {
            let r0 = u * chunk;
            let blk = self.tile_block(t0 + r0, chunk.min(count - r0), count, r0);
            self.output(&blk, mm, out);
        });
    }
}

impl Kernel for Winograd {
    fn run(&self, input: &[f32], output: &mut [f32], shared: &mut [f32], ex: &Exec) {
        let s = &self.shape;
        let (ty, tx) = self.tiles();
        let total = s.n() * ty * tx;
        let flops = s.flops() as f64;
        let out = SharedOut::new(output);
        let threads = ex.threads();
        let blocks = total.div_ceil(self.block);
        let phased_len = self.scratch().shared_parallel;
        if ex.splits(flops) && blocks < 2 * threads && shared.len() >= phased_len {
            for t0 in (0..total).step_by(self.block) {
                self.phased(input, &out, shared, t0, self.block.min(total - t0), ex);
            }
            return;
        }
        // Whole blocks per task: at least a block per thread when the work splits, and no more
        // than needed, since every block streams all of U.
        let block = if ex.splits(flops) {
            let per = total.div_ceil(threads).div_ceil(self.uk.mr) * self.uk.mr;
            self.block.min(per.max(self.uk.mr))
        } else {
            self.block
        };
        ex.for_each(total.div_ceil(block), flops, |u, w| {
            let t0 = u * block;
            self.block(input, &out, t0, block.min(total - t0), w);
        });
    }

    fn tile(&self) -> Tile {
        self.uk.tile()
    }
    fn scratch(&self) -> ScratchSpec {
        let (c, k) = (self.shape.c(), self.shape.k());
        ScratchSpec {
            shared: 0,
            shared_parallel: self.alpha2() * self.block * (c + k),
            // V and M of a block, then the GEMM's row copy.
            floats: self.alpha2() * self.block * (c + k) + self.blocking.copy_len(&self.uk),
            ptrs: self.blocking.table_len(&self.uk),
        }
    }
}
