//! Pointwise (1x1, stride 1, no padding) convolution. In NHWC the input *is* an (N·H·W) x C
//! row-major matrix and the output an (N·H·W) x K one, so the whole layer is one GEMM against the
//! packed weights, with A read in place by the ISA's indirect GEMM tile (one tap): no im2col, no
//! copy, no packing of activations.

use crate::gemm::{IndirectBlocking, IndirectGemm, MatrixRows, PackedConv, Ukernels};
use crate::kernel::{Kernel, ScratchSpec};
use crate::par::Exec;
use crate::simd::Act;
use crate::{ConvError, ConvShape, Tile};

struct Pointwise {
    conv: PackedConv,
    blocking: IndirectBlocking,
    zero: Vec<f32>,
}

pub(crate) fn build(
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: Ukernels,
) -> Result<Box<dyn Kernel>, ConvError> {
    Ok(Box::new(Pointwise {
        conv: PackedConv::new(shape, weights, bias, act, uk)?,
        blocking: IndirectBlocking::new(&uk, 1, shape.c(), shape.c(), shape.c()),
        zero: crate::aligned::zeros(shape.c(), "pointwise zero row")?,
    }))
}

impl Kernel for Pointwise {
    fn run(&self, input: &[f32], output: &mut [f32], _shared: &mut [f32], ex: &Exec) {
        let c = &self.conv;
        let s = &c.shape;
        let a = MatrixRows {
            a: input,
            lda: s.c(),
            k: s.c(),
            zero: &self.zero,
        };
        let m = s.n() * s.h() * s.w();
        let out = c.output(output, 0);
        let gemm = IndirectGemm {
            uk: &c.uk,
            m,
            rows: &a,
            blocking: &self.blocking,
            b: &c.b[0],
            out: &out,
        };
        gemm.run(ex);
    }

    fn tile(&self) -> Tile {
        self.conv.uk.tile()
    }
    fn scratch(&self) -> ScratchSpec {
        ScratchSpec {
            shared_parallel: 0,
            shared: 0,
            floats: self.blocking.copy_len(&self.conv.uk),
            ptrs: self.blocking.table_len(&self.conv.uk),
        }
    }
}
