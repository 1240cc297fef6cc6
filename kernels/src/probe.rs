//! Machine-ceiling probes in the Empirical Roofline Toolkit's manner, written against the same
//! vector primitives as the kernels so each ISA's roof is measured with that ISA's instructions:
//! an FMA throughput loop (many independent accumulator chains) and a streaming read loop.
//! They only compute; the caller times them (best of several repetitions).

use crate::simd::{Simd, WithSimd};
use crate::Isa;

/// Independent accumulator chains in the FMA probe: enough to cover FMA latency x ports (8 on
/// current x86 and Arm cores), few enough to stay in 16 registers with the two constants.
pub const FMA_CHAINS: usize = 12;

/// FLOPs one call of [`fma_loop`] performs: `iters * FMA_CHAINS * lanes * 2`. For
/// [`Isa::Scalar`] the lanes are those of the vectors scalar code compiles to: scalar kernels are
/// not one lane at a time in practice, since LLVM packs their independent chains (the register
/// tile's columns) into the build's baseline vectors (SSE2 on x86-64, NEON on aarch64), and a
/// one-lane probe put them at 150-170% of their "peak". So the Scalar roof is that of the code
/// they compile to: separate `mul` and `add` (Rust never fuses them) on the portable layer's
/// vectors in a baseline build.
pub fn fma_loop_flops(isa: Isa, iters: usize) -> u64 {
    let lanes = if isa == Isa::Scalar {
        Isa::Portable.lanes()
    } else {
        isa.lanes()
    };
    (iters * FMA_CHAINS * lanes * 2) as u64
}

/// Runs `iters` rounds of `FMA_CHAINS` independent `a * b + c` on full vectors of `isa`; for
/// [`Isa::Scalar`], an unfused `mul` then `add` on the baseline vectors scalar kernels compile
/// to (see [`fma_loop_flops`]). Returns a value derived from every chain so nothing is
/// optimised away, or `None` when this CPU lacks the ISA.
pub fn fma_loop(isa: Isa, iters: usize) -> Option<f32> {
    if isa == Isa::Scalar {
        return Some(chains_body::<_, FMA_CHAINS, false>(
            crate::simd::portable::Portable,
            iters,
        ));
    }
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
        chains_body::<S, FMA_CHAINS, true>(s, self.iters)
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

/// `CHAINS` independent chains of `x = x * a + b`: one fused instruction per step when `FUSED`,
/// else a multiply then an add (what scalar code compiles to).
#[inline(always)]
fn chains_body<S: Simd, const CHAINS: usize, const FUSED: bool>(s: S, iters: usize) -> f32 {
    let mut acc = [s.zero(); CHAINS];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = s.splat(i as f32 * 1e-3);
    }
    let (a, b) = (s.splat(0.999_999), s.splat(1e-7));
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = if FUSED {
                s.fma(*x, a, b)
            } else {
                s.add(s.mul(*x, a), b)
            };
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
