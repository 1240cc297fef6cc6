//! NEON GEMM microkernels: 8 rows x 3 q registers (8x12), 24 accumulators + 3 B vectors + 1
//! broadcast = 28 of 32 q registers. Microkernels are `#[inline(never)]` with stable names so the
//! disassembly check (`scripts/check-neon-asm.sh`) can find them and count `fmla`.

use super::{IndirectTile, PackedTile, Ukernels};
use crate::simd::neon::Neon;

const MR: usize = 8;
const NV: usize = 3;

/// # Safety
/// The contract of [`super::ukernel::packed`].
#[inline(never)]
#[no_mangle]
unsafe fn simdconv_gemm_packed_neon_8x12(t: &PackedTile) {
    super::ukernel::packed::<Neon, MR, NV>(Neon, t)
}

/// # Safety
/// The contract of [`super::ukernel::indirect`].
#[inline(never)]
#[no_mangle]
unsafe fn simdconv_gemm_indirect_neon_8x12(t: &IndirectTile) {
    super::ukernel::indirect::<Neon, MR, NV>(Neon, t)
}

pub(crate) const UKERNELS: Ukernels = Ukernels {
    mr: MR,
    nr: NV * 4,
    packed: simdconv_gemm_packed_neon_8x12,
    indirect: simdconv_gemm_indirect_neon_8x12,
};
