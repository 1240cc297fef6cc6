//! A time-bounded fuzzer for the public API: arbitrary (often absurd) shape fields, wrong buffer
//! lengths, huge shapes planned with weights of the right length, NaN and infinity in inputs,
//! weights and bias, every variant through `Variant::plan` and `ConvPlan::new`, and `ops` and
//! `AlignedBuf` with arbitrary sizes. Every call must return `Ok` or a `ConvError` with a
//! message; a panic, an abort or a case slower than 5 s is a failure (exit 1). Results of
//! successful runs are checked against the reference: values within tolerance, and (all but
//! Winograd, whose wider spread is documented) exactly the reference's non-finite outputs.
//! Every int8 variant goes through `QConvPlan::new` on the same shapes with odd parameters (NaN,
//! zero and negative scales, inverted bounds, scale lists of the wrong length); its successful
//! runs must match the exact int8 reference (accumulators equal, bytes equal to the recipe).
//! Every bf16 variant goes through `BConvPlan::new` likewise (a NaN clamp bound when poisoned);
//! its runs must lie within the f32 bound of the f64 reference over the same bf16 values.
//!
//!     cargo run --release -p simdconv --example fuzz_api -- SECONDS [SEED]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simdconv::ops::{self, Pool};
use simdconv::{
    reference, variants, Activation, Algorithm, AlignedBuf, ConvPlan, ConvShape, Isa, Padding,
};

/// A dimension: mostly small, sometimes zero, sometimes huge.
fn dim(rng: &mut ChaCha8Rng, small: usize) -> usize {
    match rng.random_range(0..64) {
        0 => 0,
        1 => usize::MAX,
        2 => rng.random_range(0..usize::MAX),
        3 => 1 << rng.random_range(16..40),
        _ => rng.random_range(1..=small),
    }
}

fn activation(rng: &mut ChaCha8Rng) -> Activation {
    match rng.random_range(0..6) {
        0 => Activation::None,
        1 => Activation::Relu,
        2 => Activation::Relu6,
        3 => Activation::Clamp {
            min: -0.5,
            max: 0.5,
        },
        4 => Activation::Clamp {
            min: 1.0,
            max: -1.0,
        },
        _ => Activation::Clamp {
            min: f32::NAN,
            max: 1.0,
        },
    }
}

/// Values with a sprinkle of NaN and infinities (when `poison`).
fn values(rng: &mut ChaCha8Rng, len: usize, poison: bool) -> Vec<f32> {
    let mut v: Vec<f32> = (0..len).map(|i| (i % 7) as f32 * 0.25 - 0.75).collect();
    if poison && len > 0 {
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..len);
            v[i] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][rng.random_range(0..3)];
        }
    }
    v
}

/// `ops` and `AlignedBuf` with arbitrary sizes: an error or a result, never a panic.
fn fuzz_ops(rng: &mut ChaCha8Rng) -> u64 {
    let mut errors = 0;
    let pool = Pool {
        n: dim(rng, 2),
        h: dim(rng, 9),
        w: dim(rng, 9),
        c: dim(rng, 20),
        window: dim(rng, 4),
        stride: dim(rng, 3),
        pad: dim(rng, 2),
    };
    let isa = Isa::ALL[rng.random_range(0..Isa::ALL.len())];
    let small = |r: Result<usize, _>| r.ok().filter(|&n| n < 1 << 16);
    match (small(pool.input_len()), small(pool.output_len())) {
        (Some(i), Some(o)) => {
            let skew = rng.random_range(0..3) == 0;
            let input = vec![1.0f32; i + usize::from(skew)];
            let mut out = vec![0.0f32; o];
            errors += u64::from(ops::max_pool(isa, &pool, &input, &mut out).is_err());
        }
        _ => errors += u64::from(ops::max_pool(isa, &pool, &[], &mut []).is_err()),
    }
    let (a, b) = (rng.random_range(0..64), rng.random_range(0..64));
    let mut out = vec![0.0f32; a];
    errors += u64::from(ops::add(isa, &vec![1.0; a], &vec![2.0; b], &mut out).is_err());
    let channels = [dim(rng, 8), dim(rng, 8)];
    let pixels = dim(rng, 16);
    let parts: Vec<Vec<f32>> = channels
        .iter()
        .map(|&c| vec![0.5; c.saturating_mul(pixels).min(1 << 12)])
        .collect();
    let refs: Vec<&[f32]> = parts.iter().map(Vec::as_slice).collect();
    let total = channels[0].saturating_add(channels[1]);
    let mut cat = vec![0.0f32; total.saturating_mul(pixels).min(1 << 13)];
    errors += u64::from(ops::concat_channels(&refs, &channels, pixels, &mut cat).is_err());
    // Huge lengths must be refused or lazily zeroed, never abort.
    let len = dim(rng, 1 << 12);
    errors += u64::from(AlignedBuf::<f32>::zeroed(len).is_err());
    errors
}

/// The most one case may take (every variant planned and run, each run checked).
const SLOW_CASE: Duration = Duration::from_secs(5);

/// The int8 rows on one case: parameters that are sometimes unusable, lengths skewed like the
/// f32 ones. Returns (plans, runs checked, errors).
fn fuzz_int8(
    shape: &ConvShape,
    small: bool,
    huge_plan: bool,
    skew: isize,
    odd: bool,
) -> (u64, u64, u64) {
    use simdconv::quant::{reference as qref, variants as qvariants, QConvPlan, QuantParams};
    let (mut plans, mut runs, mut errs) = (0, 0, 0);
    let mut rng = ChaCha8Rng::seed_from_u64(shape.weights_len() as u64 ^ skew as u64);
    let mut params = QuantParams::per_tensor(0.05, rng.random_range(0..=255), 0.01, 0.5, 128);
    if odd {
        match rng.random_range(0..5) {
            0 => params.input_scale = f32::NAN,
            1 => params.output_scale = 0.0,
            2 => params.weight_scales = vec![-1.0; 2],
            3 => (params.output_min, params.output_max) = (200, 100),
            _ => params.weight_scales = vec![0.01; shape.k().min(1 << 16) + 1],
        }
    }
    if !(small || huge_plan) {
        return (0, 0, 0);
    }
    let wlen = shape
        .weights_len()
        .saturating_add_signed(if small { skew } else { 0 });
    let weights: Vec<i8> = (0..wlen).map(|i| (i % 255) as i8).collect();
    let bias: Vec<i32> = (0..shape.k().min(1 << 16))
        .map(|i| i as i32 * 37 - 500)
        .collect();
    for v in qvariants() {
        let mut plan = match QConvPlan::new(v, shape, &weights, Some(&bias), &params) {
            Ok(p) => p,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                errs += 1;
                continue;
            }
        };
        plans += 1;
        if !small {
            continue;
        }
        let input: Vec<u8> = (0..shape.input_len().saturating_add_signed(skew))
            .map(|i| (i * 31 % 256) as u8)
            .collect();
        let (mut acc, mut out) = (
            vec![0i32; shape.output_len()],
            vec![0u8; shape.output_len()],
        );
        match plan
            .run_accumulators(&input, &mut acc)
            .and_then(|()| plan.run(&input, &mut out))
        {
            Ok(()) => {
                runs += 1;
                let want = qref::conv_acc(shape, &input, params.input_zero, &weights, Some(&bias));
                for (i, (&a, &e)) in acc.iter().zip(&want).enumerate() {
                    assert_eq!(i64::from(a), e, "{}: accumulator {i} on {shape}", v.name());
                    let q = qref::requantize(&params, i % shape.k(), a);
                    assert_eq!(out[i], q, "{}: output {i} on {shape}", v.name());
                }
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                errs += 1;
            }
        }
    }
    (plans, runs, errs)
}

/// The bf16 rows on one case: activations sometimes unusable, lengths skewed like the f32 ones;
/// each run checked against the f64 reference over the same bf16 values with the f32 bound.
/// Returns (plans, runs checked, errors).
fn fuzz_bf16(
    shape: &ConvShape,
    small: bool,
    huge_plan: bool,
    skew: isize,
    odd: bool,
) -> (u64, u64, u64) {
    use simdconv::bf16::{round, variants as bvariants, widen, BConvPlan};
    let (mut plans, mut runs, mut errs) = (0, 0, 0);
    if !(small || huge_plan) {
        return (0, 0, 0);
    }
    let act = if odd {
        Activation::Clamp {
            min: f32::NAN,
            max: 1.0,
        }
    } else {
        Activation::Relu6
    };
    let wlen = shape
        .weights_len()
        .saturating_add_signed(if small { skew } else { 0 });
    let weights = round(
        &(0..wlen)
            .map(|i| (i % 17) as f32 * 0.125 - 1.0)
            .collect::<Vec<_>>(),
    );
    let bias: Vec<f32> = (0..shape.k().min(1 << 16))
        .map(|i| i as f32 * 0.01)
        .collect();
    for v in bvariants() {
        let mut plan = match BConvPlan::new(v, shape, &weights, Some(&bias), act) {
            Ok(p) => p,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                errs += 1;
                continue;
            }
        };
        plans += 1;
        if !small {
            continue;
        }
        let input = round(
            &(0..shape.input_len().saturating_add_signed(skew))
                .map(|i| (i * 31 % 23) as f32 * 0.25 - 2.0)
                .collect::<Vec<_>>(),
        );
        let mut out = vec![0f32; shape.output_len()];
        match plan.run(&input, &mut out) {
            Ok(()) => {
                runs += 1;
                let (want, mag) = reference::conv_with_magnitude(
                    shape,
                    &widen(&input),
                    &widen(&weights),
                    Some(&bias),
                    act,
                )
                .unwrap();
                let err = reference::max_relative_error(&out, &want, &mag);
                let tol = reference::tolerance(shape, Algorithm::Direct);
                assert!(
                    err <= tol,
                    "{}: error {err:e} > {tol:e} on {shape}",
                    v.name()
                );
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                errs += 1;
            }
        }
    }
    (plans, runs, errs)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut cases, mut shapes_ok, mut plans_ok, mut runs_ok, mut errors) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    // Every case is small (big shapes are only planned with wrong lengths), so a slow one means a
    // plan or run whose cost grows with something that adds no work (this caught a padded copy
    // sized by the padding). A watchdog stops the run on the first case over the limit.
    let watch = std::sync::Arc::new(std::sync::Mutex::new((Instant::now(), String::new())));
    {
        let watch = watch.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            let (since, case) = watch.lock().unwrap().clone();
            if since.elapsed() > SLOW_CASE {
                eprintln!("SLOW case (over {SLOW_CASE:?}): {case}");
                std::process::exit(1);
            }
        });
    }
    // Silence the default hook: a panic is reported once, below, with the case that caused it.
    std::panic::set_hook(Box::new(|_| {}));
    while Instant::now() < deadline {
        cases += 1;
        let fields = [
            dim(&mut rng, 3),
            dim(&mut rng, 9),
            dim(&mut rng, 9),
            dim(&mut rng, 20),
            dim(&mut rng, 20),
            dim(&mut rng, 6),
            dim(&mut rng, 6),
        ];
        let (st, dl, gr) = (dim(&mut rng, 3), dim(&mut rng, 3), dim(&mut rng, 4));
        let pad = Padding {
            top: dim(&mut rng, 4),
            left: dim(&mut rng, 4),
            bottom: dim(&mut rng, 4),
            right: dim(&mut rng, 4),
        };
        let depthwise = rng.random_range(0..4) == 0;
        let act = activation(&mut rng);
        let poison = rng.random_range(0..4) == 0;
        let with_bias = rng.random_bool(0.5);
        let via_new = rng.random_bool(0.3);
        let rng_bit = rng.random_bool(0.5);
        *watch.lock().unwrap() = (Instant::now(), format!("ops of case {cases}"));
        let ops_errors = fuzz_ops(&mut rng);
        let len_skew =
            rng.random_range(-2i64..=2) as isize * (rng.random_range(0..4) == 0) as isize;
        let case = format!("fields {fields:?} stride {st} dilation {dl} groups {gr} {pad:?} depthwise {depthwise} {act:?} skew {len_skew} poison {poison} bias {with_bias} new {via_new}");
        *watch.lock().unwrap() = (Instant::now(), case.clone());
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let [n, h, w, c, k, r, s] = fields;
            let (c, k, g) = if depthwise { (c, c, c) } else { (c, k, gr) };
            let shape = match ConvShape::builder(n, h, w, c, k, r, s)
                .stride(st)
                .dilation(dl)
                .padding(pad)
                .groups(g)
                .build()
            {
                Ok(s) => s,
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    return (false, 0, 0, 1 + ops_errors);
                }
            };
            // Run (and check against the naive reference) only what takes well under a second.
            let work = (shape.output_len() as u128) * (shape.reduction_len() as u128);
            let small = shape.input_len() < 1 << 16
                && shape.weights_len() < 1 << 16
                && shape.output_len() < 1 << 16
                && work < 1 << 22;
            let (mut plans, mut runs, mut errs) = (0, 0, 0);
            // A huge shape with a small weight tensor is planned with the right length: the plan
            // must allocate fallibly (an error, or untouched zero pages) and never run.
            let huge_plan = !small && shape.weights_len() < 1 << 16 && rng_bit;
            for v in variants() {
                let wlen = if small || huge_plan {
                    shape
                        .weights_len()
                        .saturating_add_signed(if small { len_skew } else { 0 })
                } else {
                    // Always the wrong length for a shape too big to run: planning must refuse it.
                    (shape.weights_len() % 7)
                        + 1
                        + usize::from(shape.weights_len() % 7 + 1 == shape.weights_len())
                };
                let mut prng = ChaCha8Rng::seed_from_u64(wlen as u64);
                let weights = values(&mut prng, wlen, poison);
                // A bias too long to allocate is given short: planning must refuse it.
                let blen = if shape.k() < 1 << 16 { shape.k() } else { 1 };
                let bias_v = values(&mut prng, blen, poison);
                let bias = with_bias.then_some(bias_v.as_slice());
                let planned = if via_new {
                    ConvPlan::new(&shape, v.algorithm(), v.isa(), &weights, bias, act)
                } else {
                    v.plan(&shape, &weights, bias, act)
                };
                let mut plan = match planned {
                    Ok(p) => p,
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        errs += 1;
                        continue;
                    }
                };
                plans += 1;
                if !small {
                    continue;
                }
                let input: Vec<f32> = {
                    let mut x: Vec<f32> = (0..shape.input_len().saturating_add_signed(len_skew))
                        .map(|i| (i % 7) as f32 - 3.0)
                        .collect();
                    if poison && !x.is_empty() {
                        let n = x.len();
                        x[n / 2] = f32::NAN;
                        x[n / 3] = f32::INFINITY;
                    }
                    x
                };
                let mut out = vec![0.0f32; shape.output_len()];
                match plan.run(&input, &mut out) {
                    Ok(()) => {
                        runs += 1;
                        let (want, mag) =
                            reference::conv_with_magnitude(&shape, &input, &weights, bias, act)
                                .unwrap();
                        let winograd = matches!(plan.algorithm(), Algorithm::Winograd(_));
                        if !(poison && winograd) {
                            let err = reference::max_relative_error(&out, &want, &mag);
                            assert!(
                                err <= reference::tolerance(&shape, plan.algorithm()),
                                "{}: error {err:e} on {shape}",
                                plan.variant_name()
                            );
                        }
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        errs += 1;
                    }
                }
            }
            let (p8, r8, e8) = fuzz_int8(&shape, small, huge_plan, len_skew, poison);
            let (pb, rb, eb) = fuzz_bf16(&shape, small, huge_plan, len_skew, poison);
            (
                true,
                plans + p8 + pb,
                runs + r8 + rb,
                errs + e8 + eb + ops_errors,
            )
        }));
        match outcome {
            Ok((shape_ok, p, r, e)) => {
                shapes_ok += shape_ok as u64;
                plans_ok += p;
                runs_ok += r;
                errors += e;
            }
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                eprintln!("PANIC on case {cases}: {case}\n  {msg}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "fuzz_api: {cases} cases in {seconds} s (seed {seed}): {shapes_ok} valid shapes, {plans_ok} plans, {runs_ok} runs checked against the reference, {errors} ConvErrors, 0 panics"
    );
}
