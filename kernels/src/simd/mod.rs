//! The ISA tokens and the lane traits every microkernel body is written against, the scalar
//! implementation, run-time detection, and the one dispatch from an [`Isa`] value to its token.
//!
//! A [`Token`] is an ISA: its one entry point, [`Token::vectorize`], which in `simd/avx2.rs` and
//! `simd/avx512.rs` is a `#[target_feature]` function, so the body inlined into it is compiled
//! for that ISA. The element types' lanes are traits on the token: [`Simd`] holds the f32
//! primitives (`#[inline(always)]`, so after inlining the hot loop is the machine code a
//! hand-written intrinsic loop would be; checked with objdump: no calls in the loops). One
//! generic f32 body per microkernel (`gemm/ukernel.rs`, `depthwise/row.rs`,
//! `winograd/transforms.rs`, `probe.rs`, `ops.rs`) is a [`WithSimd`] value.
//!
//! Adding an ISA: a module here with its token type, `impl Token` (entry point) and `impl Simd`
//! (f32 primitives), an `Isa` variant, and its registry rows. Every `match` on `Isa` is
//! exhaustive, so the compiler names the remaining places (detection and dispatch below, names
//! and lanes in `isa.rs`, the harness's colours). Adding an element type (int8, bf16): a lanes
//! trait beside [`Simd`], implemented for the tokens whose ISA has the instructions, and bodies
//! that implement [`Body`] for those tokens; nothing here or in the f32 bodies changes. int8 and
//! bf16 are that: `simd/dot.rs` holds the dot-product step the low-precision GEMM is written
//! against (`Dot<F>`, one impl per token and family), `simd/int8.rs` the int8 family, its extra
//! primitives and two tokens of its own (AVX-VNNI, AVX-512 VNNI), `simd/bf16.rs` the bf16 family
//! and its token (AVX512_BF16); their entry points enable the extension.
//!
//! Semantics shared by every implementation (the reference follows them too):
//! `max(a, b) = if a > b { a } else { b }` and `min(a, b) = if a < b { a } else { b }`, i.e. the
//! x86 `maxps`/`minps` rule: when either operand is NaN the second one is returned.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod bf16;
pub(crate) mod dot;
pub(crate) mod int8;
#[cfg(target_arch = "aarch64")]
pub(crate) mod neon;
pub(crate) mod portable;

use std::sync::OnceLock;

use crate::Isa;

/// A body compiled for the ISA token `S`: what [`Token::vectorize`] runs inside the ISA's entry
/// point. `body` must be `#[inline(always)]`, so the whole body lands inside the entry point.
/// f32 bodies implement [`WithSimd`] (any ISA's f32 lanes) and get this through the blanket impl;
/// a body over other element types implements it for the tokens whose lanes it needs.
pub(crate) trait Body<S> {
    type Output;
    fn body(self, s: S) -> Self::Output;
}

/// An f32 body, generic over the ISA: it runs on every token with f32 lanes ([`Simd`]).
/// `with_simd` must be `#[inline(always)]`.
pub(crate) trait WithSimd {
    type Output;
    fn with_simd<S: Simd>(self, s: S) -> Self::Output;
}

impl<S: Simd, T: WithSimd> Body<S> for T {
    type Output = T::Output;
    #[inline(always)]
    fn body(self, s: S) -> T::Output {
        self.with_simd(s)
    }
}

/// A vector instruction set, as a zero-sized token: a value exists only when the CPU supports
/// the ISA, so the lane traits' arithmetic is safe. The token owns the ISA's one entry point and
/// what every element type shares; the element types' lanes are traits on the token ([`Simd`]
/// for f32; an int8 or bf16 body adds its lanes trait, implemented by the tokens that have the
/// instructions, and leaves these untouched).
pub(crate) trait Token: Copy + 'static {
    /// The instruction set this type implements.
    const ISA: Isa;
    /// How many vector registers the register file holds (register-blocking choices depend on
    /// it).
    const REGISTERS: usize;
    /// The token, without checking the CPU.
    /// # Safety
    /// `Self::ISA.is_available()` (the caller runs behind a plan or dispatch that checked it).
    unsafe fn assume() -> Self;
    /// The ISA's one entry point: runs `op` compiled for this ISA's target features.
    fn vectorize<Op: Body<Self>>(self, op: Op) -> Op::Output;
    /// Hints that the cache line holding `p` will be read soon. A hint only: it never faults,
    /// so `p` may point anywhere (compute it with `wrapping_add`).
    #[inline(always)]
    fn prefetch<T>(self, _p: *const T) {}
}

/// The f32 lanes of an ISA: the primitives every f32 body is written against. The memory
/// methods are `unsafe` because they take raw pointers.
pub(crate) trait Simd: Token {
    /// f32 lanes per vector.
    const LANES: usize;
    /// The vector type.
    type V: Copy;
    fn splat(self, x: f32) -> Self::V;
    fn zero(self) -> Self::V {
        self.splat(0.0)
    }
    /// `a * b + c` (fused where the ISA has FMA).
    fn fma(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `if a > b { a } else { b }` per lane.
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    /// `if a < b { a } else { b }` per lane.
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    /// # Safety
    /// `p .. p + LANES` must be readable.
    unsafe fn load(self, p: *const f32) -> Self::V;
    /// # Safety
    /// `p .. p + LANES` must be writable.
    unsafe fn store(self, p: *mut f32, v: Self::V);
    /// Loads `n` lanes (`1 <= n <= LANES`), zeroing the rest; reads nothing past `p + n`.
    /// # Safety
    /// `p .. p + n` must be readable.
    unsafe fn load_n(self, p: *const f32, n: usize) -> Self::V;
    /// Stores the first `n` lanes (`1 <= n <= LANES`); writes nothing past `p + n`.
    /// # Safety
    /// `p .. p + n` must be writable.
    unsafe fn store_n(self, p: *mut f32, v: Self::V, n: usize);
}

/// Plain f32 arithmetic: one lane, no intrinsics. `a * b + c` is written out, not `mul_add`,
/// because in a baseline x86-64 build `f32::mul_add` is a libm call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scalar;

impl Token for Scalar {
    const ISA: Isa = Isa::Scalar;
    const REGISTERS: usize = 16;
    #[inline(always)]
    unsafe fn assume() -> Scalar {
        Scalar
    }
    #[inline(always)]
    fn vectorize<Op: Body<Self>>(self, op: Op) -> Op::Output {
        op.body(self)
    }
}

impl Simd for Scalar {
    const LANES: usize = 1;
    type V = f32;
    #[inline(always)]
    fn splat(self, x: f32) -> f32 {
        x
    }
    #[inline(always)]
    fn fma(self, a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    fn add(self, a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    fn max(self, a: f32, b: f32) -> f32 {
        if a > b {
            a
        } else {
            b
        }
    }
    #[inline(always)]
    fn min(self, a: f32, b: f32) -> f32 {
        if a < b {
            a
        } else {
            b
        }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> f32 {
        *p
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: f32) {
        *p = v
    }
    #[inline(always)]
    unsafe fn load_n(self, p: *const f32, _n: usize) -> f32 {
        *p
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, v: f32, _n: usize) {
        *p = v
    }
}

impl Isa {
    /// Whether this CPU (and this build's target) can run code for this ISA. Detected once.
    pub fn is_available(self) -> bool {
        static DETECTED: OnceLock<[bool; Isa::ALL.len()]> = OnceLock::new();
        let d = DETECTED.get_or_init(|| Isa::ALL.map(detect));
        d[self as usize]
    }

    /// Runs `op` with this ISA's vector type, through its entry point; `None` when this CPU or
    /// this build's target lacks the ISA.
    pub(crate) fn dispatch<Op: WithSimd>(self, op: Op) -> Option<Op::Output> {
        if !self.is_available() {
            return None;
        }
        // SAFETY (every `assume` below): availability checked above.
        Some(match self {
            Isa::Scalar => Scalar.vectorize(op),
            Isa::Portable => portable::Portable.vectorize(op),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { avx2::Avx2::assume() }.vectorize(op),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { avx512::Avx512::assume() }.vectorize(op),
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx2 | Isa::Avx512 => return None,
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => neon::Neon.vectorize(op),
            #[cfg(not(target_arch = "aarch64"))]
            Isa::Neon => return None,
        })
    }
}

fn detect(isa: Isa) -> bool {
    match isa {
        Isa::Scalar | Isa::Portable => true,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => is_x86_feature_detected!("avx512f"),
        #[cfg(not(target_arch = "x86_64"))]
        Isa::Avx2 | Isa::Avx512 => false,
        Isa::Neon => cfg!(target_arch = "aarch64"),
    }
}

/// Loads `n` lanes through a stack buffer: the tail path for ISAs without masked memory access.
///
/// # Safety
/// `p .. p + n` readable, `n <= L`.
#[inline(always)]
pub(crate) unsafe fn load_via_buffer<const L: usize>(p: *const f32, n: usize) -> [f32; L] {
    let mut buf = [0.0f32; L];
    std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), n.min(L));
    buf
}

/// Stores the first `n` of `buf`'s lanes.
///
/// # Safety
/// `p .. p + n` writable, `n <= L`.
#[inline(always)]
pub(crate) unsafe fn store_via_buffer<const L: usize>(p: *mut f32, buf: &[f32; L], n: usize) {
    std::ptr::copy_nonoverlapping(buf.as_ptr(), p, n.min(L));
}

/// The fused epilogue: bias then activation, applied to each vector as it is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Act {
    None,
    Relu,
    Clamp(f32, f32),
}

impl Act {
    pub(crate) fn from_activation(a: crate::Activation) -> Act {
        match a {
            crate::Activation::None => Act::None,
            crate::Activation::Relu => Act::Relu,
            crate::Activation::Relu6 => Act::Clamp(0.0, 6.0),
            crate::Activation::Clamp { min, max } => Act::Clamp(min, max),
        }
    }

    /// Applies the activation to one vector: `max(x, lo)` then `min(., hi)`, NaN going to `lo`.
    #[inline(always)]
    pub(crate) fn apply<S: Simd>(self, s: S, v: S::V) -> S::V {
        match self {
            Act::None => v,
            Act::Relu => s.max(v, s.zero()),
            Act::Clamp(lo, hi) => s.min(s.max(v, s.splat(lo)), s.splat(hi)),
        }
    }

    /// The same on one f32 (the reference and the scalar tails).
    pub(crate) fn apply_f32(self, v: f32) -> f32 {
        self.apply(Scalar, v)
    }
}
