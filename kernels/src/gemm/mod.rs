//! Packed SGEMM: BLIS-style cache blocking (kc from L1, mc from L2), packed B panels made at plan
//! time, and MR x NR register-blocked microkernel pairs, one generic body (`gemm/ukernel.rs`)
//! instantiated per ISA and tile by [`ukernels`] (the registry lists which tiles exist).
//!
//! This file holds the tile ABI (what a microkernel call reads and writes), the blocking, packed B
//! and the output with its epilogue; `packed.rs` drives GEMMs whose A is packed block by block
//! (im2col), `indirect.rs` those that read A's rows in place through pointers (direct,
//! pointwise, Winograd), and `ukernel.rs` is the microkernel body.
//!
//! The drivers here are safe: they check every length once, then call the `unsafe` microkernels.
//! Their units of parallel work are (row block, output-channel group) pairs: a reduction is never
//! split, so every element of C sees the same sums in the same order on any number of threads.

mod indirect;
mod packed;
mod ukernel;

pub(crate) use indirect::{
    IndirectBlocking, IndirectGemm, IndirectScratch, MatrixRows, RowPointers, Taps,
};
pub(crate) use packed::{packed_gemm, packed_scratch_len, PackA};

use std::sync::OnceLock;

use crate::par::{part, Exec, SharedOut};
use crate::simd::{Act, Simd};
use crate::{AlignedBuf, ConvError, Element, Isa, Tile, Types};

/// Where and how one microkernel call stores its tile of `C` elements (the f32 epilogue: bias
/// and activation; an integer output stores through its own, with its requantization).
#[derive(Clone, Copy)]
pub(crate) struct TileStore<C = f32> {
    pub c: *mut C,
    pub ldc: usize,
    /// Valid rows (`<= MR`) and columns (`<= NR`).
    pub mr: usize,
    pub nr: usize,
    /// Add the tile to what C holds (a later k block).
    pub accumulate: bool,
    /// This is the last k block: add bias, apply the activation.
    pub last: bool,
    /// Bias for the tile's first column, or null.
    pub bias: *const C,
    pub act: Act,
}

/// Arguments of the packed microkernel: A and B elements, and how the tile is stored. The
/// element types are the row's [`Types`]; f32 throughout is the default.
pub(crate) struct PackedTile<A = f32, B = A, Out = TileStore> {
    pub kc: usize,
    /// `[kc][MR]`.
    pub a: *const A,
    /// `[kc][NR]`.
    pub b: *const B,
    pub out: Out,
}

/// Arguments of the indirect microkernel: `tiles` tiles one below the other that share taps,
/// `kc`, B and the store flags, in one call (the per-call set-up then counts once per run of
/// tiles rather than once per tile, which matters when `kc` is short).
pub(crate) struct IndirectTile<A = f32, B = A, Out = TileStore> {
    pub tiles: usize,
    /// Table entries between consecutive tiles' row pointers.
    pub a_tile_stride: usize,
    /// Floats of C between consecutive tiles (`MR * ldc`).
    pub c_tile_stride: usize,
    pub taps: usize,
    /// `[taps][MR]` row pointers of the first tile; each is read from `a_offset` for `kc`
    /// floats.
    pub a: *const *const A,
    pub a_offset: usize,
    pub kc: usize,
    /// `[kc][NR]` for tap 0; tap t starts `t * b_tap_stride` elements later.
    pub b: *const B,
    pub b_tap_stride: usize,
    /// Prefetch B ahead during the first tile: B is too big to stay in L2 between calls.
    pub prefetch_b: bool,
    pub out: Out,
}

/// One ISA's microkernel pair and its register tile.
///
/// Calling `packed` or `indirect` needs `isa` present on this CPU, besides the contracts of
/// [`ukernel::packed`] and [`ukernel::indirect`].
#[derive(Clone, Copy)]
pub(crate) struct Ukernels {
    pub isa: Isa,
    /// The element types its body reads, accumulates and writes.
    pub types: Types,
    pub mr: usize,
    pub nr: usize,
    pub packed: unsafe fn(&PackedTile),
    pub indirect: unsafe fn(&IndirectTile),
}

impl Ukernels {
    /// The register tile.
    pub(crate) fn tile(&self) -> Tile {
        Tile::Gemm {
            mr: self.mr,
            nr: self.nr,
        }
    }
}

/// The microkernel pair of `MR` rows x `NV` vectors on ISA `S`: `MR x (NV * S::LANES)`.
pub(crate) const fn ukernels<S: Simd, const MR: usize, const NV: usize>() -> Ukernels {
    Ukernels {
        isa: S::ISA,
        types: Types::F32,
        mr: MR,
        nr: NV * S::LANES,
        packed: ukernel::packed_entry::<S, MR, NV>,
        indirect: ukernel::indirect_entry::<S, MR, NV>,
    }
}

/// Cache sizes the blocking is derived from (L1d, L2), with defaults where the OS reports none
/// and clamped to sizes the blocking rules were written for.
pub(crate) fn cache_sizes() -> (usize, usize) {
    static SIZES: OnceLock<(usize, usize)> = OnceLock::new();
    *SIZES.get_or_init(|| {
        let l1 = crate::cache::data_cache_size(1).map_or(32 * 1024, |s| s as usize);
        let l2 = crate::cache::data_cache_size(2).map_or(1024 * 1024, |s| s as usize);
        (
            l1.clamp(16 * 1024, 256 * 1024),
            l2.clamp(128 * 1024, 8 << 20),
        )
    })
}

/// Block sizes for a GEMM with reduction length `k` on this tile.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Blocking {
    pub kc: usize,
    pub mc: usize,
}

impl Blocking {
    /// kc: a B micro-panel (kc x NR) fills about half of L1, and k splits into equal blocks;
    /// mc: an A block (mc x kc) fills about half of L2.
    pub(crate) fn new(uk: &Ukernels, k: usize) -> Blocking {
        let (l1, l2) = cache_sizes();
        let kc_target = (l1 / 2 / (uk.nr * f32::BYTES)).clamp(64, 1024);
        let blocks = k.div_ceil(kc_target).max(1);
        let kc = k.div_ceil(blocks).max(1);
        let mc = ((l2 / 2 / (kc * f32::BYTES)) / uk.mr).max(1) * uk.mr;
        Blocking { kc, mc }
    }
}

/// B (k x n) packed at plan time into `ceil(n / NR)` panels of `[k][NR]`, zero-padded to NR.
#[derive(Clone, Debug)]
pub(crate) struct PackedB {
    data: AlignedBuf,
    k: usize,
    n: usize,
    nr: usize,
}

impl PackedB {
    /// Packs `b(kk, j)` for `kk < k`, `j < n`.
    pub(crate) fn new(
        k: usize,
        n: usize,
        nr: usize,
        b: impl Fn(usize, usize) -> f32,
    ) -> Result<PackedB, ConvError> {
        let panels = n.div_ceil(nr);
        let mut data = AlignedBuf::zeroed_for(panels * k * nr, "packed weights")?;
        for p in 0..panels {
            for kk in 0..k {
                let row = &mut data[(p * k + kk) * nr..][..nr];
                for (jj, x) in row.iter_mut().enumerate() {
                    let j = p * nr + jj;
                    if j < n {
                        *x = b(kk, j);
                    }
                }
            }
        }
        Ok(PackedB { data, k, n, nr })
    }
    pub(crate) fn k(&self) -> usize {
        self.k
    }
    pub(crate) fn n(&self) -> usize {
        self.n
    }
    pub(crate) fn panels(&self) -> usize {
        self.n.div_ceil(self.nr)
    }
    /// Panel `p` from row `k0` on.
    fn panel(&self, p: usize, k0: usize) -> &[f32] {
        &self.data[(p * self.k + k0) * self.nr..(p + 1) * self.k * self.nr]
    }
}

/// The output matrix C (m x n, row stride ldc) with its fused epilogue, shared by the tasks of one
/// GEMM, each of which stores only its own tiles.
pub(crate) struct Output<'a> {
    pub c: SharedOut<'a>,
    pub ldc: usize,
    pub bias: Option<&'a [f32]>,
    pub act: Act,
}

impl Output<'_> {
    fn check(&self, m: usize, n: usize) {
        assert!(self.ldc >= n && n > 0 && m > 0);
        assert!(self.c.len() >= (m - 1) * self.ldc + n, "C too short");
        if let Some(b) = self.bias {
            assert!(b.len() >= n, "bias too short");
        }
    }

    fn tile(
        &self,
        row: usize,
        col: usize,
        mr: usize,
        nr: usize,
        k_first: bool,
        k_last: bool,
    ) -> TileStore {
        TileStore {
            // The tile's last element is in bounds too (checked by `ptr_at`).
            c: self
                .c
                .ptr_at(row * self.ldc + col, (mr - 1) * self.ldc + nr),
            ldc: self.ldc,
            mr,
            nr,
            accumulate: !k_first,
            last: k_last,
            bias: self.bias.map_or(std::ptr::null(), |b| b[col..].as_ptr()),
            act: self.act,
        }
    }
}

/// What every GEMM-shaped convolution (direct, im2col, pointwise) keeps after planning: the
/// weights packed per group as an (R*S*C/groups) x (K/groups) B matrix (row `(r*S + s)*C/groups
/// + c`, column `k` within the group, from OHWI), the bias and the activation. A grouped
/// convolution is `groups` independent GEMMs, each writing its own K/groups output columns.
pub(crate) struct PackedConv {
    pub shape: crate::ConvShape,
    pub uk: Ukernels,
    /// One packed B per group.
    pub b: Vec<PackedB>,
    pub bias: Option<Vec<f32>>,
    pub act: Act,
}

impl PackedConv {
    pub(crate) fn new(
        shape: &crate::ConvShape,
        weights: &[f32],
        bias: Option<&[f32]>,
        act: Act,
        uk: Ukernels,
    ) -> Result<PackedConv, ConvError> {
        let (l, kg) = (shape.reduction_len(), shape.k_per_group());
        let b = (0..shape.groups())
            .map(|g| PackedB::new(l, kg, uk.nr, |kk, j| weights[(g * kg + j) * l + kk]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PackedConv {
            shape: *shape,
            uk,
            b,
            bias: bias.map(<[f32]>::to_vec),
            act,
        })
    }

    /// Group `g`'s part of the NHWC output as C (its K/groups columns, row stride K), with
    /// this plan's epilogue.
    pub(crate) fn output<'a>(&'a self, output: &'a mut [f32], g: usize) -> Output<'a> {
        let kg = self.shape.k_per_group();
        Output {
            c: SharedOut::new(&mut output[g * kg..]),
            ldc: self.shape.k(),
            bias: self.bias.as_deref().map(|b| &b[g * kg..][..kg]),
            act: self.act,
        }
    }
}

/// How a GEMM of `m` rows and `panels` NR panels is cut into units: rows per unit (whole MR
/// tiles, at most the cache `block`) and output-channel groups. On one thread, one unit per
/// cache block. Split, about four units per thread, from row blocks first and channel groups where
/// the rows run out (7x7 maps), so work stealing can even out what the threads get. A unit's
/// tiles compute exactly what they would in any other cut (the k blocking is the plan's), so
/// the cut changes no result.
pub(crate) fn units(
    ex: &Exec,
    m: usize,
    block: usize,
    mr: usize,
    panels: usize,
    flops: f64,
) -> (usize, usize) {
    if !ex.splits(flops) {
        return (block, 1);
    }
    let target = 4 * ex.threads();
    let rows = (m.div_ceil(target).div_ceil(mr) * mr).clamp(mr, block.max(mr));
    let groups = target.div_ceil(m.div_ceil(rows)).clamp(1, panels);
    (rows, groups)
}
