//! im2col + GEMM, tiled: the patch matrix (rows = output pixels, columns = (r, s, c)) is never
//! built whole. The GEMM driver asks for one mc x kc block at a time and this module gathers
//! exactly that block straight into the packed-A panel layout (tract's "lazy im2col"), so the
//! scratch is one A block, bounded by the L2 size, whatever the image size.

use crate::gemm::{self, PackA, PackedConv, Ukernels};
use crate::plan::{Kernel, Scratch, ScratchSpec};
use crate::simd::Act;
use crate::ConvShape;

struct Im2col(PackedConv);

pub(crate) fn build(
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: &'static Ukernels,
) -> Box<dyn Kernel> {
    Box::new(Im2col(PackedConv::new(shape, weights, bias, act, uk)))
}

/// Gathers patch rows of one NHWC input.
struct Patches<'a> {
    shape: &'a ConvShape,
    input: &'a [f32],
}

impl PackA for Patches<'_> {
    fn pack(&self, m0: usize, rows: usize, k0: usize, kc: usize, mr: usize, dst: &mut [f32]) {
        let s = self.shape;
        let (h, w, c) = (s.h() as isize, s.w() as isize, s.c());
        let (sh, sw) = s.stride();
        let (dh, dw) = s.dilation();
        let pq = s.p() * s.q();
        let panels = rows.div_ceil(mr);
        dst[..panels * mr * kc].fill(0.0);
        for i in 0..rows {
            let m = m0 + i;
            let (b, rem) = (m / pq, m % pq);
            let (oy, ox) = (rem / s.q(), rem % s.q());
            let iy0 = (oy * sh) as isize - s.padding().top as isize;
            let ix0 = (ox * sw) as isize - s.padding().left as isize;
            let panel = &mut dst[(i / mr) * mr * kc..][..mr * kc];
            let lane = i % mr;
            // Walk the k range as runs of channels of one tap.
            let mut kk = k0;
            while kk < k0 + kc {
                let (tap, c0) = (kk / c, kk % c);
                let run = (c - c0).min(k0 + kc - kk);
                let (ky, kx) = (tap / s.s(), tap % s.s());
                let y = iy0 + (ky * dh) as isize;
                let x = ix0 + (kx * dw) as isize;
                if (0..h).contains(&y) && (0..w).contains(&x) {
                    let src = &self.input
                        [((b * s.h() + y as usize) * s.w() + x as usize) * c + c0..][..run];
                    for (j, &v) in src.iter().enumerate() {
                        panel[(kk - k0 + j) * mr + lane] = v;
                    }
                }
                kk += run;
            }
        }
    }
}

impl Kernel for Im2col {
    fn run(&self, input: &[f32], output: &mut [f32], scratch: &mut Scratch) {
        let c = &self.0;
        let s = &c.shape;
        let patches = Patches { shape: s, input };
        let m = s.n() * s.p() * s.q();
        gemm::packed_gemm(
            c.uk,
            m,
            &patches,
            &c.b,
            &mut c.output(output),
            &mut scratch.floats[..],
        );
    }

    fn scratch(&self) -> ScratchSpec {
        ScratchSpec {
            floats: gemm::packed_scratch_len(self.0.uk, self.0.shape.reduction_len()),
            ptrs: 0,
        }
    }
}
