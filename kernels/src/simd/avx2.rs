//! AVX2 + FMA primitives (`__m256`, 8 lanes). Tails use `vmaskmovps`, which neither reads nor
//! writes (nor faults on) the masked-off lanes.

use std::arch::x86_64::*;

use super::{Body, Simd, Token};
use crate::Isa;

/// AVX2+FMA. Construct only through [`Simd::assume`], after `Isa::Avx2.is_available()`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(());

/// The AVX2 entry point: every generic body runs inside it, compiled for AVX2 and FMA.
///
/// # Safety
/// AVX2 and FMA present (a value of `Avx2` proves it).
#[target_feature(enable = "avx2,fma")]
unsafe fn entry<Op: Body<Avx2>>(s: Avx2, op: Op) -> Op::Output {
    op.body(s)
}

#[inline(always)]
fn mask(n: usize) -> __m256i {
    // SAFETY: AVX is implied by the Avx2 token held by every caller.
    unsafe {
        let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), idx)
    }
}

// SAFETY (every block below): a value of `Avx2` exists only after AVX2 and FMA were detected, so
// the intrinsics' target features are present; pointer contracts are the trait's.
impl Token for Avx2 {
    const ISA: Isa = Isa::Avx2;
    const REGISTERS: usize = 16;
    #[inline(always)]
    unsafe fn assume() -> Avx2 {
        Avx2(())
    }
    #[inline(always)]
    fn vectorize<Op: Body<Self>>(self, op: Op) -> Op::Output {
        unsafe { entry(self, op) }
    }
    #[inline(always)]
    fn prefetch<T>(self, p: *const T) {
        // SAFETY: a prefetch is a hint that never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
    }
}

impl Simd for Avx2 {
    const LANES: usize = 8;
    type V = __m256;
    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    fn zero(self) -> __m256 {
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    fn fma(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn add(self, a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    fn max(self, a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_max_ps(a, b) }
    }
    #[inline(always)]
    fn min(self, a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_min_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m256) {
        _mm256_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn load_n(self, p: *const f32, n: usize) -> __m256 {
        _mm256_maskload_ps(p, mask(n))
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, v: __m256, n: usize) {
        _mm256_maskstore_ps(p, mask(n), v)
    }
}
