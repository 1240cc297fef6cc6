//! Winograd transforms for AVX-512F, 16 channels per zmm.

use super::{InputArgs, OutputArgs, Transforms};
use crate::simd::avx512::Avx512;

/// # Safety
/// AVX-512F present; the contract of [`super::input_transform`].
#[target_feature(enable = "avx512f")]
unsafe fn input(a: &mut InputArgs) {
    super::input_transform(Avx512::assume(), a)
}

/// # Safety
/// AVX-512F present; the contract of [`super::output_transform`].
#[target_feature(enable = "avx512f")]
unsafe fn output(a: &mut OutputArgs) {
    super::output_transform(Avx512::assume(), a)
}

pub(crate) const TRANSFORMS: Transforms = Transforms { input, output };
