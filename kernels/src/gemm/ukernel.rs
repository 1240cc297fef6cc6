//! The generic MR x (NV·LANES) register-blocked microkernel bodies, written once over [`Simd`] and
//! compiled per ISA and tile through that ISA's one entry point, [`Simd::vectorize`]
//! ([`packed_entry`], [`indirect_entry`]).
//!
//! Two ways to feed A, one accumulator tile:
//! - `packed`: A is a packed panel `[kc][MR]` (BLIS); used by im2col, whose packing is the gather.
//! - `indirect`: A rows are read in place through a table of row pointers, one set of MR pointers
//!   per kernel tap (XNNPACK's indirect GEMM); used by direct (taps = R·S, padding rows point at a
//!   zero row), pointwise (one tap, the NHWC input as a matrix) and Winograd's batched GEMMs.
//!
//! B is always a packed panel `[kc][NR]`, zero-padded to NR columns, so the inner loop has no tail.
//! The epilogue (accumulate into C, bias, activation) runs once per tile, at the store.

use super::{IndirectTile, PackedTile, TileStore};
use crate::simd::{Act, Simd, WithSimd};
use crate::Element;

/// [`packed`] as a body for [`Simd::vectorize`]; made only by [`packed_entry`], whose caller
/// upholds `packed`'s contract.
struct Packed<'a, const MR: usize, const NV: usize>(&'a PackedTile);

impl<const MR: usize, const NV: usize> WithSimd for Packed<'_, MR, NV> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        // SAFETY: the caller of `packed_entry` upholds `packed`'s contract.
        unsafe { packed::<S, MR, NV>(s, self.0) }
    }
}

/// [`indirect`] as a body for [`Simd::vectorize`]; made only by [`indirect_entry`].
struct Indirect<'a, const MR: usize, const NV: usize>(&'a IndirectTile);

impl<const MR: usize, const NV: usize> WithSimd for Indirect<'_, MR, NV> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        // SAFETY: the caller of `indirect_entry` upholds `indirect`'s contract.
        unsafe { indirect::<S, MR, NV>(s, self.0) }
    }
}

/// The packed microkernel of tile `MR x NV` on ISA `S` (a `Ukernels::packed` pointer).
///
/// # Safety
/// `S::ISA` is available on this CPU; the contract of [`packed`].
pub(super) unsafe fn packed_entry<S: Simd, const MR: usize, const NV: usize>(t: &PackedTile) {
    S::assume().vectorize(Packed::<MR, NV>(t))
}

/// The indirect microkernel of tile `MR x NV` on ISA `S` (a `Ukernels::indirect` pointer).
///
/// # Safety
/// `S::ISA` is available on this CPU; the contract of [`indirect`].
pub(super) unsafe fn indirect_entry<S: Simd, const MR: usize, const NV: usize>(t: &IndirectTile) {
    S::assume().vectorize(Indirect::<MR, NV>(t))
}

/// `C[mr x nr] (+)= A_panel * B_panel`, then the epilogue.
///
/// # Safety
/// `t.a` holds `kc * MR` floats, `t.b` holds `kc * NV * LANES` floats, and the store contract of
/// [`store_tile`] holds for `t.out`.
#[inline(always)]
pub(crate) unsafe fn packed<S: Simd, const MR: usize, const NV: usize>(s: S, t: &PackedTile) {
    let nr = NV * S::LANES;
    let mut out = t.out;
    let mut acc = [bias_init::<S, NV>(s, &mut out); MR];
    let (mut a, mut b) = (t.a, t.b);
    for _ in 0..t.kc {
        let mut bv = [s.zero(); NV];
        for (j, v) in bv.iter_mut().enumerate() {
            *v = s.load(b.add(j * S::LANES));
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let av = s.splat(*a.add(i));
            for (j, c) in row.iter_mut().enumerate() {
                *c = s.fma(av, bv[j], *c);
            }
        }
        a = a.add(MR);
        b = b.add(nr);
    }
    store_tile(s, &acc, &out);
}

/// The accumulators' starting row: the bias when the tile is computed in one k block (whole
/// tiles only: it is loaded as whole vectors), which `out` then no longer adds; else zero.
/// Starting at the bias takes 1 add per accumulator out of the epilogue: 2% of a 1x1 layer
/// with C = 24 (a 24-step k loop per tile).
///
/// # Safety
/// `out.bias`, when not null, points at `out.nr` readable floats.
#[inline(always)]
unsafe fn bias_init<S: Simd, const NV: usize>(s: S, out: &mut TileStore) -> [S::V; NV] {
    let mut init = [s.zero(); NV];
    if !out.accumulate && out.last && !out.bias.is_null() && out.nr == NV * S::LANES {
        for (j, v) in init.iter_mut().enumerate() {
            *v = s.load(out.bias.add(j * S::LANES));
        }
        out.bias = std::ptr::null();
    }
    init
}

/// For each of `t.tiles` tiles: `C[mr x nr] (+)= sum over taps of A_rows(tap) * B_panel(tap)`,
/// then the epilogue.
///
/// # Safety
/// For every tile `i < tiles`, tap `t < taps` and row `r < MR`,
/// `*t.a.add(i * a_tile_stride + t * MR + r)` points at `a_offset + kc` readable floats;
/// `t.b + tap * b_tap_stride` holds `kc * NV * LANES` floats for every tap; the store contract
/// of [`store_tile`] holds for `t.out` moved down by `i * c_tile_stride` floats for every tile.
#[inline(always)]
pub(crate) unsafe fn indirect<S: Simd, const MR: usize, const NV: usize>(s: S, t: &IndirectTile) {
    let mut out = t.out;
    let init = bias_init::<S, NV>(s, &mut out);
    let mut table = t.a;
    for i in 0..t.tiles {
        // Only the first tile fetches B from beyond L2; the others find it in cache.
        let acc = if i == 0 && t.prefetch_b {
            indirect_tile::<S, MR, NV, true>(s, t, table, init)
        } else {
            indirect_tile::<S, MR, NV, false>(s, t, table, init)
        };
        store_tile(s, &acc, &out);
        table = table.wrapping_add(t.a_tile_stride);
        out.c = out.c.wrapping_add(t.c_tile_stride);
    }
}

/// B rows ahead that `indirect_tile` prefetches: about 200 cycles of L3 latency at 8-14 cycles a
/// row.
const PREFETCH_ROWS: usize = 16;

/// One tile's accumulators: the sum over taps of `A_rows(tap) * B_panel(tap)` for the row
/// pointers at `table`. With `PREFETCH`, each k step also prefetches the B row
/// [`PREFETCH_ROWS`] ahead (a hint: it may point past the panel, and never faults).
///
/// # Safety
/// The contract of [`indirect`] for the tile whose row pointers start at `table`.
#[inline(always)]
unsafe fn indirect_tile<S: Simd, const MR: usize, const NV: usize, const PREFETCH: bool>(
    s: S,
    t: &IndirectTile,
    table: *const *const f32,
    init: [S::V; NV],
) -> [[S::V; NV]; MR] {
    let nr = NV * S::LANES;
    let mut acc = [init; MR];
    for tap in 0..t.taps {
        let mut rows = [std::ptr::null::<f32>(); MR];
        for (i, r) in rows.iter_mut().enumerate() {
            *r = (*table.add(tap * MR + i)).add(t.a_offset);
        }
        let mut b = t.b.add(tap * t.b_tap_stride);
        for k in 0..t.kc {
            let mut bv = [s.zero(); NV];
            for (j, v) in bv.iter_mut().enumerate() {
                *v = s.load(b.add(j * S::LANES));
            }
            if PREFETCH {
                // One hint per 64-byte line of the B row.
                for line in 0..(nr * f32::BYTES).div_ceil(64) {
                    s.prefetch(b.wrapping_add(PREFETCH_ROWS * nr + line * 16));
                }
            }
            for (i, row) in acc.iter_mut().enumerate() {
                let av = s.splat(*rows[i].add(k));
                for (j, c) in row.iter_mut().enumerate() {
                    *c = s.fma(av, bv[j], *c);
                }
            }
            b = b.add(nr);
        }
    }
    acc
}

/// Writes the first `mr` rows and `nr` columns of the accumulator tile, adding the existing C
/// when `accumulate`, and bias + activation when `last`.
///
/// Every accumulator is named by a constant index (the macros below), never by a loop counter:
/// an index the compiler cannot resolve before its scalar-replacement pass makes it keep the
/// whole tile in a stack array, zero it with `memset` per call and spill it after the k loop
/// (9% of a 1x1 layer with C = 24 went to that `memset`).
///
/// # Safety
/// For `i < mr`, `out.c + i * out.ldc .. + nr` is writable (and readable when accumulating);
/// `out.bias`, when not null, points at `nr` readable floats; `mr <= MR`, `nr <= NV * LANES`.
#[inline(always)]
pub(crate) unsafe fn store_tile<S: Simd, const MR: usize, const NV: usize>(
    s: S,
    acc: &[[S::V; NV]; MR],
    out: &TileStore,
) {
    const { assert!(MR <= 16 && NV <= 4) };
    // Whole tiles, the common case, get a branch-free epilogue: the bias vectors loaded once
    // per tile rather than once per row, the activation and accumulation const parameters.
    if out.mr == MR && out.nr == NV * S::LANES {
        let bias = out.last && !out.bias.is_null();
        let act = if out.last { out.act } else { Act::None };
        macro_rules! full {
            ($accumulate:literal) => {
                match act {
                    Act::None if bias => {
                        store_full::<S, MR, NV, $accumulate, true, ACT_NONE>(s, acc, out)
                    }
                    Act::None => store_full::<S, MR, NV, $accumulate, false, ACT_NONE>(s, acc, out),
                    Act::Relu if bias => {
                        store_full::<S, MR, NV, $accumulate, true, ACT_RELU>(s, acc, out)
                    }
                    Act::Relu => store_full::<S, MR, NV, $accumulate, false, ACT_RELU>(s, acc, out),
                    Act::Clamp(..) if bias => {
                        store_full::<S, MR, NV, $accumulate, true, ACT_CLAMP>(s, acc, out)
                    }
                    Act::Clamp(..) => {
                        store_full::<S, MR, NV, $accumulate, false, ACT_CLAMP>(s, acc, out)
                    }
                }
            };
        }
        if out.accumulate {
            full!(true)
        } else {
            full!(false)
        }
        return;
    }
    macro_rules! rows {
        ($($i:literal)*) => {$(
            if $i < MR && $i < out.mr {
                store_row::<S, NV>(s, &acc[$i.min(MR - 1)], out.c.add($i * out.ldc), out);
            }
        )*};
    }
    rows!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
}

/// [`Act`] as a const parameter of [`store_full`].
const ACT_NONE: u8 = 0;
const ACT_RELU: u8 = 1;
const ACT_CLAMP: u8 = 2;

/// [`store_tile`] for a whole tile (`mr == MR`, `nr == NV * LANES`); `ACCUMULATE` restates
/// `out.accumulate`, and `BIAS` and `ACT` what the last k block adds (nothing before it).
///
/// # Safety
/// As [`store_tile`].
#[inline(always)]
unsafe fn store_full<
    S: Simd,
    const MR: usize,
    const NV: usize,
    const ACCUMULATE: bool,
    const BIAS: bool,
    const ACT: u8,
>(
    s: S,
    acc: &[[S::V; NV]; MR],
    out: &TileStore,
) {
    let lanes = S::LANES;
    let mut bias = [s.zero(); NV];
    if BIAS {
        for (j, b) in bias.iter_mut().enumerate() {
            *b = s.load(out.bias.add(j * lanes));
        }
    }
    let (lo, hi) = match out.act {
        Act::Clamp(lo, hi) => (s.splat(lo), s.splat(hi)),
        _ => (s.zero(), s.zero()),
    };
    macro_rules! rows {
        ($($i:literal)*) => {$(
            if $i < MR {
                let c = out.c.add($i * out.ldc);
                let row = &acc[$i.min(MR - 1)];
                store_full_row::<S, NV, ACCUMULATE, BIAS, ACT>(s, row, c, &bias, lo, hi);
            }
        )*};
    }
    rows!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
}

/// One row of [`store_full`], at `c`.
///
/// # Safety
/// As [`store_full`], for the row at `c`.
#[inline(always)]
unsafe fn store_full_row<
    S: Simd,
    const NV: usize,
    const ACCUMULATE: bool,
    const BIAS: bool,
    const ACT: u8,
>(
    s: S,
    row: &[S::V; NV],
    c: *mut f32,
    bias: &[S::V; NV],
    lo: S::V,
    hi: S::V,
) {
    macro_rules! cols {
        ($($j:literal)*) => {$(
            if $j < NV {
                let mut v = row[$j.min(NV - 1)];
                if ACCUMULATE {
                    v = s.add(v, s.load(c.add($j * S::LANES)));
                }
                if BIAS {
                    v = s.add(v, bias[$j.min(NV - 1)]);
                }
                v = match ACT {
                    ACT_NONE => v,
                    ACT_RELU => s.max(v, s.zero()),
                    _ => s.min(s.max(v, lo), hi),
                };
                s.store(c.add($j * S::LANES), v);
            }
        )*};
    }
    cols!(0 1 2 3);
}

/// One row of [`store_tile`].
///
/// # Safety
/// As [`store_tile`], for the row at `c`.
#[inline(always)]
unsafe fn store_row<S: Simd, const NV: usize>(
    s: S,
    row: &[S::V; NV],
    c: *mut f32,
    out: &TileStore,
) {
    let lanes = S::LANES;
    macro_rules! cols {
        ($($j:literal)*) => {$(
            if $j < NV && $j * lanes < out.nr {
                store_vector(s, row[$j.min(NV - 1)], c, $j * lanes, out);
            }
        )*};
    }
    cols!(0 1 2 3);
}

/// One vector of [`store_tile`], at column `col` of the row at `c`.
///
/// # Safety
/// As [`store_tile`], for columns `col .. min(col + LANES, nr)`.
#[inline(always)]
unsafe fn store_vector<S: Simd>(s: S, v: S::V, c: *mut f32, col: usize, out: &TileStore) {
    let lanes = S::LANES;
    let n = (out.nr - col).min(lanes);
    let mut v = v;
    if n == lanes {
        if out.accumulate {
            v = s.add(v, s.load(c.add(col)));
        }
        if out.last {
            if !out.bias.is_null() {
                v = s.add(v, s.load(out.bias.add(col)));
            }
            v = out.act.apply(s, v);
        }
        s.store(c.add(col), v);
    } else {
        if out.accumulate {
            v = s.add(v, s.load_n(c.add(col), n));
        }
        if out.last {
            if !out.bias.is_null() {
                v = s.add(v, s.load_n(out.bias.add(col), n));
            }
            v = out.act.apply(s, v);
        }
        s.store_n(c.add(col), v, n);
    }
}
