//! The bf16 lanes: family [`Bf`] (bf16 activations and weights, f32 accumulators, bias and
//! activation in f32, f32 output) for the scalar token (each pair converted to f32, multiplied
//! and added in f32: the portable path) and [`Avx512Bf16`], a token that exists only for bf16,
//! whose dot product is `vdpbf16ps` (16 f32 lanes, each adding two bf16 x bf16 products).
//!
//! A bf16 x bf16 product is exact in f32 (8 x 8 significant bits), so every implementation
//! differs from exact arithmetic only by its f32 additions (and `vdpbf16ps` flushing denormals to
//! zero), which the tests bound (`bf16` module docs). The epilogue is the f32 kernels' own
//! ([`Act`]), run on the f32 lanes of the same register width.

use super::dot::{Dot, Family};
use super::{Act, Scalar, Simd};
use crate::Bf16;

/// The bf16 family.
pub(crate) struct Bf;

/// A raw f32 output pointer, offset per tile.
#[derive(Clone, Copy)]
pub(crate) struct F32Ptr(*mut f32);

// SAFETY: the tasks of one run write through it to disjoint output rows (`lowp::split`'s bands).
unsafe impl Send for F32Ptr {}
unsafe impl Sync for F32Ptr {}

/// The bf16 epilogue's constants: bias per output column and the activation.
pub(crate) struct BCols {
    pub bias: Vec<f32>,
    pub act: Act,
}

impl Family for Bf {
    type X = Bf16;
    type W = Bf16;
    type Out<'a> = &'a mut [f32];
    type Ptr = F32Ptr;
    type Cols = BCols;
    const NAME: &'static str = "bf16";
    fn ptr(out: &mut &mut [f32]) -> F32Ptr {
        F32Ptr(out.as_mut_ptr())
    }
    unsafe fn offset(p: F32Ptr, i: usize) -> F32Ptr {
        F32Ptr(p.0.add(i))
    }
    fn relayout(c: &BCols, map: &[Option<usize>]) -> Result<BCols, crate::ConvError> {
        Ok(BCols {
            bias: map.iter().map(|m| m.map_or(0.0, |i| c.bias[i])).collect(),
            act: c.act,
        })
    }
}

/// The bf16 epilogue on the f32 lanes `t`: bias, activation, store of the first `n`.
///
/// # Safety
/// As [`Dot::store`].
#[inline(always)]
unsafe fn bf_store<T: Simd>(t: T, acc: T::V, out: F32Ptr, c: &BCols, col: usize, n: usize) {
    let v = t.add(acc, t.load(c.bias.as_ptr().add(col)));
    t.store_n(out.0, c.act.apply(t, v), n)
}

impl Dot<Bf> for Scalar {
    const LANES: usize = 1;
    const KG: usize = 2;
    type A = Bf16;
    type B = Bf16;
    /// The accumulator in `[0]`; `load_b` holds the pair of weights.
    type V = [f32; 2];
    #[inline(always)]
    fn zero(self) -> [f32; 2] {
        [0.0; 2]
    }
    #[inline(always)]
    unsafe fn load_b(self, p: *const Bf16) -> [f32; 2] {
        [(*p).to_f32(), (*p.add(1)).to_f32()]
    }
    #[inline(always)]
    unsafe fn dot(self, acc: [f32; 2], a: *const Bf16, b: [f32; 2]) -> [f32; 2] {
        [
            acc[0] + (*a).to_f32() * b[0] + (*a.add(1)).to_f32() * b[1],
            0.0,
        ]
    }
    #[inline(always)]
    unsafe fn store(self, acc: [f32; 2], out: F32Ptr, cols: &BCols, col: usize, n: usize) {
        bf_store(self, acc[0], out, cols, col, n)
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::Avx512Bf16;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{bf_store, BCols, Bf, F32Ptr};
    use crate::simd::avx512::Avx512;
    use crate::simd::dot::Dot;
    use crate::simd::{Body, Token};
    use crate::{Bf16, Isa};

    /// AVX-512F/BW/VL + AVX512_BF16. Construct only through `assume`, after
    /// [`Avx512Bf16::detected`].
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Avx512Bf16(());

    /// # Safety
    /// AVX-512F, BW, VL and BF16 present (a value of `Avx512Bf16` proves it).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
    unsafe fn entry<Op: Body<Avx512Bf16>>(s: Avx512Bf16, op: Op) -> Op::Output {
        op.body(s)
    }

    impl Avx512Bf16 {
        /// Whether this CPU has AVX-512F, BW, VL and BF16 (detected once by std).
        pub(crate) fn detected() -> bool {
            Isa::Avx512.is_available()
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx512bf16")
        }
    }

    // SAFETY: a token value exists only after `detected` returned true (the callers of `assume`
    // check it), so the entry point's features are present.
    impl Token for Avx512Bf16 {
        const ISA: Isa = Isa::Avx512;
        const REGISTERS: usize = 32;
        #[inline(always)]
        unsafe fn assume() -> Avx512Bf16 {
            Avx512Bf16(())
        }
        #[inline(always)]
        fn vectorize<Op: Body<Self>>(self, op: Op) -> Op::Output {
            unsafe { entry(self, op) }
        }
    }

    // SAFETY (every block below): a token value exists only after its features were detected;
    // pointer contracts are the trait's.
    impl Dot<Bf> for Avx512Bf16 {
        const LANES: usize = 16;
        const KG: usize = 2;
        type A = Bf16;
        type B = Bf16;
        type V = __m512;
        #[inline(always)]
        fn zero(self) -> __m512 {
            unsafe { _mm512_setzero_ps() }
        }
        #[inline(always)]
        unsafe fn load_b(self, p: *const Bf16) -> __m512 {
            _mm512_castsi512_ps(_mm512_loadu_si512(p.cast()))
        }
        #[inline(always)]
        unsafe fn dot(self, acc: __m512, a: *const Bf16, b: __m512) -> __m512 {
            let a = _mm512_set1_epi32(a.cast::<i32>().read_unaligned());
            // The same 512 bits seen as 32 bf16 (both types are plain 64-byte vectors).
            let (a, b) = (
                std::mem::transmute::<__m512i, __m512bh>(a),
                std::mem::transmute::<__m512, __m512bh>(b),
            );
            _mm512_dpbf16_ps(acc, a, b)
        }
        #[inline(always)]
        unsafe fn store(self, acc: __m512, out: F32Ptr, cols: &BCols, col: usize, n: usize) {
            // AVX-512F is part of this token's features.
            bf_store(Avx512::assume(), acc, out, cols, col, n)
        }
    }
}
