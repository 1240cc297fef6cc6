//! Depthwise row microkernel over `wide::f32x8`: 8 channels per vector.

use super::{DwRow, DwUkernel};
use crate::simd::portable::Portable;

/// # Safety
/// The contract of [`super::row`].
unsafe fn row(a: &DwRow) {
    super::row(Portable, a)
}

pub(crate) const UKERNEL: DwUkernel = DwUkernel { lanes: 8, row };
