//! The low-precision records of a run (`run --dtype f32,int8`): per layer and int8 variant, its
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
    /// Variant name (`simdconv::quant::variants`), e.g. `u8s8u8-direct-avx512vnni-8x48`.
    pub variant: String,
    /// Element types, e.g. `u8s8u8`.
    pub types: String,
    /// Algorithm, e.g. `direct`.
    pub algorithm: String,
    /// The ISA as the name spells it, e.g. `avx512vnni`.
    pub isa: String,
    /// Time per run in ns: criterion's median with its confidence interval.
    pub time_ns: Interval,
    /// Direct-equivalent operations (2 per multiply-add) per second, in G.
    pub gops: Interval,
    /// The best f32 variant of the same run on this layer (one thread), if any was measured.
    pub best_f32: Option<String>,
    /// Its time over this variant's: above 1, the low precision is faster (interval from the
    /// two intervals' opposite ends).
    pub speedup: Option<Interval>,
    /// GOP/s over this ISA's measured int8 peak (`MachineProfile::int8_peak_gops`).
    #[serde(default)]
    pub fraction_of_peak: Option<f64>,
    /// Largest |dequantized output - f32 reference| over the reference's output range.
    #[serde(with = "float")]
    pub max_error: f64,
    /// Root mean square of the same differences over the same range.
    #[serde(with = "float")]
    pub rms_error: f64,
}

impl PrecisionRecord {
    /// The verdict on the speedup interval: which is faster, or a tie when it holds 1x.
    pub fn verdict(&self) -> &'static str {
        match self.speedup {
            Some(s) if s.lower > 1.0 => "int8 faster",
            Some(s) if s.upper < 1.0 => "f32 faster",
            Some(_) => "tie",
            None => "no f32 measured",
        }
    }
}
