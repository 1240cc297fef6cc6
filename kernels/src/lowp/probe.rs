//! The low-precision ceiling probes: independent chains of the dot-product step the int8 and bf16
//! GEMMs are built on (`vpdpbusd` on VNNI, `vpmaddwd` + `vpaddd` on AVX2, `vdpbf16ps` on
//! AVX512_BF16) arranged as a 4 x 3 register tile: per round, one activation word broadcast
//! from memory per row and three weight vectors, as the kernels do, so an ISA's roof is measured
//! with the instruction mix of its kernels. It only computes; the caller times it (best of
//! several repetitions).

#[cfg(target_arch = "x86_64")]
use crate::simd::{bf16::Bf, int8::Q8};
#[cfg(target_arch = "x86_64")]
use crate::simd::{dot::Dot, Body, Token};

/// Independent chains: enough to cover the dot product's latency x ports on current x86 cores,
/// few enough to leave registers for the weights on 16-register ISAs.
pub const DOT_CHAINS: usize = 12;

/// The int8 ISAs with a probe, as the variant names spell them.
pub const DOT_ISAS: [&str; 3] = ["avx2", "avxvnni", "avx512vnni"];

/// The bf16 ISAs with a probe.
pub const BF16_ISAS: [&str; 1] = ["avx512bf16"];

/// Direct-equivalent operations (2 per multiply-add) of one call of [`dot_loop`] on `isa`, or
/// `None` for an ISA without a probe.
pub fn dot_loop_ops(isa: &str, iters: usize) -> Option<u64> {
    // Multiply-adds per step: i32 lanes x reduction steps per word.
    let per_step = match isa {
        "avx2" | "avxvnni" => 8 * if isa == "avx2" { 2 } else { 4 },
        "avx512vnni" => 16 * 4,
        "avx512bf16" => 16 * 2,
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
        use crate::simd::bf16::Avx512Bf16;
        use crate::simd::int8::{Avx512Vnni, AvxVnni};
        use crate::Isa;
        use std::marker::PhantomData;
        let q8 = DotBody::<Q8> {
            iters,
            _f: PhantomData,
        };
        // SAFETY (each `assume`): the ISA's detection is checked first.
        match isa {
            "avx2" if Isa::Avx2.is_available() => {
                return Some(unsafe { Avx2::assume() }.vectorize(q8))
            }
            "avxvnni" if AvxVnni::detected() => {
                return Some(unsafe { AvxVnni::assume() }.vectorize(q8))
            }
            "avx512vnni" if Avx512Vnni::detected() => {
                return Some(unsafe { Avx512Vnni::assume() }.vectorize(q8))
            }
            "avx512bf16" if Avx512Bf16::detected() => {
                let bf = DotBody::<Bf> {
                    iters,
                    _f: PhantomData,
                };
                return Some(unsafe { Avx512Bf16::assume() }.vectorize(bf));
            }
            _ => {}
        }
    }
    let _ = iters;
    let _ = isa;
    None
}

/// What a probe needs from a family: inputs of value one, and the sum of an accumulator's lanes.
#[cfg(target_arch = "x86_64")]
trait Probe: crate::simd::dot::Family + Sized {
    fn ones() -> (Self::X, Self::W);
    /// The sum of `acc`'s `LANES` lanes, stored through the family's epilogue.
    fn total<S: Dot<Self>>(s: S, acc: S::V) -> i64;
}

#[cfg(target_arch = "x86_64")]
impl Probe for Q8 {
    fn ones() -> (u8, i8) {
        (1, 1)
    }
    fn total<S: Dot<Q8>>(s: S, acc: S::V) -> i64 {
        use crate::simd::int8::{OutPtr, QCols, Requant};
        let cols = QCols {
            bias: vec![0; 16],
            scale: vec![0.0; 16],
            q: Requant {
                lo: 0.0,
                hi: 0.0,
                zero: 0,
            },
        };
        let mut out = [0i32; 16];
        // SAFETY: `out` and `cols` hold 16 >= LANES entries.
        unsafe { s.store(acc, OutPtr::I32(out.as_mut_ptr()), &cols, 0, S::LANES) };
        out.iter().map(|&v| i64::from(v)).sum()
    }
}

#[cfg(target_arch = "x86_64")]
impl Probe for Bf {
    fn ones() -> (crate::Bf16, crate::Bf16) {
        (crate::Bf16::from_f32(1.0), crate::Bf16::from_f32(1.0))
    }
    fn total<S: Dot<Bf>>(s: S, acc: S::V) -> i64 {
        use crate::simd::dot::Family;
        let cols = crate::simd::bf16::BCols {
            bias: vec![0.0; 16],
            act: crate::simd::Act::None,
        };
        let mut out = [0f32; 16];
        let mut o: &mut [f32] = &mut out;
        // SAFETY: `out` and `cols` hold 16 >= LANES entries.
        unsafe { s.store(acc, Bf::ptr(&mut o), &cols, 0, S::LANES) };
        out.iter().map(|&v| v as i64).sum()
    }
}

#[cfg(target_arch = "x86_64")]
struct DotBody<F> {
    iters: usize,
    _f: std::marker::PhantomData<F>,
}

#[cfg(target_arch = "x86_64")]
impl<F: Probe, S: Dot<F>> Body<S> for DotBody<F> {
    type Output = i64;
    #[inline(always)]
    fn body(self, s: S) -> i64 {
        const ROWS: usize = 4;
        const COLS: usize = DOT_CHAINS / ROWS;
        let (x1, w1) = F::ones();
        let a = [S::A::from(x1); 4 * ROWS];
        let b = [S::B::from(w1); 3 * 64];
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
        acc.into_iter().map(|x| F::total(s, x)).sum()
    }
}
