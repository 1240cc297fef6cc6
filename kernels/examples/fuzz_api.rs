//! A time-bounded fuzzer for the public API: arbitrary (often absurd) shape fields, wrong buffer
//! lengths, every variant. Every call must return `Ok` or a `ConvError` with a message; a panic
//! is a failure (exit 1). Results of successful runs are checked against the reference.
//!
//!     cargo run --release -p simdconv --example fuzz_api -- SECONDS [SEED]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simdconv::{reference, variants, Activation, ConvShape, Padding};

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

/// The most one case may take (every variant planned and run, each run checked).
const SLOW_CASE: Duration = Duration::from_secs(5);

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
        let len_skew =
            rng.random_range(-2i64..=2) as isize * (rng.random_range(0..4) == 0) as isize;
        let case = format!("fields {fields:?} stride {st} dilation {dl} groups {gr} {pad:?} depthwise {depthwise} {act:?} skew {len_skew}");
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
                    return (false, 0, 0, 1);
                }
            };
            // Run (and check against the naive reference) only what takes well under a second.
            let work = (shape.output_len() as u128) * (shape.reduction_len() as u128);
            let small = shape.input_len() < 1 << 16
                && shape.weights_len() < 1 << 16
                && shape.output_len() < 1 << 16
                && work < 1 << 22;
            let (mut plans, mut runs, mut errs) = (0, 0, 0);
            for v in variants() {
                let wlen = if small {
                    shape.weights_len().saturating_add_signed(len_skew)
                } else {
                    // Always the wrong length for a shape too big to run: planning must refuse it.
                    (shape.weights_len() % 7)
                        + 1
                        + usize::from(shape.weights_len() % 7 + 1 == shape.weights_len())
                };
                let weights = vec![0.25f32; wlen];
                let mut plan = match v.plan(&shape, &weights, None, act) {
                    Ok(p) => p,
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        errs += 1;
                        continue;
                    }
                };
                plans += 1;
                let input: Vec<f32> = (0..shape.input_len().saturating_add_signed(len_skew))
                    .map(|i| (i % 7) as f32 - 3.0)
                    .collect();
                let mut out = vec![0.0f32; shape.output_len()];
                match plan.run(&input, &mut out) {
                    Ok(()) => {
                        runs += 1;
                        let (want, mag) =
                            reference::conv_with_magnitude(&shape, &input, &weights, None, act)
                                .unwrap();
                        let err = reference::max_relative_error(&out, &want, &mag);
                        assert!(
                            err <= reference::tolerance(&shape, v.algorithm()),
                            "{}: error {err:e} on {shape}",
                            v.name()
                        );
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        errs += 1;
                    }
                }
            }
            (true, plans, runs, errs)
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
