//! Pointwise (1x1, stride 1, no padding) convolution. In NHWC the input *is* an (N·H·W) x C
//! row-major matrix and the output an (N·H·W) x K one, so the whole layer is one GEMM against the
//! packed weights, with A read in place by the ISA's indirect GEMM tile (one tap): no im2col, no
//! copy, no packing of activations.

use crate::direct::pack_ohwi;
use crate::gemm::{self, MatrixRows, Output, PackedB, Ukernels};
use crate::plan::{Kernel, Scratch, ScratchSpec};
use crate::simd::Act;
use crate::ConvShape;

struct Pointwise {
    shape: ConvShape,
    uk: &'static Ukernels,
    b: PackedB,
    bias: Option<Vec<f32>>,
    act: Act,
    zero: Vec<f32>,
}

pub(crate) fn build(
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: &'static Ukernels,
) -> Box<dyn Kernel> {
    Box::new(Pointwise {
        shape: *shape,
        uk,
        b: pack_ohwi(shape, weights, uk.nr),
        bias: bias.map(<[f32]>::to_vec),
        act,
        zero: vec![0.0; shape.c()],
    })
}

impl Kernel for Pointwise {
    fn run(&self, input: &[f32], output: &mut [f32], scratch: &mut Scratch) {
        let s = &self.shape;
        let a = MatrixRows {
            a: input,
            lda: s.c(),
            k: s.c(),
            zero: &self.zero,
        };
        let mut out = Output {
            c: output,
            ldc: s.k(),
            bias: self.bias.as_deref(),
            act: self.act,
        };
        let m = s.n() * s.h() * s.w();
        gemm::indirect_gemm(self.uk, m, &a, s.c(), &self.b, &mut out, &mut scratch.ptrs);
    }

    fn scratch(&self) -> ScratchSpec {
        ScratchSpec {
            floats: 0,
            ptrs: gemm::indirect_table_len(self.uk, 1, self.shape.c()),
        }
    }
}
