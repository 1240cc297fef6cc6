//! im2col + GEMM, tiled: the patch matrix (rows = output pixels, columns = (r, s, c)) is never
//! built whole. The GEMM driver asks for one mc x kc block at a time and this module gathers
//! exactly that block straight into the packed-A panel layout (tract's "lazy im2col"), so the
//! scratch is one A block, bounded by the L2 size, whatever the image size.
//!
//! A grouped convolution is one such GEMM per group: group g's patch columns are its
//! `C/groups` channels of each (r, s) tap, and its GEMM writes output columns `g * K/groups ..`.

use crate::gemm::{self, PackA, PackedConv, Ukernels};
use crate::kernel::{Kernel, ScratchSpec};
use crate::par::Exec;
use crate::simd::Act;
use crate::{ConvError, ConvShape, Tile};

struct Im2col(PackedConv);

pub(crate) fn build(
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: Ukernels,
) -> Result<Box<dyn Kernel>, ConvError> {
    Ok(Box::new(Im2col(PackedConv::new(
        shape, weights, bias, act, uk,
    )?)))
}

/// Gathers patch rows of one NHWC input for the group whose channels start at `c0`.
struct Patches<'a> {
    shape: &'a ConvShape,
    input: &'a [f32],
    c0: usize,
}

impl PackA for Patches<'_> {
    fn pack(&self, m0: usize, rows: usize, k0: usize, kc: usize, mr: usize, dst: &mut [f32]) {
        let s = self.shape;
        let (h, w, c, cg) = (s.h() as isize, s.w() as isize, s.c(), s.c_per_group());
        let (sh, sw) = s.stride();
        let (dh, dw) = s.dilation();
        let (r, sk) = (s.r(), s.s());
        let row_len = sk * cg;
        let panels = rows.div_ceil(mr);
        dst[..panels * mr * kc].fill(0.0);
        for (i, (b, oy, ox)) in s.output_pixels(m0).take(rows).enumerate() {
            let iy0 = (oy * sh) as isize - s.padding().top as isize;
            let ix0 = (ox * sw) as isize - s.padding().left as isize;
            let panel = &mut dst[(i / mr) * mr * kc..][..mr * kc];
            let lane = i % mr;
            // Copies the part of reduction range `k_begin .. k_begin + len` that falls in this
            // block, reading it from `src_at` (the input offset of `k_begin`), into lane `lane`.
            let mut put = |k_begin: usize, len: usize, src_at: usize| {
                let lo = k_begin.max(k0);
                let hi = (k_begin + len).min(k0 + kc);
                if lo < hi {
                    let src = &self.input[src_at + (lo - k_begin)..][..hi - lo];
                    let dst = panel[(lo - k0) * mr + lane..].iter_mut().step_by(mr);
                    for (d, &v) in dst.zip(src) {
                        *d = v;
                    }
                }
            };
            let pixel =
                |y: isize, x: isize| ((b * s.h() + y as usize) * s.w() + x as usize) * c + self.c0;
            for ky in 0..r {
                let kbase = ky * row_len;
                let y = iy0 + (ky * dh) as isize;
                if kbase >= k0 + kc || kbase + row_len <= k0 || !(0..h).contains(&y) {
                    continue;
                }
                if dw == 1 && cg == c && ix0 >= 0 && ix0 + sk as isize <= w {
                    // The kernel row's S taps are S * C contiguous input floats.
                    put(kbase, row_len, pixel(y, ix0));
                } else {
                    for kx in 0..sk {
                        let x = ix0 + (kx * dw) as isize;
                        if (0..w).contains(&x) {
                            put(kbase + kx * cg, cg, pixel(y, x));
                        }
                    }
                }
            }
        }
    }
}

impl Kernel for Im2col {
    fn run(&self, input: &[f32], output: &mut [f32], _shared: &mut [f32], ex: &Exec) {
        let c = &self.0;
        let s = &c.shape;
        let m = s.n() * s.p() * s.q();
        for (g, b) in c.b.iter().enumerate() {
            let patches = Patches {
                shape: s,
                input,
                c0: g * s.c_per_group(),
            };
            gemm::packed_gemm(&c.uk, m, &patches, b, &c.output(output, g), ex);
        }
    }

    fn tile(&self) -> Tile {
        self.0.uk.tile()
    }
    fn scratch(&self) -> ScratchSpec {
        ScratchSpec {
            shared_parallel: 0,
            shared: 0,
            floats: gemm::packed_scratch_len(&self.0.uk, self.0.shape.reduction_len()),
            ptrs: 0,
        }
    }
}
