//! Winograd transforms in plain Rust, one channel at a time.

use super::{InputArgs, OutputArgs, Transforms};
use crate::simd::Scalar;

/// # Safety
/// the contract of [`super::input_transform`].
unsafe fn input(a: &mut InputArgs) {
    super::input_transform(Scalar, a)
}

/// # Safety
/// the contract of [`super::output_transform`].
unsafe fn output(a: &mut OutputArgs) {
    super::output_transform(Scalar, a)
}

pub(crate) const TRANSFORMS: Transforms = Transforms { input, output };
