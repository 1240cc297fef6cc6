//! The cost model `auto` falls back on without a tuning map, and the baseline its regret is
//! measured against. Time is the larger of compute and memory:
//! - compute: executed FLOPs (tile padding included) at 0.90 of the ISA's FMA peak for the
//!   packed-GEMM kernels (direct, im2col, pointwise, Winograd's batched GEMM), times
//!   `L / (L + 10)` for direct, whose reduction per row pointer (L = S x C floats, a kernel row)
//!   amortises its pointers and B loads less when it is short; 0.40 for depthwise (a load per FMA), whose
//!   channel tail runs a vector-width step per 4 channels;
//! - im2col's patch copy: per output pixel, tap and group, 8 cycles plus 1.5 per channel (the A panel
//!   is filled element by element; the clock estimated as peak / (4 x lanes): two FMA ports);
//! - Winograd's transforms (adds at a quarter of the peak), their tiles written and read once
//!   and the transformed weights (alpha^2 C K floats) read once, each at the bandwidth of the
//!   level it fits in;
//! - memory: compulsory bytes over the bandwidth of the smallest level they fit in.
//!
//! The constants were read off one CPU's tuning map (the AMD EPYC of `reports/examples/`:
//! direct's efficiency against its reduction length, im2col's extra time per copied element); regret on maps and
//! runs of other CPUs is what tells how well they carry over.

use serde::{Deserialize, Serialize};

use super::gemm_padding;
use crate::registry::Variant;
use crate::{cache, Algorithm, ConvShape, Element, Isa};

/// Per-core ceilings the cost model divides by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceilings {
    /// FMA peak per ISA name, GFLOP/s.
    pub peak_gflops: Vec<(String, f64)>,
    /// (working-set bytes up to which it holds, read GB/s), smallest first; the last entry
    /// holds for anything larger.
    pub bandwidth: Vec<(u64, f64)>,
}

impl Ceilings {
    /// The peak of `isa` in FLOP per ns (scaled from the widest measured ISA by lane count when
    /// `isa` was not measured).
    pub fn peak(&self, isa: Isa) -> f64 {
        if let Some((_, g)) = self.peak_gflops.iter().find(|(n, _)| n == isa.name()) {
            return *g;
        }
        let per_lane = self
            .peak_gflops
            .iter()
            .filter_map(|(n, g)| Isa::from_name(n).map(|i| g / i.lanes() as f64))
            .fold(4.0, f64::max);
        per_lane * isa.lanes() as f64
    }

    /// Why these ceilings cannot be used, naming the entry: every peak and bandwidth finite and
    /// within [1e-3, 1e6] GFLOP/s or GB/s, every working-set bound positive. A zero, negative or
    /// absurd ceiling would make every pick the slowest variant.
    pub fn check(&self) -> Result<(), String> {
        let plausible = |v: f64| v.is_finite() && (1e-3..=1e6).contains(&v);
        for (isa, g) in &self.peak_gflops {
            if !plausible(*g) {
                return Err(format!(
                    "ceilings.peak_gflops[{isa}] = {g}: must be finite, within 1e-3 to 1e6 GFLOP/s"
                ));
            }
        }
        for (bytes, g) in &self.bandwidth {
            if *bytes == 0 || !plausible(*g) {
                return Err(format!(
                    "ceilings.bandwidth ({bytes} bytes, {g} GB/s): bytes must be positive and \
                     GB/s finite, within 1e-3 to 1e6"
                ));
            }
        }
        Ok(())
    }

    /// Read bandwidth for a working set of `bytes`, bytes per ns.
    pub fn bandwidth(&self, bytes: u64) -> f64 {
        self.bandwidth
            .iter()
            .find(|(limit, _)| bytes <= *limit)
            .or(self.bandwidth.last())
            .map_or(10.0, |&(_, g)| g)
    }

    /// Ceilings from the ISA and the cache sizes alone, with no timing (this library measures
    /// nothing behind its caller's back; `simdconv-bench machine` measures the real ones): per
    /// core, two FMA pipes (4 FLOP per lane per cycle) at [`NOMINAL_GHZ`] for every ISA this CPU
    /// runs; per cycle 64 bytes from L1, 32 from L2 and 16 from L3, and [`NOMINAL_DRAM_GBS`]
    /// beyond. The cost model compares variants with each other, so the ratios (between ISAs,
    /// between compute and memory) carry the pick more than the absolute values.
    pub fn nominal() -> Ceilings {
        let peak_gflops = Isa::ALL
            .into_iter()
            .filter(|i| i.is_available())
            .map(|isa| {
                (
                    isa.name().to_string(),
                    4.0 * isa.lanes() as f64 * NOMINAL_GHZ,
                )
            })
            .collect();
        let mut bandwidth = Vec::new();
        for (level, fallback, bytes_per_cycle) in
            [(1, 32 << 10, 64.0), (2, 1 << 20, 32.0), (3, 8 << 20, 16.0)]
        {
            let size = cache::data_cache_size(level).unwrap_or(fallback);
            bandwidth.push((size, bytes_per_cycle * NOMINAL_GHZ));
        }
        bandwidth.push((u64::MAX, NOMINAL_DRAM_GBS));
        Ceilings {
            peak_gflops,
            bandwidth,
        }
    }
}

/// The clock [`Ceilings::nominal`] assumes, GHz.
pub const NOMINAL_GHZ: f64 = 3.0;
/// The one-core DRAM read bandwidth [`Ceilings::nominal`] assumes, GB/s.
pub const NOMINAL_DRAM_GBS: f64 = 10.0;

/// Fraction of the FMA peak the packed-GEMM microkernels sustain on large reductions.
const GEMM_EFFICIENCY: f64 = 0.90;
/// Depthwise: a load per FMA.
const DEPTHWISE_EFFICIENCY: f64 = 0.40;
/// Winograd transforms: adds and shuffles, at a quarter of the FMA peak.
const TRANSFORM_EFFICIENCY: f64 = 0.25;

/// Bytes per f32, as the cost model multiplies in f64.
const F32: f64 = <f32 as Element>::BYTES as f64;

/// Predicted time of `v` on `shape`, ns.
pub fn predict_ns(shape: &ConvShape, v: &Variant, c: &Ceilings) -> f64 {
    let peak = c.peak(v.isa());
    let flops = shape.flops() as f64;
    let pad = gemm_padding(shape, v).unwrap_or(1.0);
    let rows = shape.n() as f64 * shape.p() as f64 * shape.q() as f64;
    let (cg, taps) = (shape.c_per_group() as f64, (shape.r() * shape.s()) as f64);
    let lanes = v.isa().lanes() as f64;
    let compute = match v.algorithm() {
        Algorithm::Direct => {
            // Its reduction per row pointer: a kernel row's S x C contiguous floats (dilation 1,
            // one group), else one tap's C/groups.
            let red = if shape.dilation().1 == 1 && shape.groups() == 1 {
                shape.s() as f64 * cg
            } else {
                cg
            };
            flops * pad / (GEMM_EFFICIENCY * peak * red / (red + 10.0))
        }
        Algorithm::Pointwise => flops * pad / (GEMM_EFFICIENCY * peak),
        Algorithm::Im2col => {
            let ghz = peak / (4.0 * lanes);
            // Every group gathers its own patches.
            let copy_cycles = rows * taps * shape.groups() as f64 * (8.0 + 1.5 * cg);
            flops * pad / (GEMM_EFFICIENCY * peak) + copy_cycles / ghz
        }
        Algorithm::Winograd(t) => {
            let (m, a) = (t.m() as f64, (t.m() + 2) as f64);
            let tiles =
                shape.n() as f64 * (shape.p() as f64 / m).ceil() * (shape.q() as f64 / m).ceil();
            let (ci, k) = (shape.c() as f64, shape.k() as f64);
            let gemm = 2.0 * tiles * a * a * ci * k * pad;
            // Input transform: alpha^2 outputs of alpha-term sums, twice; output: m x alpha
            // then m x m, each an alpha-term sum.
            let tr = tiles * (ci * 2.0 * a * a * a + k * (m * a * a + m * m * a));
            let tiles_bytes = tiles * a * a * (ci + k) * F32;
            // The transformed weights (alpha^2 x C x K) are read once per run: on small images
            // (few tiles) that traffic, not the multiplies, sets the time.
            let weight_bytes = a * a * ci * k * F32;
            gemm / (GEMM_EFFICIENCY * peak)
                + tr / (TRANSFORM_EFFICIENCY * peak)
                + 2.0 * tiles_bytes / c.bandwidth(tiles_bytes as u64)
                + weight_bytes / c.bandwidth(weight_bytes as u64)
        }
        Algorithm::Depthwise => {
            let c_all = shape.c() as f64;
            let steps = (c_all / lanes).floor() + (c_all % lanes / 4.0).ceil();
            flops * (steps * lanes / c_all) / (DEPTHWISE_EFFICIENCY * peak)
        }
    };
    let bytes = shape.compulsory_bytes();
    let memory = bytes as f64 / c.bandwidth(bytes);
    compute.max(memory)
}

/// Predictions this close to the least are a tie, which the wider vector wins.
const ISA_TIE: f64 = 0.03;

/// The candidate with the least predicted time; among those within [`ISA_TIE`] of it, the one
/// of the widest ISA (then the least time, then the first). Where two ISAs have the same FMA
/// peak (AVX-512 issued as two 256-bit halves, as on AMD Zen 4) the model predicts the same
/// time for both, but the wider one issues half the loads, stores and loop instructions and
/// runs faster: 1.2-1.4x on depthwise and up to 1.27x on pointwise layers measured there.
pub(super) fn cheapest(
    shape: &ConvShape,
    cands: &[&'static Variant],
    c: &Ceilings,
) -> Option<&'static Variant> {
    let timed: Vec<(f64, &'static Variant)> = cands
        .iter()
        .map(|&v| (predict_ns(shape, v, c), v))
        .collect();
    let least = timed.iter().map(|(t, _)| *t).min_by(f64::total_cmp)?;
    let mut best: Option<(f64, &'static Variant)> = None;
    for &(t, v) in &timed {
        if t > least * (1.0 + ISA_TIE) {
            continue;
        }
        let better = best.is_none_or(|(b, w)| {
            let (lanes, best_lanes) = (v.isa().lanes(), w.isa().lanes());
            lanes > best_lanes || (lanes == best_lanes && t < b)
        });
        if better {
            best = Some((t, v));
        }
    }
    best.map(|(_, v)| v)
}
