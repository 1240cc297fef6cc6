//! The criterion plumbing shared by `run`, the blocks suite and `cargo bench`: one way to set
//! criterion up, to prepare a layer's data, to register a planned variant, and to read back
//! criterion's median with its confidence interval (the one measurement engine; nothing is timed
//! twice).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkGroup, Criterion, Throughput};
use serde::Deserialize;
use simdconv::{Activation, AlignedBuf, ConvError, ConvPlan, ConvShape, Variant};

use crate::schema::results::Interval;
use crate::seeded;
use crate::suite::Timing;

/// The activation every measured layer fuses (with a bias).
pub const ACTIVATION: Activation = Activation::Relu;

/// Wall time, as criterion's `WallTime` measures it, with throughput printed in GFLOP/s: a
/// layer group's throughput is its FLOP count, which criterion's own formatter calls "elem/s".
pub struct FlopTime;

impl Measurement for FlopTime {
    type Intermediate = Instant;
    type Value = Duration;
    fn start(&self) -> Instant {
        Instant::now()
    }
    fn end(&self, i: Instant) -> Duration {
        i.elapsed()
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &FlopFormatter
    }
}

/// Times in ns/µs/ms/s; throughputs as units per ns, i.e. G-units per second.
struct FlopFormatter;

impl ValueFormatter for FlopFormatter {
    fn scale_values(&self, ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match ns {
            x if x < 1e3 => (1.0, "ns"),
            x if x < 1e6 => (1e-3, "µs"),
            x if x < 1e9 => (1e-6, "ms"),
            _ => (1e-9, "s"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }
    fn scale_throughputs(&self, _: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let (per_iter, unit) = match *t {
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => {
                (n, "GFLOP/s")
            }
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n, "GB/s"),
            Throughput::Bits(n) => (n, "Gbit/s"),
        };
        values.iter_mut().for_each(|v| *v = per_iter as f64 / *v);
        unit
    }
    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// The criterion every measurement here uses.
pub type Bench = Criterion<FlopTime>;

/// A benchmark group of [`Bench`].
pub type Group<'a> = BenchmarkGroup<'a, FlopTime>;

/// criterion configured for a run: `samples` samples per benchmark, data under `dir`, no plots,
/// GFLOP/s as the throughput unit.
pub fn criterion(dir: &Path, timing: Timing, samples: usize) -> Bench {
    Criterion::default()
        .with_measurement(FlopTime)
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
    /// Seeded data for `shape`; every image of a batch holds the same values (so one image's
    /// reference checks them all; the addresses, which are what caches see, differ).
    pub fn new(shape: ConvShape) -> LayerData {
        let image = seeded(shape.input_len() / shape.n().max(1), 1);
        LayerData {
            input: AlignedBuf::from_slice(&image.repeat(shape.n())),
            weights: seeded(shape.weights_len(), 2),
            bias: seeded(shape.k(), 3),
            output: AlignedBuf::zeroed(shape.output_len()).expect("catalogue layers fit in memory"),
            shape,
        }
    }

    /// Plans `v` on this layer (packing happens here, outside any timed closure).
    pub fn plan(&self, v: &'static Variant) -> Result<ConvPlan, ConvError> {
        v.plan(&self.shape, &self.weights, Some(&self.bias), ACTIVATION)
    }

    /// Registers `plan` in `group` as `id`, timing `plan.run` alone, or `plan.run_parallel` on
    /// `pool` called from one of the pool's threads (as a framework's inference loop runs inside
    /// its pool): the caller then works on its share at once instead of handing everything over
    /// and sleeping until woken, a round trip of tens of microseconds on a virtual machine.
    pub fn bench(
        &mut self,
        group: &mut Group<'_>,
        plan: &mut ConvPlan,
        id: &str,
        pool: Option<&simdconv::rayon::ThreadPool>,
    ) {
        let (input, output) = (&self.input, &mut self.output);
        group.bench_function(id, |b| match pool {
            None => b.iter(|| plan.run(black_box(input), black_box(&mut *output))),
            Some(p) => p.install(|| {
                b.iter(|| plan.run_parallel(black_box(input), black_box(&mut *output), p))
            }),
        });
    }
}

/// criterion's id of a variant measured on `threads` threads: its name on one thread,
/// `<name>-t<threads>` on more.
pub fn bench_id(variant: &str, threads: usize) -> String {
    if threads > 1 {
        format!("{variant}-t{threads}")
    } else {
        variant.to_string()
    }
}

/// A criterion group for one layer, with FLOP throughput (printed as GFLOP/s).
pub fn layer_group<'a>(c: &'a mut Bench, name: &str, shape: &ConvShape) -> Group<'a> {
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
