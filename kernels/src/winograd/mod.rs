//! Winograd minimal filtering F(m x m, 3x3) for m = 2, 4 and 6 (Lavin & Gray): the driver and
//! the generic transform bodies. Every tile is one point set (`WinogradTile::points`) whose
//! matrices `points.rs` builds at compile time; the transforms below are written once, over those
//! tables.
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

use crate::gemm::{self, IndirectBlocking, MatrixRows, Output, PackedB, Ukernels};
use crate::kernel::{Kernel, ScratchSpec};
use crate::par::{part, Exec, SharedOut, Worker};
use crate::simd::{Act, Simd, WithSimd};
use crate::{ConvError, ConvShape, Element, Tile, WinogradTile};

use crate::toom_cook::{self as points, Tables};

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
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        &self,
        xi: usize,
        count: usize,
        v: &[f32],
        mm: &SharedOut,
        panels: std::ops::Range<usize>,
        table: &mut [*const f32],
        copy: &mut [f32],
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
        gemm::indirect_gemm_serial(
            &self.uk,
            count,
            &a,
            &self.blocking,
            &self.u[xi],
            &out,
            panels,
            table,
            copy,
        );
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
            self.gemm(xi, count, v, &ms, 0..self.u[xi].panels(), ptrs, copy);
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
            self.gemm(xi, count, v, &ms, part(panels, groups, g), ptrs, floats);
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
