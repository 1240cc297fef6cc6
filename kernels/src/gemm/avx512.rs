//! AVX-512F GEMM microkernels: 14 rows x 2 zmm (14x32), 28 accumulators + 2 B vectors + 1
//! broadcast = 31 of 32 zmm registers.

use super::{IndirectTile, PackedTile, Ukernels};
use crate::simd::avx512::Avx512;

const MR: usize = 14;
const NV: usize = 2;

/// # Safety
/// AVX-512F present; the contract of [`super::ukernel::packed`].
#[target_feature(enable = "avx512f")]
unsafe fn packed(t: &PackedTile) {
    super::ukernel::packed::<Avx512, MR, NV>(Avx512::assume(), t)
}

/// # Safety
/// AVX-512F present; the contract of [`super::ukernel::indirect`].
#[target_feature(enable = "avx512f")]
unsafe fn indirect(t: &IndirectTile) {
    super::ukernel::indirect::<Avx512, MR, NV>(Avx512::assume(), t)
}

pub(crate) const UKERNELS: Ukernels = Ukernels {
    mr: MR,
    nr: NV * 16,
    packed,
    indirect,
};
