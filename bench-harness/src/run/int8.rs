//! `run --dtype f32,int8`: each layer's int8 variants, on the layer's own f32 data quantized as
//! a post-training quantizer would (activations per tensor with a zero point over their range,
//! weights per output channel, symmetric; the output over the f32 reference's range), timed by
//! criterion like the f32 ones; the dequantized output is compared with the f32 reference.

use std::hint::black_box;

use simdconv::quant::{variants, QConvPlan, QVariant, QuantParams};
use simdconv::{Activation, ConvShape, Isa};

use super::RunOptions;
use crate::console::Console;
use crate::here::{self, Filter};
use crate::measure::{LayerData, Session};
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

/// Max and RMS of |dequantized - reference| over the reference's range, every image against
/// the one-image reference.
fn errors(out: &[u8], want: &[f32], p: &QuantParams) -> (f64, f64) {
    let (lo, hi) = range(want);
    let span = f64::from((hi - lo).max(f32::MIN_POSITIVE));
    let (mut max, mut sq, mut n) = (0.0f64, 0.0f64, 0usize);
    for image in out.chunks(want.len().max(1)) {
        for (&q, &w) in image.iter().zip(want) {
            let y = f64::from(p.output_scale) * (f64::from(q) - f64::from(p.output_zero));
            let d = (y - f64::from(w)).abs();
            max = max.max(d);
            sq += d * d;
            n += 1;
        }
    }
    (max / span, (sq / n.max(1) as f64).sqrt() / span)
}

/// The int8 rows that run here, support `shape`, and pass the ISA list and the filter.
fn selected(
    shape: &ConvShape,
    layer: &str,
    isas: Option<&[Isa]>,
    filter: Option<&Filter>,
) -> Vec<&'static QVariant> {
    variants()
        .iter()
        .filter(|v| v.is_available() && v.supports(shape).is_ok())
        .filter(|v| isas.is_none_or(|l| l.contains(&v.isa())))
        .filter(|v| here::passes(filter, &format!("{layer}/{}", v.name())))
        .collect()
}

/// How many int8 rows `run` will measure over `layers`.
pub(super) fn count(layers: &[Layer], opts: &RunOptions) -> usize {
    layers
        .iter()
        .filter_map(|l| Some((l.shape().ok()?, l)))
        .map(|(s, l)| selected(&s, &l.name, opts.isas.as_deref(), opts.filter.as_ref()).len())
        .sum()
}

/// Measures the int8 rows on one layer; `f32` are the layer's f32 records of this run.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_int8(
    session: &mut Session<'_>,
    layer: &str,
    data: &LayerData,
    want: &[f32],
    f32: &[Record],
    isas: Option<&[Isa]>,
    filter: Option<&Filter>,
    con: &mut Console,
) -> Result<Vec<PrecisionRecord>, String> {
    let shape = data.shape;
    let rows = selected(&shape, layer, isas, filter);
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let q = quantize(data, want).map_err(|e| format!("{layer}: int8 quantization: {e}"))?;
    let best = f32
        .iter()
        .filter(|r| r.threads == 1)
        .min_by(|a, b| a.time_ns.point.total_cmp(&b.time_ns.point));
    let mut out = vec![0u8; shape.output_len()];
    let mut records = Vec::new();
    for v in rows {
        con.status(&format!("{layer}/{}", v.name()));
        let mut plan = QConvPlan::new(v, &shape, &q.weights, Some(&q.bias), &q.params)
            .map_err(|e| format!("{layer}/{}: {e}", v.name()))?;
        plan.run(&q.input, &mut out).map_err(|e| e.to_string())?;
        let (max_error, rms_error) = errors(&out, want, &q.params);
        let t = con.quiet(|| {
            session.time(v.name(), |b| {
                b.iter(|| plan.run(black_box(&q.input), black_box(&mut out)))
            })
        })?;
        let rec = PrecisionRecord {
            layer: layer.to_string(),
            variant: v.name().to_string(),
            types: v.types().name(),
            algorithm: v.algorithm().name().to_string(),
            isa: v.isa_label().to_string(),
            time_ns: t,
            gops: gflops(shape.flops(), t),
            best_f32: best.map(|r| r.variant.clone()),
            speedup: best.map(|r| Interval {
                point: r.time_ns.point / t.point,
                lower: r.time_ns.lower / t.upper,
                upper: r.time_ns.upper / t.lower,
            }),
            fraction_of_peak: None,
            max_error,
            rms_error,
        };
        con.finished(&format!(
            "{:<24} {:<34} {:>9.3} ms  {:>7.1} GOP/s  {}  max err {:.4} of range",
            layer,
            rec.variant,
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
    Ok(records)
}
