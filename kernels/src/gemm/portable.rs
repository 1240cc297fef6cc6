//! GEMM microkernels over `wide::f32x8`: 6 rows x 1 vector (8 columns).

use super::{IndirectTile, PackedTile, Ukernels};
use crate::simd::portable::Portable;

const MR: usize = 6;
const NV: usize = 1;

/// # Safety
/// The contract of [`super::ukernel::packed`].
unsafe fn packed(t: &PackedTile) {
    super::ukernel::packed::<Portable, MR, NV>(Portable, t)
}

/// # Safety
/// The contract of [`super::ukernel::indirect`].
unsafe fn indirect(t: &IndirectTile) {
    super::ukernel::indirect::<Portable, MR, NV>(Portable, t)
}

pub(crate) const UKERNELS: Ukernels = Ukernels {
    mr: MR,
    nr: NV * 8,
    packed,
    indirect,
};
