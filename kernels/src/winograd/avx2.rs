//! Winograd transforms for AVX2+FMA, 8 channels per ymm.

use super::{InputArgs, OutputArgs, Transforms};
use crate::simd::avx2::Avx2;

/// # Safety
/// AVX2 and FMA present; the contract of [`super::input_transform`].
#[target_feature(enable = "avx2,fma")]
unsafe fn input(a: &mut InputArgs) {
    super::input_transform(Avx2::assume(), a)
}

/// # Safety
/// AVX2 and FMA present; the contract of [`super::output_transform`].
#[target_feature(enable = "avx2,fma")]
unsafe fn output(a: &mut OutputArgs) {
    super::output_transform(Avx2::assume(), a)
}

pub(crate) const TRANSFORMS: Transforms = Transforms { input, output };
