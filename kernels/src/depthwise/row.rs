//! Depthwise's row body, generic over the vector ISA: the per-pixel path (one input pointer per
//! tap, every channel vector under it) and the register-blocked window for 3x3 and 5x5 at
//! dilation 1, with its entry point. The driver (`mod.rs`) plans and runs it row by row.

use super::*;

/// [`row`] as a body for [`Simd::vectorize`]; made only by [`row_entry`].
struct Row<'a>(&'a DwRow);

impl WithSimd for Row<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        // SAFETY: the caller of `row_entry` upholds `row`'s contract.
        unsafe { row(s, self.0) }
    }
}

/// # Safety
/// `S::ISA` is available on this CPU; the contract of [`row`].
pub(super) unsafe fn row_entry<S: Simd>(a: &DwRow) {
    S::assume().vectorize(Row(a))
}

/// The generic row body.
///
/// # Safety
/// The pointer contracts documented on [`DwRow`]; `x_lo <= x_hi <= q`, and for `x_lo <= ox <
/// x_hi` every tap column `ox * stride + s * dil - left` lies in `0 .. w_in`.
#[inline(always)]
unsafe fn row<S: Simd>(s: S, a: &DwRow) {
    let unit = a.dil == 1;
    if a.pair {
        match (a.r, a.s, a.stride, a.pair_step) {
            (3, 3, 1, 1) => return row_window::<S, 9, 3, 1, 2, 1>(s, a),
            (3, 3, 2, 1) => return row_window::<S, 9, 3, 2, 2, 1>(s, a),
            (3, 3, 1, 2) => return row_window::<S, 9, 3, 1, 2, 2>(s, a),
            (3, 3, 2, 2) => return row_window::<S, 9, 3, 2, 2, 2>(s, a),
            _ => unreachable!("the driver pairs rows only for 3x3 windows"),
        }
    }
    match (a.r, a.s, a.stride) {
        (3, 3, 1) if unit => row_window::<S, 9, 3, 1, 1, 1>(s, a),
        (3, 3, 2) if unit => row_window::<S, 9, 3, 2, 1, 1>(s, a),
        (5, 5, 1) if unit => row_window::<S, 25, 5, 1, 1, 1>(s, a),
        (5, 5, 2) if unit => row_window::<S, 25, 5, 2, 1, 1>(s, a),
        (3, 3, _) => row_fixed::<S, 9, 3>(s, a),
        (5, 5, _) => row_fixed::<S, 25, 5>(s, a),
        _ => {
            let taps = std::slice::from_raw_parts_mut(a.taps, a.r * a.s);
            for c0 in (0..a.c).step_by(CHANNEL_BLOCK * S::LANES) {
                let c1 = a.c.min(c0 + CHANNEL_BLOCK * S::LANES);
                for ox in 0..a.q {
                    tap_pointers(a, ox, taps, a.s);
                    pixel(s, a, taps, ox, c0, c1);
                }
            }
        }
    }
}

/// Channel vectors per pass over a row: the pass's weights (taps x block) and the input lines of
/// a few neighbouring pixels stay in L1 while the pass walks the row.
const CHANNEL_BLOCK: usize = 8;

/// Fills one pointer per tap (kernel row-major) for output column `ox`.
///
/// # Safety
/// As [`row`]; `taps.len() == r * sk`.
#[inline(always)]
unsafe fn tap_pointers(a: &DwRow, ox: usize, taps: &mut [*const f32], sk: usize) {
    let interior = ox >= a.x_lo && ox < a.x_hi;
    let x0 = (ox * a.stride) as isize - a.left as isize;
    for (ky, row_taps) in taps.chunks_exact_mut(sk).enumerate() {
        let row = *a.rows.add(ky);
        for (kx, p) in row_taps.iter_mut().enumerate() {
            let x = x0 + (kx * a.dil) as isize;
            *p = if interior || (x >= 0 && (x as usize) < a.w_in) {
                row.offset(x * a.c as isize)
            } else {
                a.zero
            };
        }
    }
}

/// Taps known at compile time: `T = R * SK` pointers in registers.
#[inline(always)]
unsafe fn row_fixed<S: Simd, const T: usize, const SK: usize>(s: S, a: &DwRow) {
    let mut taps = [std::ptr::null::<f32>(); T];
    for c0 in (0..a.c).step_by(CHANNEL_BLOCK * S::LANES) {
        let c1 = a.c.min(c0 + CHANNEL_BLOCK * S::LANES);
        for ox in 0..a.q {
            tap_pointers(a, ox, &mut taps, SK);
            pixel(s, a, &taps, ox, c0, c1);
        }
    }
}

/// Output pixels per register block of the window path.
const WINDOW: usize = 4;

/// Whether the driver hands this shape to the window path two output rows at a time: then each
/// input vector loaded feeds both rows' accumulators (3x3: 4 input rows for 2 output rows instead
/// of 3 for 1 at vertical stride 1; 5 instead of 3 at stride 2, the shared middle row loaded
/// once), which matters once the layer is served from L2 rather than L1. 3x3 only: a 5x5
/// pair needs 6 row pointers and 7 column offsets, more general registers than x86-64 has, and
/// measured no faster on AVX-512 and 30% slower on AVX2.
pub(crate) fn pairs_rows(shape: &ConvShape) -> bool {
    shape.r() == 3
        && shape.s() == 3
        && shape.dilation() == (1, 1)
        && shape.stride().0 <= 2
        && shape.stride().1 <= 2
}

/// Dilation 1, `R x SK` taps, stride `ST`, `Y` output rows: the interior columns run in blocks of
/// [`WINDOW`] output pixels x `Y` rows x 1 or 2 channel vectors (8 or 16 independent accumulator
/// chains: FMA latency x 2 ports; fewer where the register file is small). A group of channel
/// vectors walks the whole row before the next, so the columns two blocks share are still in L1
/// (and, with one vector per block, each position runs the whole group so the block's input lines
/// are used whole); within a block each input vector is loaded once and reused by every tap (of
/// either output row) that reads it (3x3 stride 1, one row: 12 input + 6 weight loads per 24 FMAs
/// per kernel row, instead of 2 loads per FMA). The block is small on purpose: its `WINDOW * ST +
/// SK - ST` column offsets and `R + (Y - 1) * YS` row pointers must stay in general registers, or the
/// address arithmetic outgrows the FMAs. A last partial block is shifted left to end at `x_hi` and
/// recomputes a few pixels rather than running short, latency-bound blocks. With "same" padding at
/// stride 1 the border columns are window blocks too (see [`blocks`]); otherwise border columns,
/// rows narrower than a block and the channel tail take the per-pixel path.
#[inline(always)]
unsafe fn row_window<
    S: Simd,
    const T: usize,
    const SK: usize,
    const ST: usize,
    const Y: usize,
    const YS: usize,
>(
    s: S,
    a: &DwRow,
) {
    let lanes = S::LANES;
    let full = a.c / lanes;
    // "Same" padding at stride 1: a block at column 0 and one ending at q cover the borders, and
    // which of their window columns fall in the padding is known at compile time (EDGE_LEFT,
    // EDGE_RIGHT), so they run unrolled like interior blocks instead of taking the per-pixel path.
    let pad = SK / 2;
    let edges = ST == 1
        && a.left == pad
        && a.q == a.w_in
        && a.q >= WINDOW + 2 * pad
        && a.x_lo == pad
        && a.x_hi == a.q - pad;
    let (x_lo, x_hi) = if edges {
        (0, a.q)
    } else if a.x_hi - a.x_lo >= WINDOW {
        (a.x_lo, a.x_hi)
    } else {
        (a.x_lo, a.x_lo)
    };
    if S::REGISTERS >= 16 * Y && (S::REGISTERS >= 32 || SK == 5) {
        // Two channel vectors per block (8 * Y accumulators plus operands) walk the row, then
        // the next two. (Grouping these as below measured 10-15% slower on AVX-512.) AVX2 3x3
        // at one output row has the registers for two but measured faster grouped.
        let mut cb = 0;
        while cb + 2 <= full {
            blocks::<S, 2, Y, YS, T, SK, ST>(s, a, edges, x_lo, x_hi, cb, cb + 2);
            cb += 2;
        }
        if cb < full {
            blocks::<S, 1, Y, YS, T, SK, ST>(s, a, edges, x_lo, x_hi, cb, cb + 1);
        }
    } else {
        // One vector per block: a group of vectors walks the row, all of them at each block
        // position, so the block's input lines are used whole while in L1 (one vector is half
        // a line with AVX2), and the group's rows stay in L1 for the next position.
        let group = (GROUP_BYTES / 4 / lanes).max(1);
        for cb0 in (0..full).step_by(group) {
            blocks::<S, 1, Y, YS, T, SK, ST>(s, a, edges, x_lo, x_hi, cb0, full.min(cb0 + group));
        }
    }
    let second = DwRow {
        // SAFETY (of the add): with `pair` the table has r + pair_step entries.
        rows: a.rows.add((Y - 1) * YS),
        out: a.out2,
        ..*a
    };
    for row in [a, &second].into_iter().take(Y) {
        let mut taps = [std::ptr::null::<f32>(); T];
        for ox in (0..x_lo).chain(x_hi..row.q) {
            tap_pointers(row, ox, &mut taps, SK);
            pixel(s, row, &taps, ox, 0, full * lanes);
        }
        if full * lanes < row.c {
            for ox in 0..row.q {
                tap_pointers(row, ox, &mut taps, SK);
                pixel(s, row, &taps, ox, full * lanes, row.c);
            }
        }
    }
}

/// The blocks of one row for channel vectors `cb0 .. cb1`, `V` at a time at each block position:
/// columns `x_lo .. x_hi` (the whole row with `edges`, its first and last block being the edge
/// instantiations).
///
/// # Safety
/// As [`window`]; `edges` only as [`row_window`] derives it.
#[inline(always)]
unsafe fn blocks<
    S: Simd,
    const V: usize,
    const Y: usize,
    const YS: usize,
    const T: usize,
    const SK: usize,
    const ST: usize,
>(
    s: S,
    a: &DwRow,
    edges: bool,
    x_lo: usize,
    x_hi: usize,
    cb0: usize,
    cb1: usize,
) {
    if edges {
        let inner_hi = a.x_hi;
        group::<S, V, Y, YS, T, SK, ST, EDGE_LEFT>(s, a, 0, cb0, cb1);
        let mut ox = WINDOW;
        while ox < a.q - WINDOW {
            group::<S, V, Y, YS, T, SK, ST, EDGE_NONE>(s, a, ox.min(inner_hi - WINDOW), cb0, cb1);
            ox += WINDOW;
        }
        group::<S, V, Y, YS, T, SK, ST, EDGE_RIGHT>(s, a, a.q - WINDOW, cb0, cb1);
    } else {
        let mut ox = x_lo;
        while ox < x_hi {
            group::<S, V, Y, YS, T, SK, ST, EDGE_NONE>(s, a, ox.min(x_hi - WINDOW), cb0, cb1);
            ox += WINDOW;
        }
    }
}

/// Bytes of channels per group in [`row_window`]'s one-vector path: 4 lines of each pixel.
const GROUP_BYTES: usize = 256;

/// The window blocks at column `ox` for channel vectors `cb0 .. cb1`, `V` at a time
/// (`cb1 - cb0` a multiple of `V`).
///
/// # Safety
/// As [`window`], for each vector of the group.
#[inline(always)]
unsafe fn group<
    S: Simd,
    const V: usize,
    const Y: usize,
    const YS: usize,
    const T: usize,
    const SK: usize,
    const ST: usize,
    const EDGE: u8,
>(
    s: S,
    a: &DwRow,
    ox: usize,
    cb0: usize,
    cb1: usize,
) {
    let mut cb = cb0;
    while cb + V <= cb1 {
        window::<S, WINDOW, V, Y, YS, T, SK, ST, EDGE>(s, a, ox, cb * S::LANES);
        cb += V;
    }
}

/// Window blocks: all taps inside the row; the block at column 0 of a "same"-padded stride-1 row
/// (window columns `< SK / 2` are padding); the block ending at `q` of such a row (window columns
/// `>= X + SK / 2` are padding).
const EDGE_NONE: u8 = 0;
const EDGE_LEFT: u8 = 1;
const EDGE_RIGHT: u8 = 2;

/// `X` interior output pixels from `ox` x `Y` output rows x `V` full channel vectors from `c0`.
///
/// # Safety
/// As [`row`], with `x_lo <= ox` and `ox + X <= x_hi`, `c0 + V * LANES <= c`; `Y == 2` only
/// with `pair`. With `EDGE_LEFT` / `EDGE_RIGHT`, `ox` is 0 / `q - X` of a row that
/// [`row_window`] found "same"-padded at stride 1, and the taps in the padding are skipped.
#[inline(always)]
unsafe fn window<
    S: Simd,
    const X: usize,
    const V: usize,
    const Y: usize,
    const YS: usize,
    const T: usize,
    const SK: usize,
    const ST: usize,
    const EDGE: u8,
>(
    s: S,
    a: &DwRow,
    ox: usize,
    c0: usize,
) {
    let lanes = S::LANES;
    let r = T / SK;
    let mut acc = [[[s.zero(); V]; X]; Y];
    for v in 0..V {
        let b = s.load(a.bias.add(c0 + v * lanes));
        for acc in acc.iter_mut() {
            for acc in acc.iter_mut() {
                acc[v] = b;
            }
        }
    }
    // Window column i = j * ST + kx is input column first + i (first < 0 only for EDGE_LEFT).
    let first = (ox * ST) as isize - a.left as isize;
    // Unrolled by hand: left to itself, LLVM keeps these loops rolled once the block is this
    // big, and the rolled body recomputes tap indices and branches on them between FMAs.
    const { assert!(T / SK + (Y - 1) * YS <= 5 && (X - 1) * ST + SK <= 12) };
    macro_rules! input_rows {
        ($($ir:literal)*) => {$(
            if $ir < r + (Y - 1) * YS {
                window_row::<S, X, V, Y, YS, T, SK, ST, EDGE>(s, a, &mut acc, $ir, first, c0);
            }
        )*};
    }
    input_rows!(0 1 2 3 4);
    for (y, acc) in acc.iter().enumerate() {
        let out = if y == 0 { a.out } else { a.out2 }.add(ox * a.c + c0);
        for (j, acc) in acc.iter().enumerate() {
            for (v, acc) in acc.iter().enumerate() {
                s.store(out.add(j * a.c + v * lanes), a.act.apply(s, *acc));
            }
        }
    }
}

/// Input row `ir` of a [`window`] block: the weights of the (up to `Y`) kernel rows that read
/// it are loaded once into registers, then each input vector of the row is loaded once and
/// feeds every accumulator whose tap reads it.
///
/// # Safety
/// As [`window`], for `ir < R + (Y - 1) * YS`.
#[inline(always)]
unsafe fn window_row<
    S: Simd,
    const X: usize,
    const V: usize,
    const Y: usize,
    const YS: usize,
    const T: usize,
    const SK: usize,
    const ST: usize,
    const EDGE: u8,
>(
    s: S,
    a: &DwRow,
    acc: &mut [[[S::V; V]; X]; Y],
    ir: usize,
    first: isize,
    c0: usize,
) {
    let lanes = S::LANES;
    let r = T / SK;
    // Packed weights of channel vector cb start at cb * T * lanes.
    let wp = a.w.add(c0 * T);
    let mut w = [[[s.zero(); SK]; V]; Y];
    for (y, w) in w.iter_mut().enumerate() {
        if ir >= y * YS && ir - y * YS < r {
            for (v, w) in w.iter_mut().enumerate() {
                for (kx, w) in w.iter_mut().enumerate() {
                    *w = s.load(wp.add((v * T + (ir - y * YS) * SK + kx) * lanes));
                }
            }
        }
    }
    // Input row `ir` is kernel row `ir - y * YS` of output row `y`; before the row start for
    // EDGE_LEFT, where only columns inside the row are read.
    let base = (*a.rows.add(ir)).wrapping_offset(first * a.c as isize + c0 as isize);
    macro_rules! columns {
        ($($i:literal)*) => {$(
            if $i < (X - 1) * ST + SK {
                window_column::<S, X, V, Y, YS, T, SK, ST, EDGE>(s, a, acc, &w, ir, $i, base);
            }
        )*};
    }
    columns!(0 1 2 3 4 5 6 7 8 9 10 11);
}

/// Window column `i` of input row `ir`: output pixel `j` reads it through tap `i - j * ST`.
///
/// # Safety
/// As [`window_row`]; `base` is that row's window start.
#[inline(always)]
unsafe fn window_column<
    S: Simd,
    const X: usize,
    const V: usize,
    const Y: usize,
    const YS: usize,
    const T: usize,
    const SK: usize,
    const ST: usize,
    const EDGE: u8,
>(
    s: S,
    a: &DwRow,
    acc: &mut [[[S::V; V]; X]; Y],
    w: &[[[S::V; SK]; V]; Y],
    ir: usize,
    i: usize,
    base: *const f32,
) {
    if (EDGE == EDGE_LEFT && i < SK / 2) || (EDGE == EDGE_RIGHT && i >= X + SK / 2) {
        return;
    }
    let r = T / SK;
    for v in 0..V {
        let x = s.load(base.wrapping_add(i * a.c + v * S::LANES));
        for y in 0..Y {
            if ir >= y * YS && ir - y * YS < r {
                for j in 0..X {
                    if i >= j * ST && i - j * ST < SK {
                        acc[y][j][v] = s.fma(x, w[y][v][i - j * ST], acc[y][j][v]);
                    }
                }
            }
        }
    }
}

/// Channels `c_begin .. c_end` (`c_begin` a multiple of LANES) of one output pixel; each tap's
/// input starts at `taps[t]`.
///
/// # Safety
/// Every `taps[t]` points at `c` readable floats; the contracts of [`DwRow`].
#[inline(always)]
unsafe fn pixel<S: Simd>(
    s: S,
    a: &DwRow,
    taps: &[*const f32],
    ox: usize,
    c_begin: usize,
    c_end: usize,
) {
    let lanes = S::LANES;
    let t_count = taps.len();
    let out = a.out.add(ox * a.c);
    let full = c_end / lanes;
    for cb in c_begin / lanes..full {
        let c0 = cb * lanes;
        let w = a.w.add(cb * t_count * lanes);
        // Two partial sums halve the dependent FMA chain.
        let mut acc0 = s.load(a.bias.add(c0));
        let mut acc1 = s.zero();
        let mut t = 0;
        while t + 1 < t_count {
            acc0 = s.fma(s.load(taps[t].add(c0)), s.load(w.add(t * lanes)), acc0);
            acc1 = s.fma(
                s.load(taps[t + 1].add(c0)),
                s.load(w.add((t + 1) * lanes)),
                acc1,
            );
            t += 2;
        }
        if t < t_count {
            acc0 = s.fma(s.load(taps[t].add(c0)), s.load(w.add(t * lanes)), acc0);
        }
        s.store(out.add(c0), a.act.apply(s, s.add(acc0, acc1)));
    }
    let n = c_end - full * lanes;
    if n > 0 {
        let c0 = full * lanes;
        let w = a.w.add(full * t_count * lanes);
        let mut acc = s.load(a.bias.add(c0));
        for (t, &p) in taps.iter().enumerate() {
            acc = s.fma(s.load_n(p.add(c0), n), s.load(w.add(t * lanes)), acc);
        }
        s.store_n(out.add(c0), a.act.apply(s, acc), n);
    }
}
