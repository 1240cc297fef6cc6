//! Machine-ceiling probes in the Empirical Roofline Toolkit's manner, written against the same
//! vector primitives as the kernels so each ISA's roof is measured with that ISA's instructions:
//! an FMA throughput loop (many independent accumulator chains) and a streaming read loop.
//! They only compute; the caller times them (best of several repetitions).

use crate::simd::{Simd, WithSimd};
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
    isa.dispatch(FmaBody { iters })
}

/// Sums `buf` `reps` times with full-vector loads of `isa` (8 independent accumulators); the
/// tail that does not fill a vector is skipped. Returns the sum, or `None` without the ISA.
pub fn read_loop(isa: Isa, buf: &[f32], reps: usize) -> Option<f32> {
    isa.dispatch(ReadBody { buf, reps })
}

struct FmaBody {
    iters: usize,
}

impl WithSimd for FmaBody {
    type Output = f32;
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> f32 {
        if S::ISA == Isa::Scalar {
            fma_body::<S, SCALAR_CHAINS>(s, self.iters)
        } else {
            fma_body::<S, FMA_CHAINS>(s, self.iters)
        }
    }
}

struct ReadBody<'a> {
    buf: &'a [f32],
    reps: usize,
}

impl WithSimd for ReadBody<'_> {
    type Output = f32;
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> f32 {
        read_body(s, self.buf, self.reps)
    }
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
