//! Depthwise row microkernel for AVX-512F: 16 channels per zmm, 3x3 and 5x5 taps in registers,
//! channel tails with `__mmask16`.

use super::{DwRow, DwUkernel};
use crate::simd::avx512::Avx512;

/// # Safety
/// AVX-512F present; the contract of [`super::row`].
#[target_feature(enable = "avx512f")]
unsafe fn row(a: &DwRow) {
    super::row(Avx512::assume(), a)
}

pub(crate) const UKERNEL: DwUkernel = DwUkernel { lanes: 16, row };
