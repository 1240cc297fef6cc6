//! The low-precision records of a run (`run --dtype f32,int8,bf16`): per layer and variant, its
//! time, its accuracy against the f32 reference on the same data, and its speed against the
//! best f32 variant of the same run. Kept beside the f32 records, not among them, so every f32
//! view (winners, auto's regret, rooflines) reads f32 only.

use serde::{Deserialize, Serialize};

use simdconv::record::{float, Interval};

/// One (layer, low-precision variant) measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecord {
    /// Layer name.
    pub layer: String,
    /// Variant name (`simdconv::quant::variants`, `simdconv::bf16::variants`), e.g.
    /// `u8s8u8-direct-avx512vnni-8x48`.
    pub variant: String,
    /// Element types, e.g. `u8s8u8`, `bf16bf16f32`.
    pub types: String,
    /// Algorithm, e.g. `direct`.
    pub algorithm: String,
    /// The ISA as the name spells it, e.g. `avx512vnni`.
    pub isa: String,
    /// Threads the run was split over (1: `run`; more: `run_parallel` on a pool of that many).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub threads: usize,
    /// Time per run in ns: criterion's median with its confidence interval.
    pub time_ns: Interval,
    /// Direct-equivalent operations (2 per multiply-add) per second, in G.
    pub gops: Interval,
    /// The best f32 variant of the same run on this layer (one thread), if any was measured.
    pub best_f32: Option<String>,
    /// Its time over this variant's: above 1, the low precision is faster (interval from the
    /// two intervals' opposite ends).
    pub speedup: Option<Interval>,
    /// The best f32 variant of the same run without Winograd's multiply savings (direct,
    /// im2col, pointwise or depthwise: the same work as this variant), if any was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_f32_plain: Option<String>,
    /// Its time over this variant's (interval as `speedup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speedup_plain: Option<Interval>,
    /// GOP/s over this ISA's measured dot-product peak (`MachineProfile::int8_peak_gops`,
    /// `bf16_peak_gflops`).
    #[serde(default)]
    pub fraction_of_peak: Option<f64>,
    /// Largest |output (dequantized in int8) - f32 reference| over the reference's output range.
    #[serde(with = "float")]
    pub max_error: f64,
    /// Root mean square of the same differences over the same range.
    #[serde(with = "float")]
    pub rms_error: f64,
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

impl PrecisionRecord {
    /// The family, as users name it: `int8` (u8/s8 types) or `bf16`.
    pub fn family(&self) -> &'static str {
        if self.types.starts_with("bf16") {
            "bf16"
        } else {
            "int8"
        }
    }

    /// The verdict on the speedup interval: which is faster, or a tie when it holds 1x.
    pub fn verdict(&self) -> &'static str {
        match (self.speedup, self.family()) {
            (Some(s), "bf16") if s.lower > 1.0 => "bf16 faster",
            (Some(s), _) if s.lower > 1.0 => "int8 faster",
            (Some(s), _) if s.upper < 1.0 => "f32 faster",
            (Some(_), _) => "tie",
            (None, _) => "no f32 measured",
        }
    }

    /// Whether the low precision won (the verdict names it).
    pub fn wins(&self) -> bool {
        self.speedup.is_some_and(|s| s.lower > 1.0)
    }
}
