//! Packed SGEMM: BLIS-style cache blocking (kc from L1, mc from L2), packed B panels made at plan
//! time, and MR x NR register-blocked microkernel pairs, one generic body (`gemm/ukernel.rs`)
//! instantiated per ISA and tile by [`ukernels`] (the registry lists which tiles exist).
//!
//! The drivers here are safe: they check every length once, then call the `unsafe` microkernels.
//! Their units of parallel work are (row block, output-channel group) pairs: a reduction is never
//! split, so every element of C sees the same sums in the same order on any number of threads.

mod ukernel;

use std::sync::OnceLock;

use crate::par::{part, Exec, SharedOut};
use crate::simd::{Act, Simd};
use crate::{AlignedBuf, ConvError, Element, Isa, Tile, Types};

/// Where and how one microkernel call stores its tile.
#[derive(Clone, Copy)]
pub(crate) struct TileStore {
    pub c: *mut f32,
    pub ldc: usize,
    /// Valid rows (`<= MR`) and columns (`<= NR`).
    pub mr: usize,
    pub nr: usize,
    /// Add the tile to what C holds (a later k block).
    pub accumulate: bool,
    /// This is the last k block: add bias, apply the activation.
    pub last: bool,
    /// Bias for the tile's first column, or null.
    pub bias: *const f32,
    pub act: Act,
}

/// Arguments of the packed microkernel.
pub(crate) struct PackedTile {
    pub kc: usize,
    /// `[kc][MR]`.
    pub a: *const f32,
    /// `[kc][NR]`.
    pub b: *const f32,
    pub out: TileStore,
}

/// Arguments of the indirect microkernel: `tiles` tiles one below the other that share taps,
/// `kc`, B and the store flags, in one call (the per-call set-up then counts once per run of
/// tiles rather than once per tile, which matters when `kc` is short).
pub(crate) struct IndirectTile {
    pub tiles: usize,
    /// Table entries between consecutive tiles' row pointers.
    pub a_tile_stride: usize,
    /// Floats of C between consecutive tiles (`MR * ldc`).
    pub c_tile_stride: usize,
    pub taps: usize,
    /// `[taps][MR]` row pointers of the first tile; each is read from `a_offset` for `kc`
    /// floats.
    pub a: *const *const f32,
    pub a_offset: usize,
    pub kc: usize,
    /// `[kc][NR]` for tap 0; tap t starts `t * b_tap_stride` floats later.
    pub b: *const f32,
    pub b_tap_stride: usize,
    /// Prefetch B ahead during the first tile: B is too big to stay in L2 between calls.
    pub prefetch_b: bool,
    pub out: TileStore,
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

/// Packs rows `m0 .. m0 + rows` and columns `k0 .. k0 + kc` of A into `dst` as MR-row panels
/// `[kc][MR]`, zero-filling rows past `rows`.
pub(crate) trait PackA {
    fn pack(&self, m0: usize, rows: usize, k0: usize, kc: usize, mr: usize, dst: &mut [f32]);
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

/// Scratch floats `packed_gemm` needs for this reduction length.
pub(crate) fn packed_scratch_len(uk: &Ukernels, k: usize) -> usize {
    let b = Blocking::new(uk, k);
    b.mc * b.kc
}

/// How a GEMM of `m` rows and `panels` NR panels is cut into units: rows per unit (whole MR
/// tiles, at most the cache `block`) and output-channel groups. On one thread, one unit per
/// cache block. Split, about four units per thread, from row blocks first and channel groups where
/// the rows run out (7x7 maps), so work stealing can even out what the threads get. A unit's
/// tiles compute exactly what they would in any other cut (the k blocking is the plan's), so
/// the cut changes no result.
fn units(
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

/// C = A * B with A packed block by block by `a` into each worker's scratch.
///
/// On one thread, BLIS's loop order: kc blocks, then mc row blocks, then NR and MR panels, so each
/// B k-slice is reused by every row block from L2 (running the k blocks inside each row block
/// instead measured 5-8% slower on resnet_3x3_28). In parallel, a unit is a block of at most mc
/// rows x a group of NR panels ([`units`]) with the k blocks inside it. Each element of C sums
/// the same k blocks in the same order either way.
pub(crate) fn packed_gemm(
    uk: &Ukernels,
    m: usize,
    a: &(dyn PackA + Sync),
    b: &PackedB,
    out: &Output,
    ex: &Exec,
) {
    let (k, n) = (b.k(), b.n());
    out.check(m, n);
    let blk = Blocking::new(uk, k);
    let flops = 2.0 * m as f64 * n as f64 * k as f64;
    if !ex.splits(flops) {
        ex.for_each(1, flops, |_, w| {
            for k0 in (0..k).step_by(blk.kc) {
                for m0 in (0..m).step_by(blk.mc) {
                    let rows = blk.mc.min(m - m0);
                    packed_block(
                        uk,
                        a,
                        b,
                        out,
                        &blk,
                        (m0, rows),
                        k0,
                        0..b.panels(),
                        &mut w.floats,
                    );
                }
            }
        });
        return;
    }
    let (unit_rows, groups) = units(ex, m, blk.mc, uk.mr, b.panels(), flops);
    let row_units = m.div_ceil(unit_rows);
    // Column-major, so that any contiguous run of units (what a thread takes) spans rows.
    ex.for_each(row_units * groups, flops, |u, w| {
        let (g, m0) = (u / row_units, u % row_units * unit_rows);
        let rows = unit_rows.min(m - m0);
        for k0 in (0..k).step_by(blk.kc) {
            let panels = part(b.panels(), groups, g);
            packed_block(uk, a, b, out, &blk, (m0, rows), k0, panels, &mut w.floats);
        }
    });
}

/// Packs rows `m0 .. m0 + rows` x the k block at `k0` of A into `scratch` and multiplies it with
/// NR panels `panels` of B into C.
#[allow(clippy::too_many_arguments)]
fn packed_block(
    uk: &Ukernels,
    a: &(dyn PackA + Sync),
    b: &PackedB,
    out: &Output,
    blk: &Blocking,
    (m0, rows): (usize, usize),
    k0: usize,
    panels: std::ops::Range<usize>,
    scratch: &mut [f32],
) {
    let (k, n) = (b.k(), b.n());
    let m = m0 + rows;
    let kc = blk.kc.min(k - k0);
    let panels_m = rows.div_ceil(uk.mr);
    assert!(
        scratch.len() >= blk.mc * blk.kc && rows <= blk.mc,
        "GEMM scratch too short"
    );
    let apack = &mut scratch[..panels_m * uk.mr * kc];
    a.pack(m0, rows, k0, kc, uk.mr, apack);
    for jp in panels {
        let bp = b.panel(jp, k0);
        let col = jp * uk.nr;
        let nr = uk.nr.min(n - col);
        for ip in 0..panels_m {
            let row = m0 + ip * uk.mr;
            let mr = uk.mr.min(m - row);
            let ap = &apack[ip * uk.mr * kc..][..uk.mr * kc];
            let tile = PackedTile {
                kc,
                a: ap.as_ptr(),
                b: bp.as_ptr(),
                out: out.tile(row, col, mr, nr, k0 == 0, k0 + kc == k),
            };
            debug_assert!(bp.len() >= kc * uk.nr);
            // SAFETY: `ap` holds MR*kc floats and `bp` at least kc*NR (sliced above); the tile's
            // rows/cols are within C and bias (checked by `Output::check` and `ptr_at`), and no
            // other unit stores to them (units own disjoint row blocks x panel groups); the ISA
            // was checked when the plan was made.
            unsafe { (uk.packed)(&tile) };
        }
    }
}

/// Row pointers for the indirect GEMM.
///
/// # Safety
/// `fill` must only produce pointers derived from live slices that have at least the returned
/// `kc` floats left (or from a zero row at least that long), because the microkernel reads them
/// unchecked.
pub(crate) unsafe trait RowPointers {
    /// The most taps any tile uses (sizes the pointer table).
    fn max_taps(&self) -> usize;
    /// Fills `taps * mr` pointers (`[taps][mr]`) for rows `m0 .. m0 + rows` (rows past `rows`
    /// point at a zero row) and says how the tile's reduction is split into taps.
    fn fill(&self, m0: usize, rows: usize, mr: usize, table: &mut [*const f32]) -> Taps;
}

/// How one tile's reduction is split: `taps` taps of `kc` contiguous floats each.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Taps {
    pub taps: usize,
    pub kc: usize,
    /// B rows between the first rows of consecutive taps.
    pub b_tap_rows: usize,
}

/// Most MR-tiles the indirect GEMM treats as one block.
const MAX_BLOCK_TILES: usize = 64;

/// The indirect GEMM's blocking, computed once per plan (its integer divisions cost as much as
/// the rest of the driver when the GEMMs are small, as Winograd's are).
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndirectBlocking {
    /// MR-tiles per block: enough that a block's input rows (about `footprint` floats per row)
    /// fill half of L2, so they stay there while every B panel passes over them.
    block_tiles: usize,
    max_taps: usize,
    /// The k block ([`Blocking`]) of the longest reduction per tap the plan has, used for every
    /// tile.
    kcb: usize,
    /// Floats between the copied rows when a tile's rows are copied before use ([`rows_alias`]),
    /// 0 when they are read in place.
    copy_ld: usize,
}

/// L1 data caches this crate targets (Intel since Skylake, AMD since Zen, Arm Neoverse) have 64
/// sets of 64-byte lines, so addresses 4 KiB apart share a set; the smallest have 8 ways.
const L1_SETS: usize = 64;
const L1_MIN_WAYS: usize = 8;

/// Whether `mr` rows `row_stride` floats apart put more lines in one L1 set than it has ways.
/// The microkernel reads its MR rows in lockstep, so such a tile misses L1 on every line: a
/// 12x8 tile over a 1x1 layer with C = 1024 (rows 4 KiB apart) measured 34 GFLOP/s against 78 at
/// C = 1000 on Zen 3; 6 rows in one set measured no loss.
pub(crate) fn rows_alias(mr: usize, row_stride: usize) -> bool {
    // Distinct lines only: rows closer than a line share lines, not sets.
    let mut lines: Vec<u128> = (0..mr as u128)
        .map(|i| i * row_stride as u128 * f32::BYTES as u128 / 64)
        .collect();
    lines.dedup();
    let mut per_set = [0usize; L1_SETS];
    for l in lines {
        per_set[(l % L1_SETS as u128) as usize] += 1;
    }
    per_set.iter().any(|&n| n > L1_MIN_WAYS)
}

impl IndirectBlocking {
    /// For row pointers with at most `max_taps` taps of at most `kc` floats each, and the rows
    /// of one tap `row_stride` floats apart.
    pub(crate) fn new(
        uk: &Ukernels,
        max_taps: usize,
        footprint: usize,
        kc: usize,
        row_stride: usize,
    ) -> Self {
        let (_, l2) = cache_sizes();
        let kcb = Blocking::new(uk, kc).kc;
        // An odd number of lines per copied row puts up to 64 consecutive rows in distinct sets.
        let lines = kcb.div_ceil(16);
        let copy_ld = if rows_alias(uk.mr, row_stride) {
            (lines | 1) * 16
        } else {
            0
        };
        IndirectBlocking {
            block_tiles: (l2 / 2 / (footprint.max(1) * f32::BYTES * uk.mr))
                .clamp(1, MAX_BLOCK_TILES),
            max_taps,
            kcb,
            copy_ld,
        }
    }

    /// Row pointers of one block: `[tile][tap][MR]`.
    fn block_rows(&self, uk: &Ukernels) -> usize {
        self.block_tiles * self.max_taps * uk.mr
    }

    /// Pointer-table entries `indirect_gemm` needs (twice the table when rows are copied: the
    /// second half points into the copy).
    pub(crate) fn table_len(&self, uk: &Ukernels) -> usize {
        let copies = if self.copy_ld > 0 { 2 } else { 1 };
        copies * self.block_rows(uk)
    }

    /// Scratch floats `indirect_gemm` needs for copied rows (one k block of a whole block).
    pub(crate) fn copy_len(&self, uk: &Ukernels) -> usize {
        self.block_rows(uk) * self.copy_ld
    }
}

/// C = sum over taps of A_tap * B_tap, A read in place through row pointers, as units (a block
/// of MR-tiles x a group of NR panels) on `ex`, each with its worker's pointer table.
pub(crate) fn indirect_gemm(
    uk: &Ukernels,
    m: usize,
    rows: &(dyn RowPointers + Sync),
    blocking: &IndirectBlocking,
    b: &PackedB,
    out: &Output,
    ex: &Exec,
) {
    out.check(m, b.n());
    let block_rows = blocking.block_tiles * uk.mr;
    let flops = 2.0 * m as f64 * b.n() as f64 * b.k() as f64;
    let (unit_rows, groups) = units(ex, m, block_rows, uk.mr, b.panels(), flops);
    let row_units = m.div_ceil(unit_rows);
    // Column-major, as in `packed_gemm`.
    ex.for_each(row_units * groups, flops, |u, w| {
        let (g, m0) = (u / row_units, u % row_units * unit_rows);
        let panels = part(b.panels(), groups, g);
        let n_rows = unit_rows.min(m - m0);
        indirect_block(
            uk,
            m,
            m0,
            n_rows,
            rows,
            blocking,
            b,
            out,
            panels,
            &mut w.ptrs,
            &mut w.floats,
        );
    });
}

/// [`indirect_gemm`] restricted to NR panels `panels`, on the caller's thread, every row block in
/// order (inside another driver's task).
#[allow(clippy::too_many_arguments)]
pub(crate) fn indirect_gemm_serial(
    uk: &Ukernels,
    m: usize,
    rows: &dyn RowPointers,
    blocking: &IndirectBlocking,
    b: &PackedB,
    out: &Output,
    panels: std::ops::Range<usize>,
    table: &mut [*const f32],
    copy: &mut [f32],
) {
    out.check(m, b.n());
    assert!(panels.end <= b.panels());
    let block_rows = blocking.block_tiles * uk.mr;
    for m0 in (0..m).step_by(block_rows) {
        let n_rows = block_rows.min(m - m0);
        let p = panels.clone();
        indirect_block(uk, m, m0, n_rows, rows, blocking, b, out, p, table, copy);
    }
}

/// One unit of the indirect GEMM: rows `m0 .. m0 + n_rows` (whole MR-tiles, at most a cache
/// block) against NR panels `panels`.
/// Loop order: k blocks, then panels, then the block's tiles, so the block's A rows stay in L2
/// while each B panel streams through.
#[allow(clippy::too_many_arguments)]
fn indirect_block(
    uk: &Ukernels,
    m: usize,
    m0: usize,
    n_rows: usize,
    rows: &dyn RowPointers,
    blocking: &IndirectBlocking,
    b: &PackedB,
    out: &Output,
    panels: std::ops::Range<usize>,
    table: &mut [*const f32],
    copy: &mut [f32],
) {
    let n = b.n();
    let block_tiles = blocking.block_tiles;
    assert!(rows.max_taps() <= blocking.max_taps);
    let per_tile = rows.max_taps() * uk.mr;
    let ld = blocking.copy_ld;
    assert!(
        table.len() >= blocking.table_len(uk),
        "pointer table too short"
    );
    assert!(copy.len() >= blocking.copy_len(uk), "row copy too short");
    // The second half of the table points into `copy` when rows are copied.
    let (table, copied) = table.split_at_mut(blocking.block_rows(uk));
    let mut taps = [Taps::default(); MAX_BLOCK_TILES];
    // A B bigger than L2 comes from L3 each time a block starts on it, faster than the hardware
    // prefetchers fetch it when few tiles share each panel (3x3 layers with 512 channels).
    let prefetch_b = b.k() * b.panels() * uk.nr * f32::BYTES > cache_sizes().1;
    assert!(m0 + n_rows <= m && n_rows <= block_tiles * uk.mr);
    let tiles = n_rows.div_ceil(uk.mr);
    for (t, tp) in taps.iter_mut().enumerate().take(tiles) {
        let row = m0 + t * uk.mr;
        *tp = rows.fill(
            row,
            uk.mr.min(m - row),
            uk.mr,
            &mut table[t * per_tile..][..per_tile],
        );
        assert!(tp.taps >= 1 && tp.taps <= rows.max_taps() && tp.kc >= 1);
        assert!((tp.taps - 1) * tp.b_tap_rows + tp.kc <= b.k());
    }
    // Runs of consecutive whole tiles with the same taps, found once per block (they run in one
    // microkernel call each): scanning for them per panel and k block cost 3% of a 1x1 layer
    // with C = 24.
    let mut runs = [(0usize, 0usize); MAX_BLOCK_TILES];
    let mut n_runs = 0;
    let mut t = 0;
    while t < tiles {
        let row = m0 + t * uk.mr;
        let mut run = 1;
        if uk.mr.min(m - row) == uk.mr {
            while t + run < tiles && taps[t + run] == taps[t] && row + (run + 1) * uk.mr <= m {
                run += 1;
            }
        }
        runs[n_runs] = (t, run);
        n_runs += 1;
        t += run;
    }
    // Split each tile's per-tap reduction into blocks whose B slices (taps x kcb x NR) are
    // shared by the block's tiles from L1; the tile accumulates in C between blocks. kcb is the
    // plan's, not this block's: a tile's sums then do not depend on which tiles share its block.
    let max_kc = taps.iter().take(tiles).map(|t| t.kc).max().unwrap_or(1);
    let kcb = blocking.kcb;
    for c0 in (0..max_kc).step_by(kcb) {
        if ld > 0 {
            // Rows that would share L1 sets are copied, this k block of each, to rows `ld`
            // floats apart; every panel then reads the copy. One pass over disjoint rows, so a
            // pointer taken from one row stays valid while the next rows are written.
            for (e, dst) in copy.chunks_exact_mut(ld).enumerate().take(tiles * per_tile) {
                let tp = taps[e / per_tile];
                if c0 >= tp.kc || e % per_tile >= tp.taps * uk.mr {
                    continue;
                }
                let kc = kcb.min(tp.kc - c0);
                // SAFETY: `fill` made table[e] valid for tp.kc >= c0 + kc floats (the
                // RowPointers contract), and nothing writes to those rows meanwhile.
                let src = unsafe { std::slice::from_raw_parts(table[e].add(c0), kc) };
                dst[..kc].copy_from_slice(src);
                copied[e] = dst.as_ptr();
            }
        }
        let (a, a_offset) = if ld > 0 { (&*copied, 0) } else { (&*table, c0) };
        for jp in panels.clone() {
            let bp = b.panel(jp, 0);
            let col = jp * uk.nr;
            let nr = uk.nr.min(n - col);
            for &(t, run) in &runs[..n_runs] {
                let tp = taps[t];
                if c0 >= tp.kc {
                    continue;
                }
                let row = m0 + t * uk.mr;
                let mr = uk.mr.min(m - row);
                let kc = kcb.min(tp.kc - c0);
                let tile = IndirectTile {
                    tiles: run,
                    a_tile_stride: per_tile,
                    c_tile_stride: uk.mr * out.ldc,
                    taps: tp.taps,
                    a: a[t * per_tile..][..run * per_tile].as_ptr(),
                    a_offset,
                    kc,
                    b: bp[c0 * uk.nr..].as_ptr(),
                    b_tap_stride: tp.b_tap_rows * uk.nr,
                    prefetch_b: prefetch_b && t == 0,
                    out: out.tile(row, col, mr, nr, c0 == 0, c0 + kc == tp.kc),
                };
                // SAFETY: the table slice holds run*taps*MR pointers (per_tile per tile),
                // each valid for tp.kc >= c0 + kc floats (the RowPointers contract), or, when
                // copied, for the kc floats copied above from offset c0; the B
                // panel covers every tap's rows c0 .. c0 + kc (asserted above); a run of
                // more than one tile holds whole tiles of equal taps, rows
                // row .. row + run*MR <= m, so each tile lies within C and bias
                // (`Output::check`); the ISA was checked at plan time. No other unit stores
                // to these tiles (units own disjoint row blocks x panel groups).
                unsafe { (uk.indirect)(&tile) };
            }
        }
    }
}

/// A row-major matrix read in place: row `i` starts at `i * lda`; one tap.
pub(crate) struct MatrixRows<'a> {
    pub a: &'a [f32],
    pub lda: usize,
    pub k: usize,
    /// At least `k` zeros, for the rows past the end of a tile.
    pub zero: &'a [f32],
}

// SAFETY: every pointer is taken from a bounds-checked slice of `k` floats of `a` or `zero`.
unsafe impl RowPointers for MatrixRows<'_> {
    fn max_taps(&self) -> usize {
        1
    }
    fn fill(&self, m0: usize, rows: usize, mr: usize, table: &mut [*const f32]) -> Taps {
        assert!(self.zero.len() >= self.k);
        for (i, p) in table.iter_mut().enumerate().take(mr) {
            *p = if i < rows {
                self.a[(m0 + i) * self.lda..][..self.k].as_ptr()
            } else {
                self.zero[..self.k].as_ptr()
            };
        }
        Taps {
            taps: 1,
            kc: self.k,
            b_tap_rows: 0,
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

#[cfg(test)]
mod tests {
    use super::rows_alias;

    #[test]
    fn rows_alias_when_more_rows_share_an_l1_set_than_it_has_ways() {
        // 4 KiB apart: every row in one set.
        assert!(rows_alias(12, 1024) && rows_alias(9, 2048) && rows_alias(14, 1024));
        assert!(!rows_alias(8, 1024) && !rows_alias(6, 4096));
        // 2 KiB apart: two sets, 7 rows each for 14.
        assert!(!rows_alias(14, 512) && rows_alias(18, 512));
        // Off the 4 KiB period, or contiguous.
        assert!(!rows_alias(14, 1000) && !rows_alias(14, 1040) && !rows_alias(64, 16));
        assert!(rows_alias(12, 3 * 1024));
        // Rows closer than a line share lines (the 7x7 stem: 6 floats apart).
        assert!(!rows_alias(12, 6) && !rows_alias(14, 1) && !rows_alias(12, 0));
    }
}
