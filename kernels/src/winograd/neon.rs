//! Winograd transforms for NEON, 4 channels per q register.

use super::{InputArgs, OutputArgs, Transforms};
use crate::simd::neon::Neon;

/// # Safety
/// The contract of [`super::input_transform`].
#[inline(never)]
#[no_mangle]
unsafe fn simdconv_winograd_input_neon(a: &mut InputArgs) {
    super::input_transform(Neon, a)
}

/// # Safety
/// The contract of [`super::output_transform`].
#[inline(never)]
#[no_mangle]
unsafe fn simdconv_winograd_output_neon(a: &mut OutputArgs) {
    super::output_transform(Neon, a)
}

pub(crate) const TRANSFORMS: Transforms = Transforms {
    input: simdconv_winograd_input_neon,
    output: simdconv_winograd_output_neon,
};
