//! The int8 correctness suite, one named test per int8 registry row and case family
//! (`u8s8u8-direct-avx512vnni-8x48/sweep`), as `sweep.rs` does for f32. Each row is held to the
//! exact reference (`simdconv::quant::reference`):
//! - accumulators (bias included, before requantization) equal the i64 ones exactly;
//! - outputs equal the documented recipe applied to the exact accumulators, byte for byte, and
//!   lie within 1 of the ideal f64 requantization.
//!
//! - `run_parallel` on 3 threads gives `run`'s bytes, on layers big enough to be split.
//!
//! A row this CPU cannot run is listed as ignored with the reason. Under Miri
//! (`scripts/sanitize.sh`) the `extremes` family runs on its three smallest shapes.

mod common;

use common::{lowp_shapes as shapes, on_big_shapes, run_lowp_trials};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simdconv::quant::reference::{conv_acc, requantize, requantize_ideal};
use simdconv::quant::{variants, QConvPlan, QVariant, QuantParams};
use simdconv::{Activation, ConvShape};

/// A problem: input, weights, bias, parameters.
type Problem = (Vec<u8>, Vec<i8>, Vec<i32>, QuantParams);

fn main() {
    run_lowp_trials(
        variants(),
        &[
            ("sweep", sweep_one),
            ("extremes", extremes_one),
            ("parallel", parallel_one),
        ],
    );
}

/// Random data and parameters for `shape`, from `seed`: zero points anywhere in 0..=255,
/// per-channel weight scales over two decades, bias over the accumulators' range.
fn problem(shape: &ConvShape, seed: u64) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let input = (0..shape.input_len())
        .map(|_| rng.random_range(0..=255u8))
        .collect();
    let weights = (0..shape.weights_len())
        .map(|_| rng.random_range(-128..=127i8))
        .collect();
    let bias = (0..shape.k())
        .map(|_| rng.random_range(-20_000..=20_000))
        .collect();
    let l = shape.reduction_len() as f32;
    let params = QuantParams {
        input_scale: rng.random_range(0.01..0.1),
        input_zero: rng.random_range(0..=255),
        weight_scales: (0..shape.k())
            .map(|_| rng.random_range(0.001..0.1))
            .collect(),
        // Outputs spread over the range: accumulators grow as sqrt(l).
        output_scale: rng.random_range(0.5..2.0) * l.sqrt() * 0.1,
        output_zero: rng.random_range(0..=255),
        output_min: 0,
        output_max: 255,
    };
    (input, weights, bias, params)
}

/// Runs `v` on one problem and compares with the reference; `Err` names what differs.
fn check(v: &'static QVariant, shape: &ConvShape, p: &Problem, bias: bool) -> Result<(), String> {
    let (input, weights, b, params) = p;
    let b = bias.then_some(b.as_slice());
    let mut plan =
        QConvPlan::new(v, shape, weights, b, params).map_err(|e| format!("{shape:?}: {e}"))?;
    let exact = conv_acc(shape, input, params.input_zero, weights, b);
    let mut acc = vec![0i32; shape.output_len()];
    plan.run_accumulators(input, &mut acc).unwrap();
    let mut out = vec![0u8; shape.output_len()];
    plan.run(input, &mut out).unwrap();
    let k = shape.k();
    for (i, (&e, &a)) in exact.iter().zip(&acc).enumerate() {
        if i64::from(a) != e {
            return Err(format!(
                "{shape:?}: accumulator {i} (channel {}) is {a}, exact {e}",
                i % k
            ));
        }
        let want = requantize(params, i % k, a);
        let ideal = requantize_ideal(params, i % k, e);
        if out[i] != want || out[i].abs_diff(ideal) > 1 {
            return Err(format!(
                "{shape:?}: output {i} is {}, the recipe gives {want}, the ideal {ideal} (acc {a})",
                out[i]
            ));
        }
    }
    Ok(())
}

fn sweep_one(v: &'static QVariant) -> Result<(), String> {
    let (mut ran, mut failures) = (0, Vec::new());
    for (i, s) in shapes().iter().enumerate() {
        if v.supports(s).is_err() {
            continue;
        }
        ran += 1;
        let mut p = problem(s, i as u64);
        for (j, act) in [Activation::None, Activation::Relu, Activation::Relu6]
            .into_iter()
            .enumerate()
        {
            p.3 = p.3.clone().with_activation(act).unwrap();
            if let Err(e) = check(v, s, &p, j != 1) {
                failures.push(e);
            }
        }
    }
    if ran == 0 {
        return Err(format!("{} supports no sweep shape", v.name()));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {ran} shapes failed:\n{}",
            failures.len(),
            failures.join("\n")
        ))
    }
}

/// The values that break a saturating `u8 x s8` pair sum (`vpmaddubsw`: 255 * -128 * 2 is below
/// i16::MIN): every input 255 or 0, every weight -128 or 127, zero points at both ends.
fn extremes_one(v: &'static QVariant) -> Result<(), String> {
    let mut ran = 0;
    let mut cases: Vec<ConvShape> = shapes()
        .into_iter()
        .filter(|s| v.supports(s).is_ok())
        .collect();
    if cfg!(miri) {
        // Miri interprets every operation: the three smallest shapes.
        cases.sort_by_key(|s| s.flops());
    }
    for s in cases.iter().take(if cfg!(miri) { 3 } else { 12 }) {
        ran += 1;
        for (x, w, zero) in [
            (255u8, -128i8, 0u8),
            (255, 127, 0),
            (0, -128, 255),
            (255, -128, 255),
        ] {
            let input = vec![x; s.input_len()];
            let weights = vec![w; s.weights_len()];
            let bias = vec![0; s.k()];
            let params = QuantParams::per_tensor(1.0, zero, 1.0, 1e6, 128);
            check(v, s, &(input, weights, bias, params), true)?;
        }
    }
    if ran == 0 {
        return Err(format!("{} supports no shape", v.name()));
    }
    Ok(())
}

fn parallel_one(v: &'static QVariant) -> Result<(), String> {
    on_big_shapes(v, |i, s, pool| {
        let (input, weights, bias, params) = problem(s, 100 + i as u64);
        let mut plan =
            QConvPlan::new(v, s, &weights, Some(&bias), &params).map_err(|e| e.to_string())?;
        let (mut one, mut three) = (vec![0u8; s.output_len()], vec![1u8; s.output_len()]);
        plan.run(&input, &mut one).unwrap();
        plan.run_parallel(&input, &mut three, pool).unwrap();
        match (0..one.len()).find(|&j| one[j] != three[j]) {
            Some(j) => Err(format!(
                "{s:?}: output {j} is {} on 3 threads, {} on one",
                three[j], one[j]
            )),
            None => Ok(()),
        }
    })
}
