//! Machine-ceiling probes in the Empirical Roofline Toolkit's manner, written against the same
//! vector primitives as the kernels so each ISA's roof is measured with that ISA's instructions:
//! an FMA throughput loop (many independent accumulator chains) and a streaming read loop.
//! They only compute; the caller times them (best of several repetitions).

use crate::simd::{Scalar, Simd};
use crate::Isa;

/// Independent accumulator chains in the FMA probe: enough to cover FMA latency x ports (8 on
/// current x86 and Arm cores), few enough to stay in 16 registers with the two constants.
pub const FMA_CHAINS: usize = 12;

/// Chains of the Scalar probe. Plain Rust scalar code is not one lane at a time in practice:
/// LLVM packs independent scalar chains into SSE2 / NEON registers (it does so in the scalar
/// kernels too), so the Scalar roof is measured on 16 chains it can pack, 4 at a time.
pub const SCALAR_CHAINS: usize = 16;

fn chains(isa: Isa) -> usize {
    if isa == Isa::Scalar {
        SCALAR_CHAINS
    } else {
        FMA_CHAINS
    }
}

/// FLOPs one call of [`fma_loop`] performs: `iters * chains * lanes * 2`.
pub fn fma_loop_flops(isa: Isa, iters: usize) -> u64 {
    (iters * chains(isa) * isa.lanes() * 2) as u64
}

/// Runs `iters` rounds of `FMA_CHAINS` independent `a * b + c` on full vectors of `isa`
/// (`mul` + `add` for [`Isa::Scalar`], which is what scalar kernels compile to in a baseline
/// build). Returns a value derived from every chain so nothing is optimised away, or `None` when
/// this CPU lacks the ISA.
pub fn fma_loop(isa: Isa, iters: usize) -> Option<f32> {
    if !isa.is_available() {
        return None;
    }
    Some(match isa {
        Isa::Scalar => fma_body::<_, SCALAR_CHAINS>(Scalar, iters),
        Isa::Portable => fma_body::<_, FMA_CHAINS>(crate::simd::portable::Portable, iters),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: availability checked above.
        Isa::Avx2 => unsafe { x86::fma_avx2(iters) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: availability checked above.
        Isa::Avx512 => unsafe { x86::fma_avx512(iters) },
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => fma_body::<_, FMA_CHAINS>(crate::simd::neon::Neon, iters),
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// Sums `buf` `reps` times with full-vector loads of `isa` (8 independent accumulators); the
/// tail that does not fill a vector is skipped. Returns the sum, or `None` without the ISA.
pub fn read_loop(isa: Isa, buf: &[f32], reps: usize) -> Option<f32> {
    if !isa.is_available() {
        return None;
    }
    Some(match isa {
        Isa::Scalar => read_body(Scalar, buf, reps),
        Isa::Portable => read_body(crate::simd::portable::Portable, buf, reps),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: availability checked above.
        Isa::Avx2 => unsafe { x86::read_avx2(buf, reps) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: availability checked above.
        Isa::Avx512 => unsafe { x86::read_avx512(buf, reps) },
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => read_body(crate::simd::neon::Neon, buf, reps),
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

#[inline(always)]
fn fma_body<S: Simd, const CHAINS: usize>(s: S, iters: usize) -> f32 {
    let mut acc = [s.zero(); CHAINS];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = s.splat(i as f32 * 1e-3);
    }
    let (a, b) = (s.splat(0.999_999), s.splat(1e-7));
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = s.fma(*x, a, b);
        }
    }
    let mut sum = s.zero();
    for x in acc {
        sum = s.add(sum, x);
    }
    let mut out = [0.0f32; 16];
    // SAFETY: `out` holds 16 >= LANES floats.
    unsafe { s.store(out.as_mut_ptr(), sum) };
    out[..S::LANES].iter().sum()
}

#[inline(always)]
fn read_body<S: Simd>(s: S, buf: &[f32], reps: usize) -> f32 {
    const ACC: usize = 8;
    let block = ACC * S::LANES;
    let mut acc = [s.zero(); ACC];
    for _ in 0..reps {
        for chunk in buf.chunks_exact(block) {
            for (j, a) in acc.iter_mut().enumerate() {
                // SAFETY: `chunk` holds ACC * LANES floats, so lane block j is in bounds.
                *a = s.add(*a, unsafe { s.load(chunk.as_ptr().add(j * S::LANES)) });
            }
        }
    }
    let mut sum = s.zero();
    for x in acc {
        sum = s.add(sum, x);
    }
    let mut out = [0.0f32; 16];
    // SAFETY: `out` holds 16 >= LANES floats.
    unsafe { s.store(out.as_mut_ptr(), sum) };
    out[..S::LANES].iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use crate::simd::avx2::Avx2;
    use crate::simd::avx512::Avx512;

    /// # Safety
    /// AVX2 and FMA present.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn fma_avx2(iters: usize) -> f32 {
        super::fma_body::<_, { super::FMA_CHAINS }>(Avx2::assume(), iters)
    }
    /// # Safety
    /// AVX-512F present.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn fma_avx512(iters: usize) -> f32 {
        super::fma_body::<_, { super::FMA_CHAINS }>(Avx512::assume(), iters)
    }
    /// # Safety
    /// AVX2 and FMA present.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn read_avx2(buf: &[f32], reps: usize) -> f32 {
        super::read_body(Avx2::assume(), buf, reps)
    }
    /// # Safety
    /// AVX-512F present.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn read_avx512(buf: &[f32], reps: usize) -> f32 {
        super::read_body(Avx512::assume(), buf, reps)
    }
}
