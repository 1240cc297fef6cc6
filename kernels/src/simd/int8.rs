//! The int8 lanes: [`Int8`], the primitives every int8 body (`quant/`) is written against, for
//! the scalar token, AVX2 and NEON (the existing tokens), and two tokens that exist only for
//! int8: [`AvxVnni`] (256-bit `vpdpbusd`, VEX-encoded) and [`Avx512Vnni`] (512-bit `vpdpbusd`).
//!
//! A GEMM step multiplies one 32-bit word of activations (`KG` values of type `A`, broadcast to
//! every lane) by a vector of packed weights (`KG` values of type `B` per lane) and adds the `KG`
//! products to each i32 lane. VNNI has that instruction for u8 x s8 with `KG = 4`. Plain AVX2's
//! `vpmaddubsw` would saturate (255 * 127 * 2 > i16::MAX), so AVX2 stores activations and weights
//! as i16 and uses `vpmaddwd` (`KG = 2`), whose pair sums cannot overflow i32: exact, like VNNI.
//! NEON widens both to i32 (`KG = 1`, `vmlaq_s32`).
//!
//! Requantization (the "fp32" recipe, the same operations in every implementation, so every
//! variant gives the scalar one's bytes): `y = cvt_rne(clamp(f32(acc) * scale, lo, hi)) + zero`,
//! with `lo`/`hi` the output bounds minus the zero point; `cvt_rne` rounds half to even (the
//! `cvtps2dq` default; Rust never changes MXCSR).

use super::dot::{Dot, Family};
use super::Scalar;

/// The int8 family: u8 activations, s8 weights, i32 accumulators, written requantized (u8) or as
/// the accumulators themselves (for testing).
pub(crate) struct Q8;

/// Where an int8 run writes: requantized u8, or the i32 accumulators (bias included).
pub(crate) enum QOut<'a> {
    U8(&'a mut [u8]),
    I32(&'a mut [i32]),
}

/// A raw output pointer of one of the two kinds, offset per tile.
#[derive(Clone, Copy)]
pub(crate) enum OutPtr {
    U8(*mut u8),
    I32(*mut i32),
}

// SAFETY: the tasks of one run write through it to disjoint output rows (`lowp::split`'s bands).
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

/// The int8 epilogue's constants per output column: bias (with `-x_zero * sum w` folded in),
/// requantization multiplier, and the layer's bounds.
pub(crate) struct QCols {
    pub bias: Vec<i32>,
    pub scale: Vec<f32>,
    pub q: Requant,
}

impl Family for Q8 {
    type X = u8;
    type W = i8;
    type Out<'a> = QOut<'a>;
    type Ptr = OutPtr;
    type Cols = QCols;
    const NAME: &'static str = "int8";
    fn ptr(out: &mut QOut<'_>) -> OutPtr {
        match out {
            QOut::U8(o) => OutPtr::U8(o.as_mut_ptr()),
            QOut::I32(o) => OutPtr::I32(o.as_mut_ptr()),
        }
    }
    unsafe fn offset(p: OutPtr, i: usize) -> OutPtr {
        match p {
            OutPtr::U8(p) => OutPtr::U8(p.add(i)),
            OutPtr::I32(p) => OutPtr::I32(p.add(i)),
        }
    }
    fn relayout(c: &QCols, map: &[Option<usize>]) -> Result<QCols, crate::ConvError> {
        Ok(QCols {
            bias: map.iter().map(|m| m.map_or(0, |i| c.bias[i])).collect(),
            scale: map.iter().map(|m| m.map_or(0.0, |i| c.scale[i])).collect(),
            q: c.q,
        })
    }
}

/// The int8 epilogue every token's [`Dot::store`] is: bias, then requantize or keep the i32.
///
/// # Safety
/// As [`Dot::store`].
#[inline(always)]
unsafe fn q8_store<S: Int8>(s: S, acc: S::V, out: OutPtr, c: &QCols, col: usize, n: usize) {
    let x = s.add(acc, s.load_i32(c.bias.as_ptr().add(col)));
    match out {
        OutPtr::U8(p) => s.requant_store_n(p, x, c.scale.as_ptr().add(col), c.q, n),
        OutPtr::I32(p) => s.store_i32_n(p, x, n),
    }
}

/// The int8 primitives beyond the dot product (depthwise and the epilogue use them). The memory
/// methods are `unsafe`: they take raw pointers.
pub(crate) trait Int8: Dot<Q8> {
    /// Loads `LANES` i32.
    /// # Safety
    /// `p .. p + LANES` readable.
    unsafe fn load_i32(self, p: *const i32) -> Self::V;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// Lane-wise `a * b` for `a` a zero-extended u8 and `b` in i16's range. (x86 computes it as
    /// `vpmaddwd`: `a`'s upper half is zero, so the pair sum is the one product, exact; one
    /// micro-op where `vpmulld` takes two.)
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// Loads `n` u8 (`1 <= n <= LANES`), zero-extended to i32 lanes; reads nothing past `p + n`.
    /// # Safety
    /// `p .. p + n` readable.
    unsafe fn load_u8_n(self, p: *const u8, n: usize) -> Self::V;
    /// Stores the first `n` lanes.
    /// # Safety
    /// `p .. p + n` writable.
    unsafe fn store_i32_n(self, p: *mut i32, v: Self::V, n: usize);
    /// Requantizes (see the module docs) with `LANES` scales from `scale` and stores the first `n`
    /// lanes as u8.
    /// # Safety
    /// `scale .. scale + LANES` readable, `p .. p + n` writable.
    unsafe fn requant_store_n(
        self,
        p: *mut u8,
        acc: Self::V,
        scale: *const f32,
        q: Requant,
        n: usize,
    );
}

/// The per-layer constants of the requantization: bounds in the zero-point-relative domain and
/// the output zero point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Requant {
    pub lo: f32,
    pub hi: f32,
    pub zero: i32,
}

impl Requant {
    /// The recipe on one accumulator: what every vector implementation computes per lane.
    #[inline(always)]
    pub(crate) fn one(self, acc: i32, scale: f32) -> u8 {
        let v = acc as f32 * scale;
        let v = if v > self.lo { v } else { self.lo };
        let v = if v < self.hi { v } else { self.hi };
        (v.round_ties_even() as i32 + self.zero) as u8
    }
}

impl Dot<Q8> for Scalar {
    const LANES: usize = 1;
    const KG: usize = 4;
    type A = u8;
    type B = i8;
    /// One lane; `load_b` keeps the four weights as the bytes of the word.
    type V = i32;
    #[inline(always)]
    fn zero(self) -> i32 {
        0
    }
    #[inline(always)]
    unsafe fn load_b(self, p: *const i8) -> i32 {
        i32::from_le_bytes(p.cast::<[u8; 4]>().read_unaligned())
    }
    #[inline(always)]
    unsafe fn dot(self, acc: i32, a: *const u8, b: i32) -> i32 {
        let (a, b) = (a.cast::<[u8; 4]>().read_unaligned(), b.to_le_bytes());
        (0..4).fold(acc, |s, j| s + i32::from(a[j]) * i32::from(b[j] as i8))
    }
    #[inline(always)]
    unsafe fn store(self, acc: i32, out: OutPtr, cols: &QCols, col: usize, n: usize) {
        q8_store(self, acc, out, cols, col, n)
    }
}

impl Int8 for Scalar {
    #[inline(always)]
    unsafe fn load_i32(self, p: *const i32) -> i32 {
        *p
    }
    #[inline(always)]
    fn add(self, a: i32, b: i32) -> i32 {
        a + b
    }
    #[inline(always)]
    fn mul(self, a: i32, b: i32) -> i32 {
        a * b
    }
    #[inline(always)]
    unsafe fn load_u8_n(self, p: *const u8, _n: usize) -> i32 {
        i32::from(*p)
    }
    #[inline(always)]
    unsafe fn store_i32_n(self, p: *mut i32, v: i32, _n: usize) {
        *p = v
    }
    #[inline(always)]
    unsafe fn requant_store_n(
        self,
        p: *mut u8,
        acc: i32,
        scale: *const f32,
        q: Requant,
        _n: usize,
    ) {
        *p = q.one(acc, *scale)
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx512Vnni, AvxVnni};

/// NEON's int8 lanes: the widening path (activations and weights held as i32, one
/// multiply-accumulate `vmlaq_s32` per step, exact). `sdot` is not used yet.
#[cfg(target_arch = "aarch64")]
mod arm {
    use std::arch::aarch64::*;

    use super::{q8_store, Dot, Int8, OutPtr, QCols, Requant, Q8};
    use crate::simd::neon::Neon;

    /// Copies `n <= 4` elements with fixed-size copies only: a variable-length copy compiles to
    /// a call to `memcpy`, which the tails of every tile would pay.
    ///
    /// # Safety
    /// `src .. src + min(n, 4)` readable, `dst .. dst + min(n, 4)` writable.
    #[inline(always)]
    unsafe fn copy_upto4<T>(src: *const T, dst: *mut T, n: usize) {
        use std::ptr::copy_nonoverlapping as copy;
        match n {
            0 => {}
            1 => copy(src, dst, 1),
            2 => copy(src, dst, 2),
            3 => copy(src, dst, 3),
            _ => copy(src, dst, 4),
        }
    }

    // SAFETY (every block below): NEON is mandatory on aarch64; pointer contracts are the trait's.
    impl Dot<Q8> for Neon {
        const LANES: usize = 4;
        const KG: usize = 1;
        type A = i32;
        type B = i32;
        type V = int32x4_t;
        #[inline(always)]
        fn zero(self) -> int32x4_t {
            unsafe { vdupq_n_s32(0) }
        }
        #[inline(always)]
        unsafe fn load_b(self, p: *const i32) -> int32x4_t {
            vld1q_s32(p)
        }
        #[inline(always)]
        unsafe fn dot(self, acc: int32x4_t, a: *const i32, b: int32x4_t) -> int32x4_t {
            vmlaq_s32(acc, vdupq_n_s32(*a), b)
        }
        #[inline(always)]
        unsafe fn store(self, acc: int32x4_t, out: OutPtr, cols: &QCols, col: usize, n: usize) {
            q8_store(self, acc, out, cols, col, n)
        }
    }

    impl Int8 for Neon {
        #[inline(always)]
        unsafe fn load_i32(self, p: *const i32) -> int32x4_t {
            vld1q_s32(p)
        }
        #[inline(always)]
        fn add(self, a: int32x4_t, b: int32x4_t) -> int32x4_t {
            unsafe { vaddq_s32(a, b) }
        }
        #[inline(always)]
        fn mul(self, a: int32x4_t, b: int32x4_t) -> int32x4_t {
            unsafe { vmulq_s32(a, b) }
        }
        #[inline(always)]
        unsafe fn load_u8_n(self, p: *const u8, n: usize) -> int32x4_t {
            let mut buf = [0u8; 4];
            copy_upto4(p, buf.as_mut_ptr(), n);
            let w = vreinterpret_u8_u32(vdup_n_u32(u32::from_le_bytes(buf)));
            vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(w))))
        }
        #[inline(always)]
        unsafe fn store_i32_n(self, p: *mut i32, v: int32x4_t, n: usize) {
            if n >= 4 {
                return vst1q_s32(p, v);
            }
            let mut buf = [0i32; 4];
            vst1q_s32(buf.as_mut_ptr(), v);
            copy_upto4(buf.as_ptr(), p, n);
        }
        #[inline(always)]
        unsafe fn requant_store_n(
            self,
            p: *mut u8,
            acc: int32x4_t,
            scale: *const f32,
            q: Requant,
            n: usize,
        ) {
            let v = vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(scale));
            let v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(q.lo)), vdupq_n_f32(q.hi));
            // Round to nearest, ties to even: the recipe's rounding.
            let i = vaddq_s32(vcvtnq_s32_f32(v), vdupq_n_s32(q.zero));
            let h = vqmovun_s32(i);
            let b = vqmovn_u16(vcombine_u16(h, h));
            let mut buf = [0u8; 8];
            vst1_u8(buf.as_mut_ptr(), b);
            copy_upto4(buf.as_ptr(), p, n);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{q8_store, Dot, Int8, OutPtr, QCols, Requant, Q8};
    use crate::simd::avx2::Avx2;
    use crate::simd::{Body, Token};
    use crate::Isa;

    /// AVX2 + AVX-VNNI. Construct only through `assume`, after [`AvxVnni::detected`].
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct AvxVnni(());

    /// AVX-512F/BW/VL + AVX512-VNNI. Construct only through `assume`, after
    /// [`Avx512Vnni::detected`].
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Avx512Vnni(());

    /// # Safety
    /// AVX2, FMA and AVX-VNNI present (a value of `AvxVnni` proves it).
    #[target_feature(enable = "avx2,fma,avxvnni")]
    unsafe fn entry_avxvnni<Op: Body<AvxVnni>>(s: AvxVnni, op: Op) -> Op::Output {
        op.body(s)
    }

    /// # Safety
    /// AVX-512F, BW, VL and VNNI present (a value of `Avx512Vnni` proves it).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn entry_avx512vnni<Op: Body<Avx512Vnni>>(s: Avx512Vnni, op: Op) -> Op::Output {
        op.body(s)
    }

    impl AvxVnni {
        /// Whether this CPU has AVX2, FMA and AVX-VNNI (detected once by std).
        pub(crate) fn detected() -> bool {
            Isa::Avx2.is_available() && is_x86_feature_detected!("avxvnni")
        }
    }

    impl Avx512Vnni {
        /// Whether this CPU has AVX-512F, BW, VL and VNNI.
        pub(crate) fn detected() -> bool {
            Isa::Avx512.is_available()
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx512vnni")
        }
    }

    // SAFETY (both impls): a token value exists only after its `detected` returned true (the
    // callers of `assume` check it), so the entry point's features are present.
    impl Token for AvxVnni {
        const ISA: Isa = Isa::Avx2;
        const REGISTERS: usize = 16;
        #[inline(always)]
        unsafe fn assume() -> AvxVnni {
            AvxVnni(())
        }
        #[inline(always)]
        fn vectorize<Op: Body<Self>>(self, op: Op) -> Op::Output {
            unsafe { entry_avxvnni(self, op) }
        }
    }

    impl Token for Avx512Vnni {
        const ISA: Isa = Isa::Avx512;
        const REGISTERS: usize = 32;
        #[inline(always)]
        unsafe fn assume() -> Avx512Vnni {
            Avx512Vnni(())
        }
        #[inline(always)]
        fn vectorize<Op: Body<Self>>(self, op: Op) -> Op::Output {
            unsafe { entry_avx512vnni(self, op) }
        }
    }

    /// The AVX2 tail of a u8 load: through a stack word.
    #[inline(always)]
    unsafe fn load_u8_avx2(p: *const u8, n: usize) -> __m256i {
        let mut buf = [0u8; 8];
        std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), n.min(8));
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(buf.as_ptr().cast()))
    }

    #[inline(always)]
    fn mask8(n: usize) -> __m256i {
        // SAFETY: AVX2 is implied by the tokens that call it.
        unsafe {
            let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), idx)
        }
    }

    /// The 256-bit requantization: recipe, then the 8 results packed to bytes.
    #[inline(always)]
    unsafe fn requant_avx2(p: *mut u8, acc: __m256i, scale: *const f32, q: Requant, n: usize) {
        let v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(scale));
        let v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(q.lo)), _mm256_set1_ps(q.hi));
        let i = _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(q.zero));
        // Values are in 0..=255, so the saturating packs are exact; they work per 128-bit half,
        // leaving lanes 0-3 in dword 0 and lanes 4-7 in dword 4.
        let b = _mm256_packus_epi16(_mm256_packus_epi32(i, i), _mm256_setzero_si256());
        let b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
        let lo = _mm256_castsi256_si128(b);
        if n == 8 {
            _mm_storel_epi64(p.cast(), lo);
        } else {
            let mut buf = [0u8; 16];
            _mm_storeu_si128(buf.as_mut_ptr().cast(), lo);
            std::ptr::copy_nonoverlapping(buf.as_ptr(), p, n.min(8));
        }
    }

    /// The 256-bit dot-product lanes AVX2 and AVX-VNNI share (all but the step and `A`/`B`).
    macro_rules! dot_256 {
        () => {
            const LANES: usize = 8;
            type V = __m256i;
            #[inline(always)]
            fn zero(self) -> __m256i {
                unsafe { _mm256_setzero_si256() }
            }
            #[inline(always)]
            unsafe fn load_b(self, p: *const Self::B) -> __m256i {
                _mm256_loadu_si256(p.cast())
            }
            #[inline(always)]
            unsafe fn store(self, acc: __m256i, out: OutPtr, cols: &QCols, col: usize, n: usize) {
                q8_store(self, acc, out, cols, col, n)
            }
        };
    }

    /// The 256-bit int8 primitives AVX2 and AVX-VNNI share.
    macro_rules! int8_256 {
        () => {
            #[inline(always)]
            unsafe fn load_i32(self, p: *const i32) -> __m256i {
                _mm256_loadu_si256(p.cast())
            }
            #[inline(always)]
            fn add(self, a: __m256i, b: __m256i) -> __m256i {
                unsafe { _mm256_add_epi32(a, b) }
            }
            #[inline(always)]
            fn mul(self, a: __m256i, b: __m256i) -> __m256i {
                unsafe { _mm256_madd_epi16(a, b) }
            }
            #[inline(always)]
            unsafe fn load_u8_n(self, p: *const u8, n: usize) -> __m256i {
                if n == 8 {
                    _mm256_cvtepu8_epi32(_mm_loadl_epi64(p.cast()))
                } else {
                    load_u8_avx2(p, n)
                }
            }
            #[inline(always)]
            unsafe fn store_i32_n(self, p: *mut i32, v: __m256i, n: usize) {
                _mm256_maskstore_epi32(p, mask8(n), v)
            }
            #[inline(always)]
            unsafe fn requant_store_n(
                self,
                p: *mut u8,
                acc: __m256i,
                scale: *const f32,
                q: Requant,
                n: usize,
            ) {
                requant_avx2(p, acc, scale, q, n)
            }
        };
    }

    // SAFETY (every block below): a token value exists only after its features were detected;
    // pointer contracts are the trait's.
    impl Dot<Q8> for Avx2 {
        const KG: usize = 2;
        type A = i16;
        type B = i16;
        dot_256!();
        #[inline(always)]
        unsafe fn dot(self, acc: __m256i, a: *const i16, b: __m256i) -> __m256i {
            let a = _mm256_set1_epi32(a.cast::<i32>().read_unaligned());
            _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))
        }
    }

    impl Int8 for Avx2 {
        int8_256!();
    }

    impl Dot<Q8> for AvxVnni {
        const KG: usize = 4;
        type A = u8;
        type B = i8;
        dot_256!();
        #[inline(always)]
        unsafe fn dot(self, acc: __m256i, a: *const u8, b: __m256i) -> __m256i {
            let a = _mm256_set1_epi32(a.cast::<i32>().read_unaligned());
            _mm256_dpbusd_avx_epi32(acc, a, b)
        }
    }

    impl Int8 for AvxVnni {
        int8_256!();
    }

    impl Dot<Q8> for Avx512Vnni {
        const LANES: usize = 16;
        const KG: usize = 4;
        type A = u8;
        type B = i8;
        type V = __m512i;
        #[inline(always)]
        fn zero(self) -> __m512i {
            unsafe { _mm512_setzero_si512() }
        }
        #[inline(always)]
        unsafe fn load_b(self, p: *const i8) -> __m512i {
            _mm512_loadu_si512(p.cast())
        }
        #[inline(always)]
        unsafe fn dot(self, acc: __m512i, a: *const u8, b: __m512i) -> __m512i {
            let a = _mm512_set1_epi32(a.cast::<i32>().read_unaligned());
            _mm512_dpbusd_epi32(acc, a, b)
        }
        #[inline(always)]
        unsafe fn store(self, acc: __m512i, out: OutPtr, cols: &QCols, col: usize, n: usize) {
            q8_store(self, acc, out, cols, col, n)
        }
    }

    impl Int8 for Avx512Vnni {
        #[inline(always)]
        unsafe fn load_i32(self, p: *const i32) -> __m512i {
            _mm512_loadu_si512(p.cast())
        }
        #[inline(always)]
        fn add(self, a: __m512i, b: __m512i) -> __m512i {
            unsafe { _mm512_add_epi32(a, b) }
        }
        #[inline(always)]
        fn mul(self, a: __m512i, b: __m512i) -> __m512i {
            unsafe { _mm512_madd_epi16(a, b) }
        }
        #[inline(always)]
        unsafe fn load_u8_n(self, p: *const u8, n: usize) -> __m512i {
            if n == 16 {
                // Folds into one `vpmovzxbd` from memory.
                return _mm512_cvtepu8_epi32(_mm_loadu_si128(p.cast()));
            }
            // Masked byte loads suppress faults on the lanes left out.
            let m = ((1u32 << n) - 1) as __mmask16;
            _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p.cast()))
        }
        #[inline(always)]
        unsafe fn store_i32_n(self, p: *mut i32, v: __m512i, n: usize) {
            _mm512_mask_storeu_epi32(p, ((1u32 << n) - 1) as __mmask16, v)
        }
        #[inline(always)]
        unsafe fn requant_store_n(
            self,
            p: *mut u8,
            acc: __m512i,
            scale: *const f32,
            q: Requant,
            n: usize,
        ) {
            let v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(scale));
            let v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(q.lo)), _mm512_set1_ps(q.hi));
            let i = _mm512_add_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(q.zero));
            _mm512_mask_cvtusepi32_storeu_epi8(p.cast(), ((1u32 << n) - 1) as __mmask16, i)
        }
    }
}
