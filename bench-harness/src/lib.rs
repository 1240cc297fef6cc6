//! # simdconv-bench
//!
//! The measuring side of simdconv: the layer catalogue, the machine profile with measured
//! ceilings, criterion-driven runs over every registered variant, the versioned results file,
//! and the HTML report with roofline, speedup and accuracy plots.
#![warn(missing_docs)]
#![warn(unreachable_pub)]

// The tests name the crate as their users do.
#[cfg(test)]
extern crate self as simdconv_bench;

mod answer;
mod autopick;
mod blocks;
mod catalogue;
pub mod cli;
mod compare;
mod console;
mod export;
mod files;
mod gate;
mod here;
mod libraries;
mod machine;
mod measure;
mod report;
mod roof;
mod run;
pub mod schema;
mod shapes;
mod stability;
mod suite;
mod totals;
mod tune;

#[cfg(test)]
mod tests;

/// What `cargo bench` (`benches/conv.rs`) drives: the suites' layers through the measuring
/// plumbing that `run` uses.
pub mod bench {
    pub use crate::measure::{layer_group, Bench, FlopTime, LayerData};
    pub use crate::schema::suite::Suite;
}

/// The readers of the user's layer lists (`--shapes`), for fuzzing and for tools that write
/// such lists: benchdnn problem text in, named layers out, and a layer back as a benchdnn line.
pub mod inputs {
    pub use crate::shapes::benchdnn::{line as benchdnn_line, parse as benchdnn};
    pub use crate::shapes::onnx::{layers as onnx, sample as onnx_sample};
}

/// The readers of results files, each a function of parsed files (no measuring, no probing):
/// the HTML report, the comparison page and its console summary, the regression gate and its
/// page, the CSV export and the console's winner table.
pub mod views {
    pub use crate::compare::{
        gate_page, label, render as compare_page, summary as compare_summary, Input,
    };
    pub use crate::console::winner_table;
    pub use crate::export::csv;
    pub use crate::gate::{gate, Allow, Gate, GateRow};
    pub use crate::report::render as report_page;
    pub use crate::schema::results::Interval;
}

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Uniform values in [-1, 1), from a seeded generator (the same data on every run and machine).
pub(crate) fn seeded(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// FNV-1a of a name: a stable hash for shuffles and splits that must not change between runs
/// or builds.
pub(crate) fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
