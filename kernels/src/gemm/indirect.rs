//! The indirect GEMM driver: A's rows read in place through row pointers (direct's taps,
//! pointwise's pixels, Winograd's transformed tiles), with the row copy for tiles whose rows
//! would thrash one L1 set.

use super::*;

/// Row pointers to `T` elements for the indirect GEMM.
///
/// # Safety
/// `fill` must only produce pointers derived from live slices that have at least the returned
/// `kc` elements left (or from a zero row at least that long), because the microkernel reads
/// them unchecked.
pub(crate) unsafe trait RowPointers<T = f32> {
    /// The most taps any tile uses (sizes the pointer table).
    fn max_taps(&self) -> usize;
    /// Fills `taps * mr` pointers (`[taps][mr]`) for rows `m0 .. m0 + rows` (rows past `rows`
    /// point at a zero row) and says how the tile's reduction is split into taps.
    fn fill(&self, m0: usize, rows: usize, mr: usize, table: &mut [*const T]) -> Taps;
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

/// One indirect GEMM: C (`m` x `b.n()`) = sum over taps of A_tap * B_tap, A read in place through
/// `rows`, written through `out`.
pub(crate) struct IndirectGemm<'a, R: ?Sized> {
    pub uk: &'a Ukernels,
    pub m: usize,
    pub rows: &'a R,
    pub blocking: &'a IndirectBlocking,
    pub b: &'a PackedB,
    pub out: &'a Output<'a>,
}

/// A worker's pointer table and row copy, sized by [`IndirectBlocking::table_len`] and
/// [`IndirectBlocking::copy_len`].
pub(crate) struct IndirectScratch<'s> {
    pub table: &'s mut [*const f32],
    pub copy: &'s mut [f32],
}

impl<R: RowPointers + ?Sized> IndirectGemm<'_, R> {
    /// The whole product as units (a block of MR-tiles x a group of NR panels) on `ex`, each with
    /// its worker's pointer table.
    pub(crate) fn run(&self, ex: &Exec)
    where
        R: Sync,
    {
        let (m, b) = (self.m, self.b);
        self.out.check(m, b.n());
        let block_rows = self.blocking.block_tiles * self.uk.mr;
        let flops = 2.0 * m as f64 * b.n() as f64 * b.k() as f64;
        let (unit_rows, groups) = units(ex, m, block_rows, self.uk.mr, b.panels(), flops);
        let row_units = m.div_ceil(unit_rows);
        // Column-major, as in `packed_gemm`.
        ex.for_each(row_units * groups, flops, |u, w| {
            let (g, m0) = (u / row_units, u % row_units * unit_rows);
            let panels = part(b.panels(), groups, g);
            let n_rows = unit_rows.min(m - m0);
            let mut scratch = IndirectScratch {
                table: &mut w.ptrs,
                copy: &mut w.floats,
            };
            self.block(m0, n_rows, panels, &mut scratch);
        });
    }

    /// NR panels `panels` only, on the caller's thread, every row block in order (inside another
    /// driver's task).
    pub(crate) fn serial(&self, panels: std::ops::Range<usize>, scratch: &mut IndirectScratch) {
        self.out.check(self.m, self.b.n());
        assert!(panels.end <= self.b.panels());
        let block_rows = self.blocking.block_tiles * self.uk.mr;
        for m0 in (0..self.m).step_by(block_rows) {
            let n_rows = block_rows.min(self.m - m0);
            self.block(m0, n_rows, panels.clone(), scratch);
        }
    }

    /// One unit: rows `m0 .. m0 + n_rows` (whole MR-tiles, at most a cache block) against NR
    /// panels `panels`.
    /// Loop order: k blocks, then panels, then the block's tiles, so the block's A rows stay in
    /// L2 while each B panel streams through.
    fn block(
        &self,
        m0: usize,
        n_rows: usize,
        panels: std::ops::Range<usize>,
        scratch: &mut IndirectScratch,
    ) {
        let (uk, m, b, out, blocking) = (self.uk, self.m, self.b, self.out, self.blocking);
        let n = b.n();
        let per_tile = self.rows.max_taps() * uk.mr;
        let ld = blocking.copy_ld;
        assert!(self.rows.max_taps() <= blocking.max_taps);
        assert!(
            scratch.table.len() >= blocking.table_len(uk),
            "pointer table too short"
        );
        assert!(
            scratch.copy.len() >= blocking.copy_len(uk),
            "row copy too short"
        );
        assert!(m0 + n_rows <= m && n_rows <= blocking.block_tiles * uk.mr);
        // The second half of the table points into `copy` when rows are copied.
        let (table, copied) = scratch.table.split_at_mut(blocking.block_rows(uk));
        let tiles = n_rows.div_ceil(uk.mr);
        let taps = self.fill(m0, tiles, table);
        let (runs, n_runs) = self.runs(m0, &taps[..tiles]);
        // A B bigger than L2 comes from L3 each time a block starts on it, faster than the
        // hardware prefetchers fetch it when few tiles share each panel (3x3 layers with 512
        // channels).
        let prefetch_b = b.k() * b.panels() * uk.nr * f32::BYTES > cache_sizes().1;
        // Split each tile's per-tap reduction into blocks whose B slices (taps x kcb x NR) are
        // shared by the block's tiles from L1; the tile accumulates in C between blocks. kcb is
        // the plan's, not this block's: a tile's sums then do not depend on which tiles share its
        // block.
        let max_kc = taps.iter().take(tiles).map(|t| t.kc).max().unwrap_or(1);
        let kcb = blocking.kcb;
        for c0 in (0..max_kc).step_by(kcb) {
            if ld > 0 {
                self.copy_rows(&taps[..tiles], c0, table, copied, scratch.copy);
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
                    // each valid for tp.kc >= c0 + kc floats (the RowPointers contract), or,
                    // when copied, for the kc floats copied from offset c0; the B panel covers
                    // every tap's rows c0 .. c0 + kc (asserted in `fill`); a run of more than
                    // one tile holds whole tiles of equal taps, rows row .. row + run*MR <= m,
                    // so each tile lies within C and bias (`Output::check`); the ISA was checked
                    // at plan time. No other unit stores to these tiles (units own disjoint row
                    // blocks x panel groups).
                    unsafe { (uk.indirect)(&tile) };
                }
            }
        }
    }

    /// The row pointers of `tiles` MR-tiles from row `m0` into `table` (`[tile][tap][MR]`), and
    /// each tile's taps.
    fn fill(&self, m0: usize, tiles: usize, table: &mut [*const f32]) -> [Taps; MAX_BLOCK_TILES] {
        let (uk, m) = (self.uk, self.m);
        let per_tile = self.rows.max_taps() * uk.mr;
        let mut taps = [Taps::default(); MAX_BLOCK_TILES];
        for (t, tp) in taps.iter_mut().enumerate().take(tiles) {
            let row = m0 + t * uk.mr;
            *tp = self.rows.fill(
                row,
                uk.mr.min(m - row),
                uk.mr,
                &mut table[t * per_tile..][..per_tile],
            );
            assert!(tp.taps >= 1 && tp.taps <= self.rows.max_taps() && tp.kc >= 1);
            assert!((tp.taps - 1) * tp.b_tap_rows + tp.kc <= self.b.k());
        }
        taps
    }

    /// Copies k block `c0` of every row the tiles use to rows `copy_ld` floats apart in `copy`,
    /// and points `copied` at them: rows that would share L1 sets are read from the copy by
    /// every panel. One pass over disjoint rows, so a pointer taken from one row stays valid
    /// while the next rows are written.
    fn copy_rows(
        &self,
        taps: &[Taps],
        c0: usize,
        table: &[*const f32],
        copied: &mut [*const f32],
        copy: &mut [f32],
    ) {
        let per_tile = self.rows.max_taps() * self.uk.mr;
        let (ld, kcb) = (self.blocking.copy_ld, self.blocking.kcb);
        for (e, dst) in copy
            .chunks_exact_mut(ld)
            .enumerate()
            .take(taps.len() * per_tile)
        {
            let tp = taps[e / per_tile];
            if c0 >= tp.kc || e % per_tile >= tp.taps * self.uk.mr {
                continue;
            }
            let kc = kcb.min(tp.kc - c0);
            // SAFETY: `fill` made table[e] valid for tp.kc >= c0 + kc floats (the RowPointers
            // contract), and nothing writes to those rows meanwhile.
            let src = unsafe { std::slice::from_raw_parts(table[e].add(c0), kc) };
            dst[..kc].copy_from_slice(src);
            copied[e] = dst.as_ptr();
        }
    }

    /// Runs of consecutive whole tiles with the same taps, as (first tile, tiles), found once per
    /// block (they run in one microkernel call each): scanning for them per panel and k block
    /// cost 3% of a 1x1 layer with C = 24.
    fn runs(&self, m0: usize, taps: &[Taps]) -> ([(usize, usize); MAX_BLOCK_TILES], usize) {
        let (mr, m) = (self.uk.mr, self.m);
        let mut runs = [(0usize, 0usize); MAX_BLOCK_TILES];
        let mut n_runs = 0;
        let mut t = 0;
        while t < taps.len() {
            let row = m0 + t * mr;
            let mut run = 1;
            if mr.min(m - row) == mr {
                while t + run < taps.len() && taps[t + run] == taps[t] && row + (run + 1) * mr <= m
                {
                    run += 1;
                }
            }
            runs[n_runs] = (t, run);
            n_runs += 1;
            t += run;
        }
        (runs, n_runs)
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
