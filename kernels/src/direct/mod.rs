//! Direct convolution: the driver (tiling over output pixels, borders, weight packing).
//!
//! Output pixels are flattened (n, y, x) into GEMM rows and blocked MR at a time; output
//! channels are vectorised NR at a time with weights packed `[K/NR][R][S][C][NR]`. The
//! microkernel is the ISA's indirect GEMM tile (`gemm/<isa>.rs`): it reads the input in place
//! through one row pointer per (tap, pixel), so there is no copy and no branch in the inner loop.
//! Borders cost nothing extra there: a tap that falls in the padding points at a zero row.
//!
//! Two tap layouts, chosen per tile by the driver:
//! - interior rows (every pixel of the tile has its S columns inside the row, dilation_w = 1):
//!   one tap per kernel row, `S * C` contiguous floats each (a 7x7 stem with C = 3 then has
//!   7 taps of 21 floats instead of 49 taps of 3);
//! - otherwise one tap per (r, s), `C` floats each.
//!
//! A grouped convolution runs group by group with the same microkernel: group g's taps are its
//! `C/groups` channels of each (r, s) pixel, read in place at channel offset `g * C/groups`, and
//! its GEMM writes output columns `g * K/groups ..` (row taps need whole pixels, so groups > 1
//! always takes one tap per (r, s)).
//!
//! With few channels (C < [`PAD_COPY_MAX_C`]) and horizontal padding narrower than the kernel,
//! one tap per (r, s) would be a reduction of only C floats per row pointer, and every tile
//! touching a left or right border would pay it (a quarter of the stem's tiles, all of a 28-wide
//! 5x5 layer's). There the driver first copies the input into scratch with the left and right
//! padding columns materialised as zeros, so every tile takes the row taps; the copy is one pass
//! over the input and at most (W + 2(S - 1)) / W times its size.

use crate::gemm::{IndirectBlocking, IndirectGemm, PackedConv, RowPointers, Taps, Ukernels};
use crate::kernel::{Kernel, ScratchSpec};
use crate::par::Exec;
use crate::simd::Act;
use crate::{ConvError, ConvShape, Tile};

struct Direct {
    conv: PackedConv,
    blocking: IndirectBlocking,
    zero: Vec<f32>,
    /// Copy the input into horizontally padded rows first.
    pad_copy: bool,
}

/// Below this many input channels the driver pads the rows in scratch (see the module docs).
const PAD_COPY_MAX_C: usize = 64;

pub(crate) fn build(
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: Ukernels,
) -> Result<Box<dyn Kernel>, ConvError> {
    let pad = shape.padding();
    // Only padding narrower than the kernel: wider padding is rare, its columns are mostly never
    // read, and a copy that materialised it could be far larger than the input.
    let pad_copy = shape.dilation().1 == 1
        && shape.groups() == 1
        && shape.c() < PAD_COPY_MAX_C
        && pad.left + pad.right > 0
        && pad.left < shape.s()
        && pad.right < shape.s();
    // Interior tiles with dilation 1 read each kernel row as one tap of S * C contiguous floats.
    let row_kc = if shape.dilation().1 == 1 && shape.groups() == 1 {
        shape.s() * shape.c()
    } else {
        shape.c_per_group()
    };
    Ok(Box::new(Direct {
        conv: PackedConv::new(shape, weights, bias, act, uk)?,
        blocking: IndirectBlocking::new(
            &uk,
            shape.r() * shape.s(),
            footprint(shape),
            row_kc,
            shape.stride().1 * shape.c(),
        ),
        zero: crate::aligned::zeros(shape.s() * shape.c(), "direct zero row")?,
        pad_copy,
    }))
}

/// Row pointers of a direct convolution over one NHWC input whose rows are `w` pixels wide and
/// start `left` columns left of the convolution's column 0 (the input itself: `w = W`, `left =
/// padding.left`; a padded copy: `w = left + W + right`, `left = 0`), for the group whose
/// channels start at `c0`.
struct PixelRows<'a> {
    shape: &'a ConvShape,
    input: &'a [f32],
    w: usize,
    left: usize,
    c0: usize,
    zero: &'a [f32],
}

/// Most rows a register tile has (sizes the per-tile origin array).
const MAX_MR: usize = 16;

impl PixelRows<'_> {
    /// (image, first input row, first input column) of output pixels `m0 .. m0 + rows`, as
    /// signed offsets: one division for the first pixel, then stepping along the row.
    fn origins(&self, m0: usize, rows: usize) -> [(usize, isize, isize); MAX_MR] {
        let s = self.shape;
        let mut out = [(0, 0, 0); MAX_MR];
        for (o, (b, oy, ox)) in out.iter_mut().zip(s.output_pixels(m0)).take(rows) {
            let iy = (oy * s.stride().0) as isize - s.padding().top as isize;
            let ix = (ox * s.stride().1) as isize - self.left as isize;
            *o = (b, iy, ix);
        }
        out
    }
}

// SAFETY: every pointer is taken from a bounds-checked slice (`input[start..][..kc]` or
// `zero[..kc]`) of at least the returned `kc` floats (the zero row has S*C >= C/groups).
unsafe impl RowPointers for PixelRows<'_> {
    fn max_taps(&self) -> usize {
        self.shape.r() * self.shape.s()
    }

    fn fill(&self, m0: usize, rows: usize, mr: usize, table: &mut [*const f32]) -> Taps {
        let s = self.shape;
        let (h, w, c, cg) = (s.h() as isize, self.w as isize, s.c(), s.c_per_group());
        let (dh, dw) = (s.dilation().0 as isize, s.dilation().1 as isize);
        let (r, sk) = (s.r(), s.s());
        let px =
            |b: usize, y: isize, x: isize| ((b * s.h() + y as usize) * self.w + x as usize) * c;
        assert!(mr <= MAX_MR && rows <= mr);
        let origin = self.origins(m0, rows);
        let row_taps = dw == 1
            && cg == c
            && origin[..rows]
                .iter()
                .all(|&(_, _, ix)| ix >= 0 && ix + sk as isize <= w);
        if row_taps {
            let kc = sk * c;
            for ky in 0..r {
                for i in 0..mr {
                    table[ky * mr + i] = if i < rows {
                        let (b, iy, ix) = origin[i];
                        let y = iy + ky as isize * dh;
                        if (0..h).contains(&y) {
                            self.input[px(b, y, ix)..][..kc].as_ptr()
                        } else {
                            self.zero[..kc].as_ptr()
                        }
                    } else {
                        self.zero[..kc].as_ptr()
                    };
                }
            }
            Taps {
                taps: r,
                kc,
                b_tap_rows: kc,
            }
        } else {
            for ky in 0..r {
                for kx in 0..sk {
                    let t = ky * sk + kx;
                    for i in 0..mr {
                        table[t * mr + i] = if i < rows {
                            let (b, iy, ix) = origin[i];
                            let (y, x) = (iy + ky as isize * dh, ix + kx as isize * dw);
                            if (0..h).contains(&y) && (0..w).contains(&x) {
                                self.input[px(b, y, x) + self.c0..][..cg].as_ptr()
                            } else {
                                self.zero[..cg].as_ptr()
                            }
                        } else {
                            self.zero[..cg].as_ptr()
                        };
                    }
                }
            }
            Taps {
                taps: r * sk,
                kc: cg,
                b_tap_rows: cg,
            }
        }
    }
}

impl Kernel for Direct {
    fn run(&self, input: &[f32], output: &mut [f32], shared: &mut [f32], ex: &Exec) {
        let c = &self.conv;
        let s = &c.shape;
        let (input, w, left) = if self.pad_copy {
            let (left, right) = (s.padding().left, s.padding().right);
            let wp = left + s.w() + right;
            let ch = s.c();
            let padded = &mut shared[..s.n() * s.h() * wp * ch];
            ex.chunks(padded, wp * ch, |i, dst| {
                let src = &input[i * s.w() * ch..][..s.w() * ch];
                dst[..left * ch].fill(0.0);
                dst[left * ch..][..s.w() * ch].copy_from_slice(src);
                dst[(left + s.w()) * ch..].fill(0.0);
            });
            (&*padded, wp, 0)
        } else {
            (input, s.w(), s.padding().left)
        };
        let m = s.n() * s.p() * s.q();
        for (g, b) in c.b.iter().enumerate() {
            let rows = PixelRows {
                shape: s,
                input,
                w,
                left,
                c0: g * s.c_per_group(),
                zero: &self.zero,
            };
            let out = c.output(output, g);
            let gemm = IndirectGemm {
                uk: &c.uk,
                m,
                rows: &rows,
                blocking: &self.blocking,
                b,
                out: &out,
            };
            gemm.run(ex);
        }
    }

    fn tile(&self) -> Tile {
        self.conv.uk.tile()
    }
    fn scratch(&self) -> ScratchSpec {
        let s = &self.conv.shape;
        let shared = if self.pad_copy {
            // Saturating: a copy too large to count is too large to allocate, and the plan's
            // fallible allocation turns it into an error.
            let wp = s.padding().left + s.w() + s.padding().right;
            [s.n(), s.h(), wp, s.c()]
                .iter()
                .fold(1usize, |acc, &x| acc.saturating_mul(x))
        } else {
            0
        };
        ScratchSpec {
            shared_parallel: 0,
            shared,
            floats: self.blocking.copy_len(&self.conv.uk),
            ptrs: self.blocking.table_len(&self.conv.uk),
        }
    }
}

/// Input floats one output pixel brings into cache beyond its neighbour's: one column of R rows.
fn footprint(s: &ConvShape) -> usize {
    s.r() * s.c()
}
