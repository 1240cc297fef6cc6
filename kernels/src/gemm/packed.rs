//! The packed GEMM driver: A packed block by block into each worker's scratch (by a [`PackA`],
//! im2col's patch gather), then multiplied with the packed B panels.

use super::*;

/// Packs rows `m0 .. m0 + rows` and columns `k0 .. k0 + kc` of A into `dst` as MR-row panels
/// `[kc][MR]`, zero-filling rows past `rows`.
pub(crate) trait PackA {
    fn pack(&self, m0: usize, rows: usize, k0: usize, kc: usize, mr: usize, dst: &mut [f32]);
}

/// Scratch floats `packed_gemm` needs for this reduction length.
pub(crate) fn packed_scratch_len(uk: &Ukernels, k: usize) -> usize {
    let b = Blocking::new(uk, k);
    b.mc * b.kc
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
    let job = PackedJob { uk, a, b, out, blk };
    let flops = 2.0 * m as f64 * n as f64 * k as f64;
    if !ex.splits(flops) {
        ex.for_each(1, flops, |_, w| {
            for k0 in (0..k).step_by(blk.kc) {
                for m0 in (0..m).step_by(blk.mc) {
                    let rows = blk.mc.min(m - m0);
                    job.block((m0, rows), k0, 0..b.panels(), &mut w.floats);
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
            job.block((m0, rows), k0, panels, &mut w.floats);
        }
    });
}

/// One packed GEMM's operands and blocking.
struct PackedJob<'a> {
    uk: &'a Ukernels,
    a: &'a (dyn PackA + Sync),
    b: &'a PackedB,
    out: &'a Output<'a>,
    blk: Blocking,
}

impl PackedJob<'_> {
    /// Packs rows `m0 .. m0 + rows` x the k block at `k0` of A into `scratch` and multiplies it
    /// with NR panels `panels` of B into C.
    fn block(
        &self,
        (m0, rows): (usize, usize),
        k0: usize,
        panels: std::ops::Range<usize>,
        scratch: &mut [f32],
    ) {
        let (uk, a, b, out, blk) = (self.uk, self.a, self.b, self.out, &self.blk);
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
}
