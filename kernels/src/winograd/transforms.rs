//! Winograd's transform bodies, generic over the vector ISA and compiled once per point set
//! (every coefficient a constant): the input transform `V = B^T d B` and the output transform
//! `Y = A^T M A` with the fused epilogue, their argument blocks and their entry points. The
//! driver (`mod.rs`) plans, blocks and runs them around the GEMMs.

use super::*;
use crate::toom_cook::Tables;

/// A point set's tables as a type, so that the transforms are compiled once per set with every
/// coefficient a constant: zeros vanish, ones become adds.
trait PointSet<const AL: usize> {
    const T: Tables<AL>;
}

macro_rules! point_set {
    ($name:ident, $al:literal, $tile:expr) => {
        struct $name;
        impl PointSet<$al> for $name {
            const T: Tables<$al> = Tables::new($tile.points());
        }
    };
}
point_set!(F2, 4, WinogradTile::F2x2_3x3);
point_set!(F4, 6, WinogradTile::F4x4_3x3);
point_set!(F4Half, 6, WinogradTile::F4x4_3x3Half);
point_set!(F6, 8, WinogradTile::F6x6_3x3);
point_set!(F6Int, 8, WinogradTile::F6x6_3x3Integer);

/// `acc + k x`, with `acc` absent for the first term; nothing for k = 0, no multiply for ±1.
#[inline(always)]
fn term<S: Simd>(s: S, acc: Option<S::V>, k: f32, x: S::V) -> Option<S::V> {
    if k == 0.0 {
        return acc;
    }
    Some(match acc {
        None if k == 1.0 => x,
        None => s.mul(s.splat(k), x),
        Some(a) if k == 1.0 => s.add(a, x),
        Some(a) if k == -1.0 => s.sub(a, x),
        Some(a) => s.fma(s.splat(k), x, a),
    })
}

/// Runs `$body` with `$i` = 0, 1, .. up to `$n` - 1 (at most 8), written out: with literal
/// indices every table entry is a constant, so zero terms vanish and ±1 terms need no multiply
/// (LLVM does not unroll the nested loops of an 8x8 transform by itself).
macro_rules! unroll {
    ($i:ident in 0..$n:expr => $body:block) => {
        unroll!(@ $i, $n, $body, 0 1 2 3 4 5 6 7)
    };
    (@ $i:ident, $n:expr, $body:block, $($k:literal)*) => {
        $(
            #[allow(clippy::reversed_empty_ranges, unused_comparisons)]
            if $k < $n {
                let $i: usize = $k;
                $body
            }
        )*
    };
}

/// `B^T x` (alpha terms in, alpha out). A row r - 1 with a mirror r shares its half-sums:
/// row r - 1 = even + odd, row r = ±(even - odd).
#[inline(always)]
fn bt<S: Simd, P: PointSet<AL>, const AL: usize>(s: S, x: [S::V; AL]) -> [S::V; AL] {
    let mut out = [s.zero(); AL];
    unroll!(r in 0..AL => {
        let paired = r + 1 < AL && P::T.bt_mirror[(r + 1) % AL] != 0;
        if P::T.bt_mirror[r] != 0 {
            // Made with row r - 1.
        } else if paired {
            let (mut e, mut o) = (None, None);
            unroll!(c in 0..AL => {
                if c.is_multiple_of(2) {
                    e = term(s, e, P::T.bt[r][c], x[c]);
                } else {
                    o = term(s, o, P::T.bt[r][c], x[c]);
                }
            });
            let (e, o) = (e.unwrap_or(s.zero()), o.unwrap_or(s.zero()));
            out[r] = s.add(e, o);
            out[(r + 1) % AL] = if P::T.bt_mirror[(r + 1) % AL] > 0 {
                s.sub(e, o)
            } else {
                s.sub(o, e)
            };
        } else {
            let mut a = None;
            unroll!(c in 0..AL => {
                a = term(s, a, P::T.bt[r][c], x[c]);
            });
            out[r] = a.unwrap_or(s.zero());
        }
    });
    out
}

/// `A^T x` (alpha terms in, `M` = alpha - 2 out). A column pair (a, -a) enters as its sum in
/// the even rows and its difference in the odd ones.
#[inline(always)]
fn at<S: Simd, P: PointSet<AL>, const AL: usize, const M: usize>(s: S, x: [S::V; AL]) -> [S::V; M] {
    let (mut sum, mut dif) = (x, x);
    unroll!(c in 0..AL => {
        if c > 0 && P::T.at_pair[c] {
            sum[c] = s.add(x[c - 1], x[c]);
            dif[c] = s.sub(x[c - 1], x[c]);
        }
    });
    let mut out = [s.zero(); M];
    unroll!(i in 0..M => {
        let mut a = None;
        unroll!(c in 0..AL => {
            // A paired column c enters with column c - 1.
            if !P::T.at_pair[c] {
                let v = if c + 1 < AL && P::T.at_pair[(c + 1) % AL] {
                    if i.is_multiple_of(2) {
                        sum[(c + 1) % AL]
                    } else {
                        dif[(c + 1) % AL]
                    }
                } else {
                    x[c]
                };
                a = term(s, a, P::T.at[i][c], v);
            }
        });
        out[i] = a.unwrap_or(s.zero());
    });
    out
}

/// A block of tiles to transform.
pub(crate) struct TileBlock<'a> {
    pub shape: &'a ConvShape,
    pub tile: WinogradTile,
    /// First tile index (over n x tiles_y x tiles_x) and tile count of the block.
    pub t0: usize,
    pub count: usize,
    /// Rows of each of the alpha² V and M matrices, and the row of this block's first tile:
    /// `count` and 0, or a share of a block transformed by several tasks.
    pub stride: usize,
    pub row0: usize,
    pub tiles_y: usize,
    pub tiles_x: usize,
}

impl TileBlock<'_> {
    /// (image, output row, output column) of the tile's top-left output pixel.
    fn origin(&self, t: usize) -> (usize, usize, usize) {
        let per = self.tiles_y * self.tiles_x;
        let (b, rem) = ((self.t0 + t) / per, (self.t0 + t) % per);
        let m = self.tile.m();
        (b, rem / self.tiles_x * m, rem % self.tiles_x * m)
    }
}

/// Input transform arguments.
pub(crate) struct InputArgs<'a> {
    pub blk: &'a TileBlock<'a>,
    pub input: &'a [f32],
    /// `[alpha²][stride][c]`; this block writes rows `row0 .. row0 + count` of each.
    pub v: &'a SharedOut<'a>,
}

/// Output transform arguments.
pub(crate) struct OutputArgs<'a> {
    pub blk: &'a TileBlock<'a>,
    /// `[alpha²][stride][k]`; this block reads rows `row0 .. row0 + count` of each.
    pub mm: &'a [f32],
    /// The whole NHWC output; this block writes only its tiles' pixels.
    pub output: &'a SharedOut<'a>,
    /// `k` floats (zeros without bias).
    pub bias: &'a [f32],
    pub act: Act,
}

/// One ISA's transforms. Calling them needs `isa` present on this CPU.
#[derive(Clone, Copy)]
pub(crate) struct Transforms {
    pub isa: crate::Isa,
    pub input: unsafe fn(&mut InputArgs),
    pub output: unsafe fn(&mut OutputArgs),
}

/// The transforms on ISA `S`, through its entry point.
pub(crate) const fn transforms<S: Simd>() -> Transforms {
    Transforms {
        isa: S::ISA,
        input: input_entry::<S>,
        output: output_entry::<S>,
    }
}

/// [`input_transform`] as a body for [`Simd::vectorize`].
struct InputBody<'a, 'b>(&'a mut InputArgs<'b>);

impl WithSimd for InputBody<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        // SAFETY: `input_transform` asks nothing beyond the ISA, which `input_entry`'s caller
        // guarantees.
        unsafe { input_transform(s, self.0) }
    }
}

/// [`output_transform`] as a body for [`Simd::vectorize`].
struct OutputBody<'a, 'b>(&'a mut OutputArgs<'b>);

impl WithSimd for OutputBody<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        // SAFETY: as for `InputBody`.
        unsafe { output_transform(s, self.0) }
    }
}

/// # Safety
/// `S::ISA` is available on this CPU, and no other task touches rows `row0 .. row0 + count` of
/// `a.v`'s matrices while this runs.
unsafe fn input_entry<S: Simd>(a: &mut InputArgs) {
    S::assume().vectorize(InputBody(a))
}

/// # Safety
/// `S::ISA` is available on this CPU, and no other task touches the output pixels of `a.blk`'s
/// tiles while this runs.
unsafe fn output_entry<S: Simd>(a: &mut OutputArgs) {
    S::assume().vectorize(OutputBody(a))
}

/// The generic input transform.
///
/// # Safety
/// As [`input_entry`], less the ISA: interior tiles read and write unchecked after asserting
/// the lengths they rely on; the rest goes through checked slices.
#[inline(always)]
unsafe fn input_transform<S: Simd>(s: S, a: &mut InputArgs) {
    match a.blk.tile {
        WinogradTile::F2x2_3x3 => input_tiles::<S, F2, 4>(s, a),
        WinogradTile::F4x4_3x3 => input_tiles::<S, F4, 6>(s, a),
        WinogradTile::F4x4_3x3Half => input_tiles::<S, F4Half, 6>(s, a),
        WinogradTile::F6x6_3x3 => input_tiles::<S, F6, 8>(s, a),
        WinogradTile::F6x6_3x3Integer => input_tiles::<S, F6Int, 8>(s, a),
    }
}

/// The generic output transform.
///
/// # Safety
/// As [`output_entry`], less the ISA; reads and writes as [`input_transform`] does.
#[inline(always)]
unsafe fn output_transform<S: Simd>(s: S, a: &mut OutputArgs) {
    match a.blk.tile {
        WinogradTile::F2x2_3x3 => output_tiles::<S, F2, 4, 2>(s, a),
        WinogradTile::F4x4_3x3 => output_tiles::<S, F4, 6, 4>(s, a),
        WinogradTile::F4x4_3x3Half => output_tiles::<S, F4Half, 6, 4>(s, a),
        WinogradTile::F6x6_3x3 => output_tiles::<S, F6, 8, 6>(s, a),
        WinogradTile::F6x6_3x3Integer => output_tiles::<S, F6Int, 8, 6>(s, a),
    }
}

/// Loads `n` lanes from a checked slice (all lanes when `n == LANES`).
#[inline(always)]
fn ld<S: Simd>(s: S, src: &[f32]) -> S::V {
    // SAFETY: `src` is a checked slice; exactly `src.len() <= LANES` floats are read.
    unsafe {
        if src.len() == S::LANES {
            s.load(src.as_ptr())
        } else {
            s.load_n(src.as_ptr(), src.len())
        }
    }
}

/// Stores the first `dst.len()` lanes into a checked slice.
#[inline(always)]
fn st<S: Simd>(s: S, dst: &mut [f32], v: S::V) {
    // SAFETY: `dst` is a checked slice; exactly `dst.len() <= LANES` floats are written.
    unsafe {
        if dst.len() == S::LANES {
            s.store(dst.as_mut_ptr(), v)
        } else {
            s.store_n(dst.as_mut_ptr(), v, dst.len())
        }
    }
}

#[inline(always)]
#[allow(clippy::needless_range_loop)] // i/j index both the tile and the transposed tile
fn input_tiles<S: Simd, P: PointSet<AL>, const AL: usize>(s: S, a: &mut InputArgs) {
    let sh = a.blk.shape;
    let (h, w, c) = (sh.h() as isize, sh.w() as isize, sh.c());
    let (top, left) = (sh.padding().top as isize, sh.padding().left as isize);
    let lanes = S::LANES;
    let (count, stride, row0) = (a.blk.count, a.blk.stride, a.blk.row0);
    let full = c / lanes * lanes;
    // What the unchecked interior path below relies on.
    assert!(a.input.len() >= sh.n() * sh.h() * sh.w() * c);
    assert!(row0 + count <= stride);
    assert!(a.blk.t0 + count <= sh.n() * a.blk.tiles_y * a.blk.tiles_x);
    // Tile arrays live across the loops: every element is written before it is read, and
    // zero-filling them per channel vector would be a memset call in the hot loop.
    let mut cols = [[s.zero(); AL]; AL];
    let mut d = [s.zero(); AL];
    let mut row = [s.zero(); AL];
    for t in 0..count {
        let (b, oy, ox) = a.blk.origin(t);
        let (iy0, ix0) = (oy as isize - top, ox as isize - left);
        let inside = iy0 >= 0 && ix0 >= 0 && iy0 + AL as isize <= h && ix0 + AL as isize <= w;
        let mut c_begin = 0;
        if inside {
            // Interior tile, full channel vectors: no padding, no bounds checks in the loop.
            // SAFETY: b < n (t0 + count tiles exist, asserted) and the tile's AL x AL pixels
            // lie inside the image (`inside`), so every load reads within the input, whose
            // length was asserted above; c0 + LANES <= full <= c. Stores go to
            // (i * AL + j) * stride * c + c0 + LANES floats past `dst`, within the range `ptr_at`
            // checked, in this block's rows (the caller's contract).
            let dst = a.v.ptr_at((row0 + t) * c, (AL * AL - 1) * stride * c + c);
            unsafe {
                let src = a
                    .input
                    .as_ptr()
                    .add(((b * sh.h() + iy0 as usize) * sh.w() + ix0 as usize) * c);
                for c0 in (0..full).step_by(lanes) {
                    for j in 0..AL {
                        for i in 0..AL {
                            d[i] = s.load(src.add((i * sh.w() + j) * c + c0));
                        }
                        cols[j] = bt::<S, P, AL>(s, d);
                    }
                    for i in 0..AL {
                        for j in 0..AL {
                            row[j] = cols[j][i];
                        }
                        let out = bt::<S, P, AL>(s, row);
                        for j in 0..AL {
                            s.store(dst.add((i * AL + j) * stride * c + c0), out[j]);
                        }
                    }
                }
            }
            c_begin = full;
        }
        for c0 in (c_begin..c).step_by(lanes) {
            let n = lanes.min(c - c0);
            // Columns first, as they are loaded: cols[j] = B^T d[:, j].
            for j in 0..AL {
                let x = ix0 + j as isize;
                for i in 0..AL {
                    let y = iy0 + i as isize;
                    d[i] = s.zero();
                    if (0..h).contains(&y) && (0..w).contains(&x) {
                        let at = ((b * sh.h() + y as usize) * sh.w() + x as usize) * c + c0;
                        d[i] = ld(s, &a.input[at..at + n]);
                    }
                }
                cols[j] = bt::<S, P, AL>(s, d);
            }
            // Then rows of (B^T d) B.
            for i in 0..AL {
                for j in 0..AL {
                    row[j] = cols[j][i];
                }
                let out = bt::<S, P, AL>(s, row);
                for j in 0..AL {
                    let at = ((i * AL + j) * stride + row0 + t) * c + c0;
                    // SAFETY: a row of this block (the caller's contract).
                    st(s, unsafe { a.v.slice_mut(at, n) }, out[j]);
                }
            }
        }
    }
}

#[inline(always)]
#[allow(clippy::needless_range_loop)] // i/j index both the tile and the transposed tile
fn output_tiles<S: Simd, P: PointSet<AL>, const AL: usize, const M: usize>(
    s: S,
    a: &mut OutputArgs,
) {
    let sh = a.blk.shape;
    let (p, q, k) = (sh.p(), sh.q(), sh.k());
    let lanes = S::LANES;
    let (count, stride, row0) = (a.blk.count, a.blk.stride, a.blk.row0);
    let full = k / lanes * lanes;
    // What the unchecked interior path below relies on.
    assert!(a.output.len() >= sh.n() * p * q * k);
    assert!(row0 + count <= stride);
    assert!(a.mm.len() >= AL * AL * stride * k && a.bias.len() >= k);
    assert!(a.blk.t0 + count <= sh.n() * a.blk.tiles_y * a.blk.tiles_x);
    // As in the input transform: arrays reused, never zero-filled in the loop.
    let mut cols = [[s.zero(); M]; AL];
    let mut col = [s.zero(); AL];
    let mut row = [s.zero(); AL];
    for t in 0..count {
        let (b, oy, ox) = a.blk.origin(t);
        let mut k_begin = 0;
        if oy + M <= p && ox + M <= q {
            // Whole tile inside the output, full vectors: no clipping, no bounds checks.
            let dst = a
                .output
                .ptr_at(((b * p + oy) * q + ox) * k, ((M - 1) * q + M) * k);
            // SAFETY: reads ((i * AL + j) * stride + row0 + t) * k + k0 + LANES <= mm.len() and
            // bias[k0 .. k0 + LANES] with k0 + LANES <= full <= k; writes the M x M pixels of a
            // tile inside image b < n, within the range `ptr_at` checked; no other task writes
            // this block's tiles (the caller's contract).
            unsafe {
                let src = a.mm.as_ptr().add((row0 + t) * k);
                for k0 in (0..full).step_by(lanes) {
                    for j in 0..AL {
                        for i in 0..AL {
                            col[i] = s.load(src.add((i * AL + j) * stride * k + k0));
                        }
                        cols[j] = at::<S, P, AL, M>(s, col);
                    }
                    let bias = s.load(a.bias.as_ptr().add(k0));
                    for i in 0..M {
                        for j in 0..AL {
                            row[j] = cols[j][i];
                        }
                        let out = at::<S, P, AL, M>(s, row);
                        for j in 0..M {
                            let v = a.act.apply(s, s.add(out[j], bias));
                            s.store(dst.add((i * q + j) * k + k0), v);
                        }
                    }
                }
            }
            k_begin = full;
        }
        for k0 in (k_begin..k).step_by(lanes) {
            let n = lanes.min(k - k0);
            // Columns: A^T m (M x AL).
            for j in 0..AL {
                for i in 0..AL {
                    let at = ((i * AL + j) * stride + row0 + t) * k + k0;
                    col[i] = ld(s, &a.mm[at..at + n]);
                }
                cols[j] = at::<S, P, AL, M>(s, col);
            }
            let bias = ld(s, &a.bias[k0..k0 + n]);
            // Rows: (A^T m) A (M x M), bias, activation, clipped at the image edge.
            for i in 0..M.min(p - oy) {
                for j in 0..AL {
                    row[j] = cols[j][i];
                }
                let out = at::<S, P, AL, M>(s, row);
                for j in 0..M.min(q - ox) {
                    let v = a.act.apply(s, s.add(out[j], bias));
                    let at = ((b * p + oy + i) * q + ox + j) * k + k0;
                    // SAFETY: a pixel of this block's tile (the caller's contract).
                    st(s, unsafe { a.output.slice_mut(at, n) }, v);
                }
            }
        }
    }
}
