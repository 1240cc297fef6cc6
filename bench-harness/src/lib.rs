//! # simdconv-bench
//!
//! The measuring side of simdconv: the layer catalogue, the machine profile with measured
//! ceilings, criterion-driven runs over every registered variant, the versioned results file,
//! and the HTML report with roofline, speedup and accuracy plots.
#![warn(missing_docs)]

pub mod answer;
pub mod autopick;
pub mod blocks;
pub mod catalogue;
pub mod compare;
pub mod console;
pub mod export;
pub mod files;
pub mod gate;
pub mod here;
pub mod machine;
pub mod measure;
pub mod report;
pub mod roof;
pub mod run;
pub mod schema;
pub mod stability;
pub mod suite;
pub mod tune;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Uniform values in [-1, 1), from a seeded generator (the same data on every run and machine).
pub fn seeded(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// FNV-1a of a name: a stable hash for shuffles and splits that must not change between runs
/// or builds.
pub fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
