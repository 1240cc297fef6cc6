//! # simdconv-bench
//!
//! The measuring side of simdconv: the layer catalogue, the machine profile with measured
//! ceilings, criterion-driven runs over every registered variant, the versioned results file,
//! and the HTML report with roofline, speedup and accuracy plots.
#![warn(missing_docs)]

pub mod answer;
pub mod blocks;
pub mod catalogue;
pub mod compare;
pub mod console;
pub mod export;
pub mod machine;
pub mod measure;
pub mod report;
pub mod results;
pub mod run;
pub mod suite;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Uniform values in [-1, 1), from a seeded generator (the same data on every run and machine).
pub fn seeded(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}
