//! The int8 ceiling probe: independent chains of the dot-product step the int8 GEMM is built on
//! (`vpdpbusd` on VNNI, `vpmaddwd` + `vpaddd` on AVX2) arranged as a 4 x 3 register tile: per
//! round, one activation word broadcast from memory per row and three weight vectors, as the
//! kernels do, so an ISA's int8 roof is measured with the instruction mix of its kernels.
//! It only computes; the caller times it (best of several repetitions).

#[cfg(target_arch = "x86_64")]
use crate::simd::{int8::Int8, Body, Token};

/// Independent chains: enough to cover the dot product's latency x ports on current x86 cores,
/// few enough to leave registers for the weights on 16-register ISAs.
pub const DOT_CHAINS: usize = 12;

/// The int8 ISAs with a probe, as the variant names spell them.
pub const DOT_ISAS: [&str; 3] = ["avx2", "avxvnni", "avx512vnni"];

/// Direct-equivalent operations (2 per multiply-add) of one call of [`dot_loop`] on `isa`, or
/// `None` for an ISA without a probe.
pub fn dot_loop_ops(isa: &str, iters: usize) -> Option<u64> {
    // Multiply-adds per step: i32 lanes x reduction steps per word.
    let per_step = match isa {
        "avx2" | "avxvnni" => 8 * if isa == "avx2" { 2 } else { 4 },
        "avx512vnni" => 16 * 4,
        _ => return None,
    };
    Some((iters * DOT_CHAINS * per_step * 2) as u64)
}

/// Runs `iters` rounds of [`DOT_CHAINS`] independent dot-product steps on `isa`; returns a value
/// derived from every chain, or `None` when this CPU lacks the ISA (or it has no probe).
pub fn dot_loop(isa: &str, iters: usize) -> Option<i64> {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::simd::avx2::Avx2;
        use crate::simd::int8::{Avx512Vnni, AvxVnni};
        use crate::Isa;
        // SAFETY (each `assume`): the ISA's detection is checked first.
        match isa {
            "avx2" if Isa::Avx2.is_available() => {
                return Some(unsafe { Avx2::assume() }.vectorize(DotBody { iters }))
            }
            "avxvnni" if AvxVnni::detected() => {
                return Some(unsafe { AvxVnni::assume() }.vectorize(DotBody { iters }))
            }
            "avx512vnni" if Avx512Vnni::detected() => {
                return Some(unsafe { Avx512Vnni::assume() }.vectorize(DotBody { iters }))
            }
            _ => {}
        }
    }
    let _ = iters;
    let _ = isa;
    None
}

#[cfg(target_arch = "x86_64")]
struct DotBody {
    iters: usize,
}

#[cfg(target_arch = "x86_64")]
impl<S: Int8> Body<S> for DotBody {
    type Output = i64;
    #[inline(always)]
    fn body(self, s: S) -> i64 {
        const ROWS: usize = 4;
        const COLS: usize = DOT_CHAINS / ROWS;
        let a = [S::A::from(1u8); 4 * ROWS];
        let b = [S::B::from(1i8); 3 * 64];
        let mut acc = [s.zero(); DOT_CHAINS];
        // SAFETY: `b` holds COLS x 64 >= COLS x LANES x KG weights.
        let bv: [S::V; COLS] = std::array::from_fn(|v| unsafe { s.load_b(b.as_ptr().add(v * 64)) });
        for _ in 0..self.iters {
            // A register tile's step, as the kernels run it: one broadcast word per row, used by
            // each column's weights. The pointer is opaque each round, so the compiler can
            // neither hoist the broadcasts nor share a product between chains.
            let ap = std::hint::black_box(a.as_ptr());
            for (j, x) in acc.iter_mut().enumerate() {
                // SAFETY: word j / COLS of `a` holds KG <= 4 activations.
                *x = unsafe { s.dot(*x, ap.add(j / COLS * 4), bv[j % COLS]) };
            }
        }
        let mut out = [0i32; 16];
        let mut total = 0i64;
        for x in acc {
            // SAFETY: `out` holds 16 >= LANES i32.
            unsafe { s.store_i32_n(out.as_mut_ptr(), x, S::LANES) };
            total += out[..S::LANES].iter().map(|&v| i64::from(v)).sum::<i64>();
        }
        total
    }
}
