//! Winograd minimal filtering F(m x m, 3x3) for m = 2 and 4 (Lavin & Gray): the driver and the
//! generic transform bodies.
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
//! `C * max|x| * max|w|`; the crate docs state what that means for non-finite results.
//! The transforms are vectorised over channels (contiguous in NHWC). Rounding error grows with m;
//! see `reference::tolerance` for the measured bound.

use crate::gemm::{self, IndirectBlocking, MatrixRows, Output, PackedB, Ukernels};
use crate::kernel::{Kernel, ScratchSpec};
use crate::par::{part, Exec, SharedOut, Worker};
use crate::simd::{Act, Simd, WithSimd};
use crate::{ConvError, ConvShape, Tile, WinogradTile};

/// G of F(2x2,3x3) (4 x 3).
const G2: [[f64; 3]; 4] = [
    [1.0, 0.0, 0.0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0.0, 0.0, 1.0],
];
/// G of F(4x4,3x3) (6 x 3).
const G4: [[f64; 3]; 6] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// `B^T x` for F(2,3), on alpha = 4 vectors.
#[inline(always)]
fn bt2<S: Simd>(s: S, d: [S::V; 4]) -> [S::V; 4] {
    [
        s.sub(d[0], d[2]),
        s.add(d[1], d[2]),
        s.sub(d[2], d[1]),
        s.sub(d[1], d[3]),
    ]
}

/// `A^T x` for F(2,3).
#[inline(always)]
fn at2<S: Simd>(s: S, m: [S::V; 4]) -> [S::V; 2] {
    [
        s.add(s.add(m[0], m[1]), m[2]),
        s.sub(s.sub(m[1], m[2]), m[3]),
    ]
}

/// `B^T x` for F(4,3), on alpha = 6 vectors.
#[inline(always)]
fn bt4<S: Simd>(s: S, d: [S::V; 6]) -> [S::V; 6] {
    let (k4, k5, k2) = (s.splat(4.0), s.splat(-5.0), s.splat(2.0));
    // Rows of B^T: [4,0,-5,0,1,0] [0,-4,-4,1,1,0] [0,4,-4,-1,1,0] [0,-2,-1,2,1,0] [0,2,-1,-2,1,0] [0,4,0,-5,0,1]
    let t0 = s.fma(k5, d[2], s.fma(k4, d[0], d[4]));
    let a = s.fma(s.splat(-4.0), d[2], d[4]); // -4 d2 + d4
    let b = s.fma(s.splat(-4.0), d[1], d[3]); // -4 d1 + d3
    let t1 = s.add(a, b);
    let t2 = s.sub(a, b);
    let c = s.sub(d[4], d[2]); // d4 - d2
    let e = s.mul(k2, s.sub(d[3], d[1])); // 2 (d3 - d1)
    let t3 = s.add(c, e);
    let t4 = s.sub(c, e);
    let t5 = s.fma(k5, d[3], s.fma(k4, d[1], d[5]));
    [t0, t1, t2, t3, t4, t5]
}

/// `A^T x` for F(4,3): rows [1,1,1,1,1,0] [0,1,-1,2,-2,0] [0,1,1,4,4,0] [0,1,-1,8,-8,1].
#[inline(always)]
fn at4<S: Simd>(s: S, m: [S::V; 6]) -> [S::V; 4] {
    let p12 = s.add(m[1], m[2]);
    let m12 = s.sub(m[1], m[2]);
    let p34 = s.add(m[3], m[4]);
    let m34 = s.sub(m[3], m[4]);
    [
        s.add(s.add(m[0], p12), p34),
        s.fma(s.splat(2.0), m34, m12),
        s.fma(s.splat(4.0), p34, p12),
        s.add(s.fma(s.splat(8.0), m34, m12), m[5]),
    ]
}

/// `B^T x` for the tile size given by `AL` (4: F(2,3), 6: F(4,3)).
#[inline(always)]
fn bt<S: Simd, const AL: usize>(s: S, d: [S::V; AL]) -> [S::V; AL] {
    let mut o = d;
    if AL == 4 {
        o[..4].copy_from_slice(&bt2(s, [d[0], d[1], d[2], d[3]]));
    } else {
        o[..6].copy_from_slice(&bt4(s, [d[0], d[1], d[2], d[3], d[4], d[5]]));
    }
    o
}

/// `A^T x` for the tile size given by `AL`, into the first `M` lanes of the result.
#[inline(always)]
fn at<S: Simd, const AL: usize, const M: usize>(s: S, m: [S::V; AL]) -> [S::V; M] {
    let mut o = [m[0]; M];
    if AL == 4 {
        o[..2].copy_from_slice(&at2(s, [m[0], m[1], m[2], m[3]]));
    } else {
        o[..4].copy_from_slice(&at4(s, [m[0], m[1], m[2], m[3], m[4], m[5]]));
    }
    o
}

/// A block of tiles to transform.
pub(crate) struct TileBlock<'a> {
    pub shape: &'a ConvShape,
    pub m: usize,
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
        (b, rem / self.tiles_x * self.m, rem % self.tiles_x * self.m)
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
    match a.blk.m {
        2 => input_tiles::<S, 4>(s, a),
        _ => input_tiles::<S, 6>(s, a),
    }
}

/// The generic output transform.
///
/// # Safety
/// As [`output_entry`], less the ISA; reads and writes as [`input_transform`] does.
#[inline(always)]
unsafe fn output_transform<S: Simd>(s: S, a: &mut OutputArgs) {
    match a.blk.m {
        2 => output_tiles::<S, 4, 2>(s, a),
        _ => output_tiles::<S, 6, 4>(s, a),
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
fn input_tiles<S: Simd, const AL: usize>(s: S, a: &mut InputArgs) {
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
                        cols[j] = bt(s, d);
                    }
                    for i in 0..AL {
                        for j in 0..AL {
                            row[j] = cols[j][i];
                        }
                        let out = bt(s, row);
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
                cols[j] = bt(s, d);
            }
            // Then rows of (B^T d) B.
            for i in 0..AL {
                for j in 0..AL {
                    row[j] = cols[j][i];
                }
                let out = bt(s, row);
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
fn output_tiles<S: Simd, const AL: usize, const M: usize>(s: S, a: &mut OutputArgs) {
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
                        cols[j] = at::<S, AL, M>(s, col);
                    }
                    let bias = s.load(a.bias.as_ptr().add(k0));
                    for i in 0..M {
                        for j in 0..AL {
                            row[j] = cols[j][i];
                        }
                        let out = at::<S, AL, M>(s, row);
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
                cols[j] = at::<S, AL, M>(s, col);
            }
            let bias = ld(s, &a.bias[k0..k0 + n]);
            // Rows: (A^T m) A (M x M), bias, activation, clipped at the image edge.
            for i in 0..M.min(p - oy) {
                for j in 0..AL {
                    row[j] = cols[j][i];
                }
                let out = at::<S, AL, M>(s, row);
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
    m: usize,
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
        (self.m + 2) * (self.m + 2)
    }
    fn tiles(&self) -> (usize, usize) {
        (
            self.shape.p().div_ceil(self.m),
            self.shape.q().div_ceil(self.m),
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
    let g: &[[f64; 3]] = if m == 2 { &G2 } else { &G4 };
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
    let per_tile = al * al * (c + k) * 4;
    let fit = ((l2 / 2 / per_tile) / uk.mr).clamp(1, 16) * uk.mr;
    let amortize = (c * k / (c + k)).div_ceil(uk.mr) * uk.mr;
    let tiles = shape.n() * shape.p().div_ceil(m) * shape.q().div_ceil(m);
    let block = fit.max(amortize).min(tiles);
    Ok(Box::new(Winograd {
        shape: *shape,
        m,
        uk,
        tr,
        u,
        bias: b,
        act,
        zero: crate::aligned::zeros(c, "winograd zero row")?,
        block,
        blocking: IndirectBlocking::new(&uk, 1, c, c),
    }))
}

impl Winograd {
    /// Tiles `t0 .. t0 + count`, which are rows `row0 ..` of V and M matrices of `stride` rows.
    fn tile_block(&self, t0: usize, count: usize, stride: usize, row0: usize) -> TileBlock<'_> {
        let (ty, tx) = self.tiles();
        TileBlock {
            shape: &self.shape,
            m: self.m,
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
        );
    }

    /// One block of `count` tiles from tile `t0`, whole, in the worker's V and M.
    fn block(&self, input: &[f32], out: &SharedOut, t0: usize, count: usize, w: &mut Worker) {
        let (c, k) = (self.shape.c(), self.shape.k());
        let a2 = self.alpha2();
        let blk = self.tile_block(t0, count, count, 0);
        let Worker { floats, ptrs } = w;
        let (v, rest) = floats.split_at_mut(a2 * count * c);
        let mm = &mut rest[..a2 * count * k];
        self.input(&blk, input, &SharedOut::new(v));
        let ms = SharedOut::new(mm);
        for xi in 0..a2 {
            self.gemm(xi, count, v, &ms, 0..self.u[xi].panels(), ptrs);
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
            self.gemm(xi, count, v, &ms, part(panels, groups, g), &mut w.ptrs);
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
            floats: self.alpha2() * self.block * (c + k),
            ptrs: self.blocking.table_len(&self.uk),
        }
    }
}
