//! Shared test helpers: seeded data, running one variant against the reference.
#![allow(dead_code)]

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simdconv::{reference, Activation, ConvShape, Variant};

pub const ACTIVATIONS: [Activation; 4] = [
    Activation::None,
    Activation::Relu,
    Activation::Relu6,
    Activation::Clamp {
        min: -0.25,
        max: 0.5,
    },
];

/// Uniform values in [-1, 1), seeded.
pub fn data(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// A buffer whose returned slice starts one float past the allocation (so never 32/64-byte
/// aligned when the allocation is): `&buf[1..]`.
pub fn misaligned(values: &[f32]) -> Vec<f32> {
    let mut v = Vec::with_capacity(values.len() + 1);
    v.push(f32::NAN);
    v.extend_from_slice(values);
    v
}

/// Outcome of one (variant, shape, activation, bias) check.
pub struct Checked {
    /// Max error relative to term magnitude.
    pub err: f64,
    /// The allowed error.
    pub tol: f64,
}

/// Runs `v` on `shape` with seeded data and compares with the reference.
pub fn check(
    v: &'static Variant,
    shape: &ConvShape,
    act: Activation,
    with_bias: bool,
    seed: u64,
) -> Result<Checked, String> {
    let input = data(shape.input_len(), seed);
    let weights = data(shape.weights_len(), seed ^ 0x5eed);
    let bias = with_bias.then(|| data(shape.k(), seed ^ 0xb1a5));
    let (want, mag) = reference::conv_with_magnitude(shape, &input, &weights, bias.as_deref(), act)
        .map_err(|e| e.to_string())?;
    let mut plan = v
        .plan(shape, &weights, bias.as_deref(), act)
        .map_err(|e| format!("{}: plan failed on {shape}: {e}", v.name()))?;
    let inbuf = misaligned(&input);
    let mut outbuf = misaligned(&vec![f32::NAN; shape.output_len()]);
    plan.run(&inbuf[1..], &mut outbuf[1..])
        .map_err(|e| format!("{}: run failed on {shape}: {e}", v.name()))?;
    assert!(
        outbuf[0].is_nan(),
        "{} wrote before its output slice",
        v.name()
    );
    let err = reference::max_relative_error(&outbuf[1..], &want, &mag);
    let tol = reference::tolerance(shape, v.algorithm());
    if err <= tol {
        Ok(Checked { err, tol })
    } else {
        Err(format!(
            "{} on {shape} ({act:?}, bias {with_bias}): error {err:.3e} > tolerance {tol:.3e}",
            v.name()
        ))
    }
}

/// Shorthand for a shape that must be valid.
#[allow(clippy::too_many_arguments)]
pub fn shape(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    k: usize,
    r: usize,
    s: usize,
) -> simdconv::ConvShapeBuilder {
    ConvShape::builder(n, h, w, c, k, r, s)
}

/// The registry rows the correctness tests run: all of them, or those whose name contains one of
/// the comma-separated parts of `SIMDCONV_VARIANTS` (e.g. `SIMDCONV_VARIANTS=direct-avx2-6x16`
/// or `winograd-f4,depthwise`), so that one variant can be tested alone. A filter that selects
/// nothing is an error, not a vacuous pass.
pub fn selected() -> Vec<&'static Variant> {
    let all = simdconv::variants();
    let Ok(filter) = std::env::var("SIMDCONV_VARIANTS") else {
        return all.iter().collect();
    };
    let parts: Vec<&str> = filter
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let picked: Vec<&'static Variant> = all
        .iter()
        .filter(|v| parts.iter().any(|p| v.name().contains(p)))
        .collect();
    assert!(
        !picked.is_empty(),
        "SIMDCONV_VARIANTS={filter:?} selects no registered variant"
    );
    println!(
        "SIMDCONV_VARIANTS={filter:?}: {} of {} variants",
        picked.len(),
        all.len()
    );
    picked
}
