//! aarch64 Advanced SIMD primitives (`float32x4_t`, 4 lanes). NEON is part of the aarch64
//! baseline, so no run-time detection is needed. NEON has no masked loads: tails use lane loads
//! and stores of exactly the valid floats.

use std::arch::aarch64::*;

use super::{Body, Simd, Token};
use crate::Isa;

/// aarch64 NEON; always available on aarch64.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Neon;

/// The NEON entry point. NEON is baseline on aarch64, so it needs no target feature; it is kept
/// out of line so each body is one symbol (`simdconv::simd::neon::entry::<..>`) that the
/// disassembly check (`scripts/check-neon-asm.sh`) finds and inspects.
#[inline(never)]
fn entry<Op: Body<Neon>>(s: Neon, op: Op) -> Op::Output {
    op.body(s)
}

// SAFETY (every block below): NEON is mandatory on aarch64, the only target this module is built
// for; pointer contracts are the trait's.
impl Token for Neon {
    const ISA: Isa = Isa::Neon;
    const REGISTERS: usize = 32;
    #[inline(always)]
    unsafe fn assume() -> Neon {
        Neon
    }
    #[inline(always)]
    fn vectorize<Op: Body<Self>>(self, op: Op) -> Op::Output {
        entry(self, op)
    }
}

impl Simd for Neon {
    const LANES: usize = 4;
    type V = float32x4_t;
    #[inline(always)]
    fn splat(self, x: f32) -> float32x4_t {
        unsafe { vdupq_n_f32(x) }
    }
    #[inline(always)]
    fn fma(self, a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
        // vfmaq_f32(c, a, b) = c + a * b, one rounding (fmla).
        unsafe { vfmaq_f32(c, a, b) }
    }
    #[inline(always)]
    fn add(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        unsafe { vaddq_f32(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        unsafe { vsubq_f32(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        unsafe { vmulq_f32(a, b) }
    }
    #[inline(always)]
    fn max(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        // Not vmaxq_f32 (which returns NaN): the crate-wide rule is `a > b ? a : b`.
        unsafe { vbslq_f32(vcgtq_f32(a, b), a, b) }
    }
    #[inline(always)]
    fn min(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        unsafe { vbslq_f32(vcltq_f32(a, b), a, b) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> float32x4_t {
        vld1q_f32(p)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: float32x4_t) {
        vst1q_f32(p, v)
    }
    #[inline(always)]
    unsafe fn load_n(self, p: *const f32, n: usize) -> float32x4_t {
        // Lane loads: exactly n floats read, no library call in a hot loop.
        match n {
            1 => vld1q_lane_f32::<0>(p, vdupq_n_f32(0.0)),
            2 => vcombine_f32(vld1_f32(p), vdup_n_f32(0.0)),
            3 => vld1q_lane_f32::<2>(p.add(2), vcombine_f32(vld1_f32(p), vdup_n_f32(0.0))),
            _ => vld1q_f32(p),
        }
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, v: float32x4_t, n: usize) {
        match n {
            1 => vst1q_lane_f32::<0>(p, v),
            2 => vst1_f32(p, vget_low_f32(v)),
            3 => {
                vst1_f32(p, vget_low_f32(v));
                vst1q_lane_f32::<2>(p.add(2), v)
            }
            _ => vst1q_f32(p, v),
        }
    }
}
