//! Depthwise row microkernel in plain Rust: one channel at a time.

use super::{DwRow, DwUkernel};
use crate::simd::Scalar;

/// # Safety
/// The contract of [`super::row`].
unsafe fn row(a: &DwRow) {
    super::row(Scalar, a)
}

pub(crate) const UKERNEL: DwUkernel = DwUkernel { lanes: 1, row };
