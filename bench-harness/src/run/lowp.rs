//! `run --dtype f32,int8,bf16`: each layer's low-precision variants, timed by criterion like the
//! f32 ones and compared with the f32 reference on the same data.
//! - int8: the layer's f32 data quantized as a post-training quantizer would (activations per
//!   tensor with a zero point over their range, weights per output channel, symmetric; the output
//!   over the f32 reference's range); the dequantized output is compared.
//! - bf16: input and weights rounded to bf16 (bias and output stay f32).

use std::hint::black_box;

use simdconv::bf16::{self, BConvPlan};
use simdconv::quant::{self, QConvPlan, QuantParams};
use simdconv::rayon::ThreadPool;
use simdconv::{Activation, Bf16, ConvShape, LowpVariant};

use super::RunOptions;
use crate::console::Console;
use crate::here;
use crate::measure::{self, LayerData, Session};
use crate::schema::layer::Layer;
use crate::schema::precision::PrecisionRecord;
use crate::schema::results::{gflops, Interval, Record};

/// The layer's data in int8 and the output's quantization.
struct Quantized {
    input: Vec<u8>,
    weights: Vec<i8>,
    bias: Vec<i32>,
    params: QuantParams,
}

/// Scale and zero point covering `[min(lo, 0), max(hi, 0)]` in 0..=255.
fn affine(lo: f32, hi: f32) -> (f32, u8) {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    (scale, (-lo / scale).round().clamp(0.0, 255.0) as u8)
}

fn range(v: &[f32]) -> (f32, f32) {
    v.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

fn quantize(data: &LayerData, want: &[f32]) -> Result<Quantized, String> {
    let shape = &data.shape;
    let (lo, hi) = range(&data.input);
    let (s_in, z_in) = affine(lo, hi);
    let input = data
        .input
        .iter()
        .map(|&x| ((x / s_in).round() + f32::from(z_in)).clamp(0.0, 255.0) as u8)
        .collect();
    let l = shape.reduction_len();
    let mut weights = Vec::with_capacity(data.weights.len());
    let mut scales = Vec::with_capacity(shape.k());
    for w in data.weights.chunks(l.max(1)) {
        let m = w.iter().fold(0.0f32, |a, &x| a.max(x.abs()));
        let s = if m > 0.0 { m / 127.0 } else { 1.0 };
        scales.push(s);
        weights.extend(
            w.iter()
                .map(|&x| (x / s).round().clamp(-127.0, 127.0) as i8),
        );
    }
    let bias = data
        .bias
        .iter()
        .zip(&scales)
        .map(|(&b, &s)| (f64::from(b) / (f64::from(s_in) * f64::from(s))).round() as i32)
        .collect();
    let (olo, ohi) = range(want);
    let (s_out, z_out) = affine(olo, ohi);
    let params = QuantParams {
        input_scale: s_in,
        input_zero: z_in,
        weight_scales: scales,
        output_scale: s_out,
        output_zero: z_out,
        output_min: 0,
        output_max: 255,
    }
    .with_activation(Activation::Relu)
    .map_err(|e| e.to_string())?;
    Ok(Quantized {
        input,
        weights,
        bias,
        params,
    })
}

/// Max and RMS of |output - reference| over the reference's range, every image against the
/// one-image reference; `value` gives an output element's real value.
fn errors<T: Copy>(out: &[T], want: &[f32], value: impl Fn(T) -> f64) -> (f64, f64) {
    let (lo, hi) = range(want);
    let span = f64::from((hi - lo).max(f32::MIN_POSITIVE));
    let (mut max, mut sq, mut n) = (0.0f64, 0.0f64, 0usize);
    for image in out.chunks(want.len().max(1)) {
        for (&q, &w) in image.iter().zip(want) {
            let d = (value(q) - f64::from(w)).abs();
            max = max.max(d);
            sq += d * d;
            n += 1;
        }
    }
    (max / span, (sq / n.max(1) as f64).sqrt() / span)
}

/// The low-precision rows of the element types `opts` asks for that run here, support `shape`,
/// and pass the ISA list and the filter.
fn selected(shape: &ConvShape, layer: &str, opts: &RunOptions) -> Vec<&'static LowpVariant> {
    let (isas, filter) = (opts.isas.as_deref(), opts.filter.as_ref());
    let int8 = if opts.int8 { quant::variants() } else { &[] };
    let bf16 = if opts.bf16 { bf16::variants() } else { &[] };
    int8.iter()
        .chain(bf16)
        .filter(|v| v.is_available() && v.supports(shape).is_ok())
        .filter(|v| isas.is_none_or(|l| l.contains(&v.isa())))
        .filter(|v| here::passes(filter, &format!("{layer}/{}", v.name())))
        .collect()
}

/// How many low-precision rows `run` will measure over `layers`.
pub(super) fn count(layers: &[Layer], opts: &RunOptions) -> usize {
    layers
        .iter()
        .filter_map(|l| Some((l.shape().ok()?, l)))
        .map(|(s, l)| selected(&s, &l.name, opts).len())
        .sum()
}

/// One low-precision row planned on a layer, with its input and output buffers.
enum Low<'a> {
    Int8(QConvPlan, &'a Quantized, Vec<u8>),
    Bf16(BConvPlan, &'a [Bf16], Vec<f32>),
}

impl Low<'_> {
    fn run(&mut self, pool: Option<&ThreadPool>) -> Result<(), simdconv::ConvError> {
        match (self, pool) {
            (Low::Int8(p, q, out), None) => p.run(black_box(&q.input), black_box(out)),
            (Low::Int8(p, q, out), Some(pool)) => p.run_parallel(&q.input, out, pool),
            (Low::Bf16(p, x, out), None) => p.run(black_box(x), black_box(out)),
            (Low::Bf16(p, x, out), Some(pool)) => p.run_parallel(x, out, pool),
        }
    }
    /// The output's bits, to compare runs.
    fn bits(&self) -> Vec<u32> {
        match self {
            Low::Int8(_, _, out) => out.iter().map(|&v| u32::from(v)).collect(),
            Low::Bf16(_, _, out) => out.iter().map(|v| v.to_bits()).collect(),
        }
    }
    /// Max and RMS error against the f32 reference, over its range.
    fn errors(&self, want: &[f32]) -> (f64, f64) {
        match self {
            Low::Int8(_, q, out) => {
                let p = &q.params;
                let zero = f64::from(p.output_zero);
                errors(out, want, |y| {
                    f64::from(p.output_scale) * (f64::from(y) - zero)
                })
            }
            Low::Bf16(_, _, out) => errors(out, want, f64::from),
        }
    }
}

/// Measures the low-precision rows on one layer, on each pool (one thread: `run`; more:
/// `run_parallel`, first checked to give `run`'s bits); `f32` are the layer's f32 records of
/// this run, each low-precision record set against the best of them at its thread count.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_lowp(
    session: &mut Session<'_>,
    layer: &str,
    data: &LayerData,
    want: &[f32],
    f32: &[Record],
    pools: &[(usize, ThreadPool)],
    opts: &RunOptions,
    con: &mut Console,
) -> Result<Vec<PrecisionRecord>, String> {
    let shape = data.shape;
    let rows = selected(&shape, layer, opts);
    let int8 = if rows.iter().any(|v| v.types() == quant::TYPES) {
        Some(quantize(data, want).map_err(|e| format!("{layer}: int8 quantization: {e}"))?)
    } else {
        None
    };
    let (bx, bw) = if rows.iter().any(|v| v.types() == bf16::TYPES) {
        (bf16::round(&data.input), bf16::round(&data.weights))
    } else {
        (Vec::new(), Vec::new())
    };
    let fastest = |plain: bool, threads: usize| {
        f32.iter()
            .filter(move |r| r.threads == threads)
            .filter(move |r| !plain || !r.algorithm.as_str().starts_with("winograd"))
            .min_by(|a, b| a.time_ns.point.total_cmp(&b.time_ns.point))
    };
    let ratio = |r: &Record, t: Interval| Interval {
        point: r.time_ns.point / t.point,
        lower: r.time_ns.lower / t.upper,
        upper: r.time_ns.upper / t.lower,
    };
    let mut records = Vec::new();
    for v in rows {
        let named = |e: simdconv::ConvError| format!("{layer}/{}: {e}", v.name());
        let mut low = match &int8 {
            Some(q) if v.types() == quant::TYPES => {
                let plan = QConvPlan::new(v, &shape, &q.weights, Some(&q.bias), &q.params);
                Low::Int8(plan.map_err(named)?, q, vec![0u8; shape.output_len()])
            }
            _ => {
                let act = crate::measure::ACTIVATION;
                let plan = BConvPlan::new(v, &shape, &bw, Some(&data.bias), act);
                Low::Bf16(plan.map_err(named)?, &bx, vec![0.0; shape.output_len()])
            }
        };
        low.run(None).map_err(named)?;
        let (max_error, rms_error) = low.errors(want);
        let serial = low.bits();
        for (threads, pool) in pools {
            let (threads, pool) = (*threads, (*threads > 1).then_some(pool));
            con.status(&format!("{layer}/{}", measure::bench_id(v.name(), threads)));
            if pool.is_some() {
                low.run(pool).map_err(named)?;
                if low.bits() != serial {
                    return Err(format!(
                        "{layer}/{} on {threads} threads: the output differs from the one-thread run",
                        v.name()
                    ));
                }
            }
            let id = measure::bench_id(v.name(), threads);
            let t = con.quiet(|| session.time(&id, |b| b.iter(|| low.run(pool))))?;
            let (best, plain) = (fastest(false, threads), fastest(true, threads));
            let rec = PrecisionRecord {
                layer: layer.to_string(),
                variant: v.name().to_string(),
                types: v.types().name(),
                algorithm: v.algorithm().name().to_string(),
                isa: v.isa_label().to_string(),
                threads,
                time_ns: t,
                gops: gflops(shape.flops(), t),
                best_f32: best.map(|r| r.variant.clone()),
                speedup: best.map(|r| ratio(r, t)),
                best_f32_plain: plain.map(|r| r.variant.clone()),
                speedup_plain: plain.map(|r| ratio(r, t)),
                fraction_of_peak: None,
                max_error,
                rms_error,
            };
            con.finished(&format!(
                "{:<24} {:<40} {:>9.3} ms  {:>7.1} GOP/s  {}  max err {:.4} of range",
                layer,
                id,
                t.point / 1e6,
                rec.gops.point,
                rec.speedup.map_or("-".into(), |s| format!(
                    "{:.2}x f32 [{:.2}, {:.2}]",
                    s.point, s.lower, s.upper
                )),
                max_error
            ));
            records.push(rec);
        }
    }
    Ok(records)
}
