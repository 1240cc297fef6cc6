//! Winograd transforms over `wide::f32x8`, 8 channels per vector.

use super::{InputArgs, OutputArgs, Transforms};
use crate::simd::portable::Portable;

/// # Safety
/// the contract of [`super::input_transform`].
unsafe fn input(a: &mut InputArgs) {
    super::input_transform(Portable, a)
}

/// # Safety
/// the contract of [`super::output_transform`].
unsafe fn output(a: &mut OutputArgs) {
    super::output_transform(Portable, a)
}

pub(crate) const TRANSFORMS: Transforms = Transforms { input, output };
