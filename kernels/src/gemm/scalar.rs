//! GEMM microkernels in plain Rust: a 4x4 tile of f32 accumulators (16 of x86-64's 16 xmm).

use super::{IndirectTile, PackedTile, Ukernels};
use crate::simd::Scalar;

const MR: usize = 4;
const NV: usize = 4;

/// # Safety
/// The contract of [`super::ukernel::packed`].
unsafe fn packed(t: &PackedTile) {
    super::ukernel::packed::<Scalar, MR, NV>(Scalar, t)
}

/// # Safety
/// The contract of [`super::ukernel::indirect`].
unsafe fn indirect(t: &IndirectTile) {
    super::ukernel::indirect::<Scalar, MR, NV>(Scalar, t)
}

pub(crate) const UKERNELS: Ukernels = Ukernels {
    mr: MR,
    nr: NV,
    packed,
    indirect,
};
