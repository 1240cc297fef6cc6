//! The bf16 correctness suite, one named test per bf16 registry row and case family
//! (`bf16bf16f32-direct-avx512bf16-8x48/sweep`), as `sweep.rs` does for f32. Each row is held to
//! the f64 reference over the same bf16-rounded data with the f32 bound (`simdconv::bf16` docs:
//! products of bf16 values are exact in f32, so only the f32 additions round):
//! `|y - y_ref| <= (L + 2) * 2^-24 * max(M, mean M)`.
//! - `sweep`: the low-precision shapes, with and without bias, under every activation;
//! - `parallel`: `run_parallel` on 3 threads gives `run`'s bits, on layers big enough to split.
//!
//! A row this CPU cannot run is listed as ignored with the reason. Under Miri
//! (`scripts/sanitize.sh`) the sweep runs on its three smallest shapes.

mod common;

use common::{data, lowp_shapes, on_big_shapes, run_lowp_trials};
use simdconv::bf16::{round, variants, widen, BConvPlan};
use simdconv::reference::{conv_with_magnitude, max_relative_error, tolerance};
use simdconv::{Activation, Algorithm, ConvShape, LowpVariant};

fn main() {
    run_lowp_trials(
        variants(),
        &[("sweep", sweep_one), ("parallel", parallel_one)],
    );
}

/// Runs `v` on `shape` with data from `seed` and compares with the reference; `Err` says how far
/// off it is.
fn check(
    v: &'static LowpVariant,
    s: &ConvShape,
    seed: u64,
    act: Activation,
    bias: bool,
) -> Result<(), String> {
    let x = round(&data(s.input_len(), seed));
    let w = round(&data(s.weights_len(), seed + 1));
    let b = data(s.k(), seed + 2);
    let b = bias.then_some(b.as_slice());
    let mut plan = BConvPlan::new(v, s, &w, b, act).map_err(|e| format!("{s:?}: {e}"))?;
    let mut out = vec![f32::NAN; s.output_len()];
    plan.run(&x, &mut out).map_err(|e| e.to_string())?;
    let (want, mag) = conv_with_magnitude(s, &widen(&x), &widen(&w), b, act).unwrap();
    let err = max_relative_error(&out, &want, &mag);
    let tol = tolerance(s, Algorithm::Direct);
    if err > tol {
        return Err(format!(
            "{s:?} {act:?}: relative error {err:.3e} > {tol:.3e}"
        ));
    }
    Ok(())
}

fn sweep_one(v: &'static LowpVariant) -> Result<(), String> {
    let mut cases: Vec<ConvShape> = lowp_shapes()
        .into_iter()
        .filter(|s| v.supports(s).is_ok())
        .collect();
    if cfg!(miri) {
        // Miri interprets every operation: the three smallest shapes.
        cases.sort_by_key(|s| s.flops());
        cases.truncate(3);
    }
    if cases.is_empty() {
        return Err(format!("{} supports no sweep shape", v.name()));
    }
    let acts = [
        Activation::None,
        Activation::Relu,
        Activation::Relu6,
        Activation::Clamp {
            min: -0.5,
            max: 0.25,
        },
    ];
    let mut failures = Vec::new();
    for (i, s) in cases.iter().enumerate() {
        for (j, &act) in acts.iter().enumerate() {
            if let Err(e) = check(v, s, 10 * i as u64, act, j != 1) {
                failures.push(e);
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} cases failed:\n{}",
            failures.len(),
            cases.len() * acts.len(),
            failures.join("\n")
        ))
    }
}

fn parallel_one(v: &'static LowpVariant) -> Result<(), String> {
    on_big_shapes(v, |i, s, pool| {
        let x = round(&data(s.input_len(), 100 + i as u64));
        let w = round(&data(s.weights_len(), 200 + i as u64));
        let b = data(s.k(), 300 + i as u64);
        let mut plan =
            BConvPlan::new(v, s, &w, Some(&b), Activation::Relu).map_err(|e| e.to_string())?;
        let (mut one, mut three) = (vec![0.0; s.output_len()], vec![1.0; s.output_len()]);
        plan.run(&x, &mut one).unwrap();
        plan.run_parallel(&x, &mut three, pool).unwrap();
        match (0..one.len()).find(|&j| one[j].to_bits() != three[j].to_bits()) {
            Some(j) => Err(format!(
                "{s:?}: output {j} is {} on 3 threads, {} on one",
                three[j], one[j]
            )),
            None => Ok(()),
        }
    })
}
