//! Depthwise row microkernel for NEON: 4 channels per q register, 3x3 and 5x5 taps in registers.

use super::{DwRow, DwUkernel};
use crate::simd::neon::Neon;

/// # Safety
/// The contract of [`super::row`].
#[inline(never)]
#[no_mangle]
unsafe fn simdconv_depthwise_row_neon_4c(a: &DwRow) {
    super::row(Neon, a)
}

pub(crate) const UKERNEL: DwUkernel = DwUkernel {
    lanes: 4,
    row: simdconv_depthwise_row_neon_4c,
};
