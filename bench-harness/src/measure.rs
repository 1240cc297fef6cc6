//! The one measuring engine, with its two policies. Everything the harness times goes through
//! here, and nothing is timed twice:
//! - **criterion** (`run`, the blocks suite, `cargo bench`): a [`Session`] is a criterion group;
//!   timing a routine in it returns criterion's median with its confidence interval;
//! - **sampled** (`tune`: a few hundred layers x every variant in minutes): a [`Sampler`] times
//!   batches of runs and gives the median with a distribution-free (order-statistic) interval.
//!
//! Both return an [`Interval`] in ns per run; both time a layer's seeded data ([`LayerData`]).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Bencher, BenchmarkGroup, Criterion, Throughput};
use serde::Deserialize;
use simdconv::{Activation, AlignedBuf, ConvError, ConvPlan, ConvShape, Variant};

use crate::schema::results::Interval;
use crate::seeded;
use crate::suite::Timing;

/// The activation every measured layer fuses (with a bias).
pub(crate) const ACTIVATION: Activation = Activation::Relu;

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
pub(crate) type Group<'a> = BenchmarkGroup<'a, FlopTime>;

/// criterion configured for a run: `samples` samples per benchmark, data under `dir`, no plots,
/// GFLOP/s as the throughput unit.
pub(crate) fn criterion(dir: &Path, timing: Timing, samples: usize) -> Bench {
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
    /// reference checks them all; the addresses, which are what caches see, differ). A buffer
    /// that cannot be allocated is an error, not an abort.
    pub fn new(shape: ConvShape) -> Result<LayerData, ConvError> {
        let image = seeded(shape.input_len() / shape.n().max(1), 1);
        let mut input = AlignedBuf::zeroed(shape.input_len())?;
        for chunk in input.chunks_exact_mut(image.len().max(1)) {
            chunk.copy_from_slice(&image);
        }
        Ok(LayerData {
            input,
            weights: seeded(shape.weights_len(), 2),
            bias: seeded(shape.k(), 3),
            output: AlignedBuf::zeroed(shape.output_len())?,
            shape,
        })
    }

    /// Plans `v` on this layer (packing happens here, outside any timed closure).
    pub fn plan(&self, v: &'static Variant) -> Result<ConvPlan, ConvError> {
        v.plan(&self.shape, &self.weights, Some(&self.bias), ACTIVATION)
    }

    /// Registers `plan` in `group` as `id` (see [`LayerData::iterate`]).
    pub fn bench(
        &mut self,
        group: &mut Group<'_>,
        plan: &mut ConvPlan,
        id: &str,
        pool: Option<&simdconv::rayon::ThreadPool>,
    ) {
        group.bench_function(id, |b| self.iterate(b, plan, pool));
    }

    /// criterion's loop over `plan.run` alone, or over `plan.run_parallel` on `pool` called
    /// from one of the pool's threads (as a framework's inference loop runs inside its pool):
    /// the caller then works on its share at once instead of handing everything over and
    /// sleeping until woken, a round trip of tens of microseconds on a virtual machine.
    pub(crate) fn iterate(
        &mut self,
        b: &mut Bencher<'_, FlopTime>,
        plan: &mut ConvPlan,
        pool: Option<&simdconv::rayon::ThreadPool>,
    ) {
        let (input, output) = (&self.input, &mut self.output);
        match pool {
            None => b.iter(|| plan.run(black_box(input), black_box(&mut *output))),
            Some(p) => p.install(|| {
                b.iter(|| plan.run_parallel(black_box(input), black_box(&mut *output), p))
            }),
        }
    }
}

/// criterion's id of a variant measured on `threads` threads: its name on one thread,
/// `<name>-t<threads>` on more.
pub(crate) fn bench_id(variant: &str, threads: usize) -> String {
    if threads > 1 {
        format!("{variant}-t{threads}")
    } else {
        variant.to_string()
    }
}

/// criterion's group id (and directory) for a layer name: the name where it is short and plain
/// (criterion rewrites `:`, `/`, quotes and more in directory names and cuts them at 64 bytes),
/// else its plain characters, cut, with a hash of the whole name, so two names never share one.
pub(crate) fn group_id(name: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.len() <= 48 && !name.is_empty() && name.chars().all(plain) {
        return name.to_string();
    }
    let kept: String = name
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .take(40)
        .collect();
    format!("{kept}-{:016x}", crate::fnv(name))
}

/// A criterion group for one layer, with FLOP throughput (printed as GFLOP/s).
pub fn layer_group<'a>(c: &'a mut Bench, name: &str, shape: &ConvShape) -> Group<'a> {
    let mut g = c.benchmark_group(group_id(name));
    g.throughput(Throughput::Elements(shape.flops()));
    g
}

/// The criterion policy: one criterion group, measured routine by routine.
pub(crate) struct Session<'a> {
    group: Group<'a>,
    name: String,
    dir: PathBuf,
}

impl<'a> Session<'a> {
    /// A group named `name` in `c`, whose data criterion writes under `dir` (the directory `c`
    /// was configured with); with `flops`, throughput prints as GFLOP/s.
    pub(crate) fn new(c: &'a mut Bench, dir: &Path, name: &str, flops: Option<u64>) -> Session<'a> {
        let mut group = c.benchmark_group(group_id(name));
        if let Some(f) = flops {
            group.throughput(Throughput::Elements(f));
        }
        Session {
            group,
            name: group_id(name),
            dir: dir.to_path_buf(),
        }
    }

    /// Times `routine` (criterion's loop over one run) as `id`: its median and interval, ns.
    pub(crate) fn time(
        &mut self,
        id: &str,
        routine: impl FnMut(&mut Bencher<'_, FlopTime>),
    ) -> Result<Interval, String> {
        self.group.bench_function(id, routine);
        median(&self.dir, &self.name, id)
    }

    /// Warm-up and measurement time for the routines timed from now on.
    pub(crate) fn set_timing(&mut self, t: Timing) {
        self.group
            .warm_up_time(Duration::from_secs_f64(t.warm_up_s))
            .measurement_time(Duration::from_secs_f64(t.measurement_s));
    }

    /// Closes the group (criterion's summary).
    pub(crate) fn finish(self) {
        self.group.finish();
    }
}

/// The sampled policy: each sample times `inner` runs back to back; the estimate is the median
/// of the samples with the widest symmetric order-statistic interval of coverage >= 90%
/// ([`order_interval`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sampler {
    /// Runs per sample.
    pub inner: usize,
    /// ns per run, one entry per sample.
    pub samples: Vec<f64>,
}

impl Sampler {
    /// A sampler of one run per sample.
    pub(crate) fn new() -> Sampler {
        Sampler {
            inner: 1,
            samples: Vec::new(),
        }
    }

    /// Times `inner` calls of `run` as one sample.
    pub(crate) fn sample(&mut self, mut run: impl FnMut()) {
        let t = Instant::now();
        for _ in 0..self.inner.max(1) {
            run();
        }
        self.samples
            .push(t.elapsed().as_nanos() as f64 / self.inner.max(1) as f64);
    }

    /// Runs per sample so that one sample lasts about `target_ns`, from the fastest sample so
    /// far; clears the samples.
    pub(crate) fn calibrate(&mut self, target_ns: f64) {
        let fastest = self.fastest().max(1.0);
        self.inner = (target_ns / fastest).ceil().max(1.0) as usize;
        self.samples.clear();
    }

    /// The fastest sample, ns per run (infinity before any).
    pub(crate) fn fastest(&self) -> f64 {
        self.samples.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The estimate (see [`order_interval`]).
    pub(crate) fn interval(&self) -> Interval {
        order_interval(self.samples.clone())
    }
}

/// The median of `samples` with the widest symmetric order-statistic interval whose coverage
/// is at least 90% (`[x(j), x(n+1-j)]`: coverage `1 - 2 P(Bin(n, 1/2) < j)`); for 5 samples
/// the range (94%), for 9 the 2nd and 8th (96%). No samples: NaN.
pub(crate) fn order_interval(mut samples: Vec<f64>) -> Interval {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n == 0 {
        return Interval {
            point: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
        };
    }
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    };
    let mut j = 1;
    while j < n / 2 && 1.0 - 2.0 * binomial_cdf(n, j + 1) >= 0.90 {
        j += 1;
    }
    Interval {
        point: median,
        lower: samples[j - 1],
        upper: samples[n - j],
    }
}

/// `P(Bin(n, 1/2) < j)`.
fn binomial_cdf(n: usize, j: usize) -> f64 {
    let mut c = 1.0f64;
    let mut sum = 0.0;
    for i in 0..j {
        sum += c;
        c = c * (n - i) as f64 / (i + 1) as f64;
    }
    sum / 2f64.powi(n as i32)
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
fn median(dir: &Path, group: &str, id: &str) -> Result<Interval, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_statistic_intervals() {
        let t = order_interval(vec![5.0, 1.0, 4.0, 2.0, 3.0]);
        assert_eq!((t.point, t.lower, t.upper), (3.0, 1.0, 5.0));
        let t = order_interval((1..=9).map(f64::from).collect());
        assert_eq!((t.point, t.lower, t.upper), (5.0, 2.0, 8.0));
        let t = order_interval(vec![7.0]);
        assert_eq!((t.point, t.lower, t.upper), (7.0, 7.0, 7.0));
        assert!(order_interval(Vec::new()).point.is_nan());
    }
}
