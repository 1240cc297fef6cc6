//! Direct convolution: the driver (tiling over output pixels, borders, weight packing).
//!
//! Output pixels are flattened (n, y, x) into GEMM rows and blocked MR at a time; output
//! channels are vectorised NR at a time with weights packed `[K/NR][R][S][C][NR]`. The
//! microkernel is the ISA's indirect GEMM tile (`gemm/<isa>.rs`): it reads the input in place
//! through one row pointer per (tap, pixel), so there is no copy and no branch in the inner loop.
//! Borders cost nothing extra there: a tap that falls in the padding points at a zero row.
//!
//! Two tap layouts, chosen per tile by the driver:
//! - interior rows (every pixel of the tile has its S columns inside the image, dilation_w = 1):
//!   one tap per kernel row, `S * C` contiguous floats each (a 7x7 stem with C = 3 then has
//!   7 taps of 21 floats instead of 49 taps of 3);
//! - otherwise one tap per (r, s), `C` floats each.

use crate::gemm::{self, PackedConv, RowPointers, Taps, Ukernels};
use crate::plan::{Kernel, Scratch, ScratchSpec};
use crate::simd::Act;
use crate::ConvShape;

struct Direct {
    conv: PackedConv,
    zero: Vec<f32>,
}

pub(crate) fn build(
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: &'static Ukernels,
) -> Box<dyn Kernel> {
    Box::new(Direct {
        conv: PackedConv::new(shape, weights, bias, act, uk),
        zero: vec![0.0; shape.s() * shape.c()],
    })
}

/// Row pointers of a direct convolution over one NHWC input.
struct PixelRows<'a> {
    shape: &'a ConvShape,
    input: &'a [f32],
    zero: &'a [f32],
}

impl PixelRows<'_> {
    /// (image, first input row, first input column) of output pixel `m`, as signed offsets.
    fn origin(&self, m: usize) -> (usize, isize, isize) {
        let s = self.shape;
        let (b, rem) = (m / (s.p() * s.q()), m % (s.p() * s.q()));
        let (oy, ox) = (rem / s.q(), rem % s.q());
        let iy = (oy * s.stride().0) as isize - s.padding().top as isize;
        let ix = (ox * s.stride().1) as isize - s.padding().left as isize;
        (b, iy, ix)
    }
}

// SAFETY: every pointer is taken from a bounds-checked slice (`input[start..][..kc]` or
// `zero[..kc]`) of at least the returned `kc` floats.
unsafe impl RowPointers for PixelRows<'_> {
    fn max_taps(&self) -> usize {
        self.shape.r() * self.shape.s()
    }

    fn fill(&self, m0: usize, rows: usize, mr: usize, table: &mut [*const f32]) -> Taps {
        let s = self.shape;
        let (h, w, c) = (s.h() as isize, s.w() as isize, s.c());
        let (dh, dw) = (s.dilation().0 as isize, s.dilation().1 as isize);
        let (r, sk) = (s.r(), s.s());
        let px = |b: usize, y: isize, x: isize| ((b * s.h() + y as usize) * s.w() + x as usize) * c;
        let row_taps = dw == 1
            && (0..rows).all(|i| {
                let (_, _, ix) = self.origin(m0 + i);
                ix >= 0 && ix + sk as isize <= w
            });
        if row_taps {
            let kc = sk * c;
            for ky in 0..r {
                for i in 0..mr {
                    table[ky * mr + i] = if i < rows {
                        let (b, iy, ix) = self.origin(m0 + i);
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
                            let (b, iy, ix) = self.origin(m0 + i);
                            let (y, x) = (iy + ky as isize * dh, ix + kx as isize * dw);
                            if (0..h).contains(&y) && (0..w).contains(&x) {
                                self.input[px(b, y, x)..][..c].as_ptr()
                            } else {
                                self.zero[..c].as_ptr()
                            }
                        } else {
                            self.zero[..c].as_ptr()
                        };
                    }
                }
            }
            Taps {
                taps: r * sk,
                kc: c,
                b_tap_rows: c,
            }
        }
    }
}

impl Kernel for Direct {
    fn run(&self, input: &[f32], output: &mut [f32], scratch: &mut Scratch) {
        let c = &self.conv;
        let s = &c.shape;
        let rows = PixelRows {
            shape: s,
            input,
            zero: &self.zero,
        };
        let m = s.n() * s.p() * s.q();
        gemm::indirect_gemm(
            c.uk,
            m,
            &rows,
            footprint(s),
            &c.b,
            &mut c.output(output),
            &mut scratch.ptrs,
        );
    }

    fn scratch(&self) -> ScratchSpec {
        let s = &self.conv.shape;
        ScratchSpec {
            floats: 0,
            ptrs: gemm::indirect_table_len(self.conv.uk, s.r() * s.s(), footprint(s)),
        }
    }
}

/// Input floats one output pixel brings into cache beyond its neighbour's: one column of R rows.
fn footprint(s: &ConvShape) -> usize {
    s.r() * s.c()
}
