//! # simdconv-bench
//!
//! The measuring side of simdconv: the layer catalogue, seeded inputs, and (see the binary and
//! `benches/`) criterion benchmarks over every registered variant.
#![warn(missing_docs)]

pub mod catalogue;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Uniform values in [-1, 1), from a seeded generator (the same data on every run and machine).
pub fn seeded(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}
