//! Depthwise row microkernel for AVX2+FMA: 8 channels per ymm, 3x3 taps in 9 registers, channel
//! tails with `vmaskmovps`.

use super::{DwRow, DwUkernel};
use crate::simd::avx2::Avx2;

/// # Safety
/// AVX2 and FMA present; the contract of [`super::row`].
#[target_feature(enable = "avx2,fma")]
unsafe fn row(a: &DwRow) {
    super::row(Avx2::assume(), a)
}

pub(crate) const UKERNEL: DwUkernel = DwUkernel { lanes: 8, row };
