//! The criterion plumbing shared by `run`, the blocks suite and `cargo bench`: one way to set
//! criterion up, to prepare a layer's data, to register a planned variant, and to read back
//! criterion's median with its confidence interval (the one measurement engine; nothing is timed
//! twice).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use serde::Deserialize;
use simdconv::{Activation, AlignedBuf, ConvError, ConvPlan, ConvShape, Variant};

use crate::results::Interval;
use crate::seeded;
use crate::suite::Timing;

/// The activation every measured layer fuses (with a bias).
pub const ACTIVATION: Activation = Activation::Relu;

/// criterion configured for a run: `samples` samples per benchmark, data under `dir`, no plots.
pub fn criterion(dir: &Path, timing: Timing, samples: usize) -> Criterion {
    Criterion::default()
        .output_directory(dir)
        .warm_up_time(Duration::from_secs_f64(timing.warm_up_s))
        .measurement_time(Duration::from_secs_f64(timing.measurement_s))
        .sample_size(samples)
        .without_plots()
}

/// A layer's seeded data, the same on every run and machine: 64-byte aligned activations (as a
/// framework would hand them over), weights, bias and an output buffer.
pub struct LayerData {
    /// The shape.
    pub shape: ConvShape,
    /// NHWC input.
    pub input: AlignedBuf,
    /// OHWI weights.
    pub weights: Vec<f32>,
    /// Bias, `k` floats.
    pub bias: Vec<f32>,
    /// NHWC output.
    pub output: AlignedBuf,
}

impl LayerData {
    /// Seeded data for `shape`.
    pub fn new(shape: ConvShape) -> LayerData {
        LayerData {
            input: AlignedBuf::from_slice(&seeded(shape.input_len(), 1)),
            weights: seeded(shape.weights_len(), 2),
            bias: seeded(shape.k(), 3),
            output: AlignedBuf::zeroed(shape.output_len()),
            shape,
        }
    }

    /// Plans `v` on this layer (packing happens here, outside any timed closure).
    pub fn plan(&self, v: &'static Variant) -> Result<ConvPlan, ConvError> {
        v.plan(&self.shape, &self.weights, Some(&self.bias), ACTIVATION)
    }

    /// Registers `plan` in `group` under its variant's name, timing `plan.run` alone.
    pub fn bench(&mut self, group: &mut BenchmarkGroup<'_, WallTime>, plan: &mut ConvPlan) {
        let (input, output) = (&self.input, &mut self.output);
        group.bench_function(plan.variant_name(), |b| {
            b.iter(|| plan.run(black_box(input), black_box(&mut *output)))
        });
    }
}

/// A criterion group for one layer, with FLOP throughput (criterion prints it as "elem/s").
pub fn layer_group<'a>(
    c: &'a mut Criterion,
    name: &str,
    shape: &ConvShape,
) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name.to_string());
    g.throughput(Throughput::Elements(shape.flops()));
    g
}

#[derive(Deserialize)]
struct CritEstimate {
    point_estimate: f64,
    confidence_interval: CritInterval,
}
#[derive(Deserialize)]
struct CritInterval {
    lower_bound: f64,
    upper_bound: f64,
}
#[derive(Deserialize)]
struct CritEstimates {
    median: CritEstimate,
}

/// criterion's median estimate, ns, with its confidence interval, for one benchmark.
pub fn median(dir: &Path, group: &str, id: &str) -> Result<Interval, String> {
    let path = dir.join(group).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let est: CritEstimates =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Interval {
        point: est.median.point_estimate,
        lower: est.median.confidence_interval.lower_bound,
        upper: est.median.confidence_interval.upper_bound,
    })
}
