//! AVX2+FMA GEMM microkernels: 6 rows x 2 ymm (6x16), 12 accumulators + 2 B vectors + 1
//! broadcast = 15 of 16 ymm registers (the XNNPACK / MLAS tile).

use super::{IndirectTile, PackedTile, Ukernels};
use crate::simd::avx2::Avx2;

const MR: usize = 6;
const NV: usize = 2;

/// # Safety
/// AVX2 and FMA present; the contract of [`super::ukernel::packed`].
#[target_feature(enable = "avx2,fma")]
unsafe fn packed(t: &PackedTile) {
    super::ukernel::packed::<Avx2, MR, NV>(Avx2::assume(), t)
}

/// # Safety
/// AVX2 and FMA present; the contract of [`super::ukernel::indirect`].
#[target_feature(enable = "avx2,fma")]
unsafe fn indirect(t: &IndirectTile) {
    super::ukernel::indirect::<Avx2, MR, NV>(Avx2::assume(), t)
}

pub(crate) const UKERNELS: Ukernels = Ukernels {
    mr: MR,
    nr: NV * 8,
    packed,
    indirect,
};
