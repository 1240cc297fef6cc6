//! AVX-512F primitives (`__m512`, 16 lanes). Tails use `__mmask16` loads and stores, which
//! suppress faults on the masked-off lanes.

use std::arch::x86_64::*;

use super::{Body, Simd, Token};
use crate::Isa;

/// AVX-512F. Construct only through [`Simd::assume`], after `Isa::Avx512.is_available()`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512(());

/// The AVX-512 entry point: every generic body runs inside it, compiled for AVX-512F.
///
/// # Safety
/// AVX-512F present (a value of `Avx512` proves it).
#[target_feature(enable = "avx512f")]
unsafe fn entry<Op: Body<Avx512>>(s: Avx512, op: Op) -> Op::Output {
    op.body(s)
}

#[inline(always)]
fn mask(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

// SAFETY (every block below): a value of `Avx512` exists only after AVX-512F was detected;
// pointer contracts are the trait's.
impl Token for Avx512 {
    const ISA: Isa = Isa::Avx512;
    const REGISTERS: usize = 32;
    #[inline(always)]
    unsafe fn assume() -> Avx512 {
        Avx512(())
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

impl Simd for Avx512 {
    const LANES: usize = 16;
    type V = __m512;
    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    fn zero(self) -> __m512 {
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    fn fma(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn add(self, a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    fn max(self, a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_max_ps(a, b) }
    }
    #[inline(always)]
    fn min(self, a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_min_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m512) {
        _mm512_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn load_n(self, p: *const f32, n: usize) -> __m512 {
        _mm512_maskz_loadu_ps(mask(n), p)
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, v: __m512, n: usize) {
        _mm512_mask_storeu_ps(p, mask(n), v)
    }
}
