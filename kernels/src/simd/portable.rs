//! Portable SIMD through the `wide` crate's `f32x8`. `wide` picks its code path at compile time:
//! in a baseline x86-64 build an `f32x8` is two SSE halves and `mul_add` is a multiply and an add.
//! That is exactly what the Portable row is meant to measure: SIMD without run-time dispatch.

use wide::f32x8;

use super::{load_via_buffer, store_via_buffer, Body, Simd, Token};
use crate::Isa;

/// The `wide::f32x8` instruction set; available on every target.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

impl Token for Portable {
    const ISA: Isa = Isa::Portable;
    // Baseline x86-64: an f32x8 is two of the 16 SSE registers.
    const REGISTERS: usize = 8;
    #[inline(always)]
    unsafe fn assume() -> Portable {
        Portable
    }
    // No target feature: `wide` chose its code path when the crate was compiled.
    #[inline(always)]
    fn vectorize<Op: Body<Self>>(self, op: Op) -> Op::Output {
        op.body(self)
    }
}

impl Simd for Portable {
    const LANES: usize = 8;
    type V = f32x8;
    #[inline(always)]
    fn splat(self, x: f32) -> f32x8 {
        f32x8::splat(x)
    }
    #[inline(always)]
    fn fma(self, a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn add(self, a: f32x8, b: f32x8) -> f32x8 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32x8, b: f32x8) -> f32x8 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32x8, b: f32x8) -> f32x8 {
        a * b
    }
    #[inline(always)]
    fn max(self, a: f32x8, b: f32x8) -> f32x8 {
        a.simd_gt(b).select(a, b)
    }
    #[inline(always)]
    fn min(self, a: f32x8, b: f32x8) -> f32x8 {
        a.simd_lt(b).select(a, b)
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> f32x8 {
        f32x8::from(std::ptr::read_unaligned(p as *const [f32; 8]))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: f32x8) {
        std::ptr::write_unaligned(p as *mut [f32; 8], v.to_array())
    }
    #[inline(always)]
    unsafe fn load_n(self, p: *const f32, n: usize) -> f32x8 {
        f32x8::from(load_via_buffer::<8>(p, n))
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, v: f32x8, n: usize) {
        store_via_buffer::<8>(p, &v.to_array(), n)
    }
}
