//! Shared test helpers: seeded data, running one variant against the reference.
#![allow(dead_code)]

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simdconv::{reference, Activation, ConvShape, Padding, Variant};

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

/// One seeded problem and its reference output, computed once and checked against any number
/// of variants (the f64 reference costs more than most variants' runs, most of all under Miri).
pub struct Case {
    shape: ConvShape,
    act: Activation,
    input: Vec<f32>,
    weights: Vec<f32>,
    bias: Option<Vec<f32>>,
    want: Vec<f32>,
    mag: Vec<f64>,
}

impl Case {
    pub fn new(
        shape: &ConvShape,
        act: Activation,
        with_bias: bool,
        seed: u64,
    ) -> Result<Case, String> {
        let input = data(shape.input_len(), seed);
        let weights = data(shape.weights_len(), seed ^ 0x5eed);
        let bias = with_bias.then(|| data(shape.k(), seed ^ 0xb1a5));
        let (want, mag) =
            reference::conv_with_magnitude(shape, &input, &weights, bias.as_deref(), act)
                .map_err(|e| e.to_string())?;
        Ok(Case {
            shape: *shape,
            act,
            input,
            weights,
            bias,
            want,
            mag,
        })
    }

    /// The problem's shape.
    pub fn shape(&self) -> &ConvShape {
        &self.shape
    }

    /// Runs `v` on misaligned buffers and compares with the reference within
    /// [`reference::tolerance`].
    pub fn check(&self, v: &'static Variant) -> Result<Checked, String> {
        let (shape, act) = (&self.shape, self.act);
        let with_bias = self.bias.is_some();
        let mut plan = v
            .plan(shape, &self.weights, self.bias.as_deref(), act)
            .map_err(|e| format!("{}: plan failed on {shape}: {e}", v.name()))?;
        let inbuf = misaligned(&self.input);
        let mut outbuf = misaligned(&vec![f32::NAN; shape.output_len()]);
        plan.run(&inbuf[1..], &mut outbuf[1..])
            .map_err(|e| format!("{}: run failed on {shape}: {e}", v.name()))?;
        assert!(
            outbuf[0].is_nan(),
            "{} wrote before its output slice",
            v.name()
        );
        let err = reference::max_relative_error(&outbuf[1..], &self.want, &self.mag);
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

/// Shapes chosen to break kernels: channel counts off the vector width, images smaller than any
/// register block, 1x1 images, strides 2 and 3, dilation, asymmetric and oversized padding,
/// batches of 2 and 3, depthwise, pointwise and Winograd-eligible shapes.
pub fn sweep() -> Vec<ConvShape> {
    let mut v = Vec::new();
    // C and K of 1, 3, 7, 8, 9, 17, 31, 64 on 3x3 pad 1 (Winograd-eligible).
    for &(c, k) in &[
        (1, 1),
        (3, 7),
        (7, 3),
        (8, 8),
        (9, 17),
        (17, 9),
        (31, 64),
        (64, 31),
        (64, 64),
    ] {
        v.push(shape(1, 7, 9, c, k, 3, 3).pad(1));
    }
    v.extend([
        // W smaller than any register block; 1x1 images.
        shape(1, 3, 2, 5, 6, 3, 3).pad(1),
        shape(1, 1, 1, 9, 17, 1, 1),
        shape(1, 1, 1, 4, 3, 3, 3).pad(1),
        shape(2, 1, 1, 33, 5, 1, 1),
        // Winograd tiles that do not divide the output.
        shape(1, 5, 11, 4, 5, 3, 3),
        shape(1, 13, 6, 8, 16, 3, 3).pad(1),
        shape(3, 9, 9, 3, 4, 3, 3).padding(Padding {
            top: 0,
            left: 2,
            bottom: 1,
            right: 0,
        }),
        // Strides 2 and 3, dilation 2.
        shape(1, 11, 12, 5, 7, 3, 3).stride(2).pad(1),
        shape(1, 14, 13, 3, 8, 5, 5).stride(3).pad(2),
        shape(1, 12, 12, 6, 5, 3, 3).dilation(2).pad(2),
        shape(2, 10, 9, 4, 9, 3, 2)
            .stride_hw(2, 1)
            .dilation_hw(1, 2),
        // Asymmetric padding; padding larger than the kernel's half.
        shape(1, 6, 7, 3, 5, 3, 3).padding(Padding {
            top: 2,
            left: 0,
            bottom: 0,
            right: 1,
        }),
        shape(1, 5, 5, 2, 3, 3, 3).pad(3),
        shape(1, 4, 6, 8, 8, 5, 5).padding(Padding {
            top: 4,
            left: 1,
            bottom: 3,
            right: 4,
        }),
        // Batches of 2 and 3; stem-like 7x7 stride 2; 5x5.
        shape(2, 6, 6, 17, 9, 3, 3).pad(1),
        shape(3, 5, 4, 9, 31, 1, 1),
        shape(1, 16, 16, 3, 16, 7, 7).stride(2).pad(3),
        shape(1, 9, 9, 8, 16, 5, 5).pad(2),
        shape(1, 8, 8, 64, 17, 1, 1),
        shape(1, 5, 5, 31, 33, 1, 1),
        // Rectangular kernels.
        shape(1, 6, 8, 4, 4, 1, 3).padding(Padding {
            top: 0,
            left: 1,
            bottom: 0,
            right: 1,
        }),
        shape(1, 8, 6, 4, 4, 3, 1).padding(Padding {
            top: 1,
            left: 0,
            bottom: 1,
            right: 0,
        }),
        // Depthwise: 3x3, 5x5, stride 2, dilation, odd channel counts, border-only images.
        shape(1, 9, 11, 17, 17, 3, 3).pad(1).groups(17),
        // Stride 2 (and 2x1) wide enough for the window path, rows paired, an odd last row.
        shape(1, 13, 22, 24, 24, 3, 3).stride(2).pad(1).groups(24),
        shape(2, 11, 12, 20, 20, 3, 3)
            .stride_hw(2, 1)
            .pad(1)
            .groups(20),
        shape(1, 8, 8, 32, 32, 3, 3).stride(2).pad(1).groups(32),
        shape(2, 7, 7, 9, 9, 5, 5).pad(2).groups(9),
        shape(1, 6, 10, 1, 1, 3, 3).dilation(2).pad(2).groups(1),
        shape(1, 3, 2, 40, 40, 3, 3).pad(1).groups(40),
        shape(1, 10, 10, 7, 7, 3, 3)
            .stride(3)
            .padding(Padding {
                top: 0,
                left: 2,
                bottom: 1,
                right: 0,
            })
            .groups(7),
        shape(1, 12, 12, 24, 24, 7, 7).pad(3).groups(24),
        shape(3, 5, 5, 16, 16, 3, 3).pad(1).groups(16),
        shape(1, 4, 4, 33, 33, 5, 5).pad(4).groups(33),
        shape(1, 6, 5, 8, 8, 3, 3).groups(8),
        // Depthwise rows wide enough for the register-blocked window path: several blocks and a
        // shifted last one, 1-4 full vectors of every ISA plus tails, both strides, 3x3 and 5x5,
        // no / symmetric / asymmetric padding.
        shape(1, 5, 23, 40, 40, 3, 3).pad(1).groups(40),
        shape(1, 6, 21, 48, 48, 3, 3)
            .stride_hw(1, 2)
            .pad(1)
            .groups(48),
        shape(1, 4, 13, 33, 33, 3, 3).groups(33),
        shape(1, 6, 17, 24, 24, 5, 5).pad(2).groups(24),
        // More than one 64-channel group (the one-vector window path walks the row per group),
        // the last group partial, plus a channel tail.
        shape(1, 6, 9, 84, 84, 3, 3).pad(1).groups(84),
        shape(1, 7, 11, 76, 76, 3, 3).stride(2).pad(1).groups(76),
        shape(1, 9, 19, 72, 72, 5, 5)
            .stride(2)
            .padding(Padding {
                top: 1,
                left: 2,
                bottom: 0,
                right: 1,
            })
            .groups(72),
        // Grouped (not depthwise): direct and im2col, group by group. ResNeXt's 32 groups of 4,
        // a stride-2 one, groups wider than a register tile (K/groups = 20, 40), a grouped 1x1,
        // and padding wider than the kernel's half.
        shape(1, 6, 6, 8, 12, 3, 3).pad(1).groups(4),
        shape(1, 7, 7, 128, 128, 3, 3).pad(1).groups(32),
        shape(2, 9, 8, 64, 64, 3, 3).stride(2).pad(1).groups(32),
        shape(1, 5, 6, 24, 40, 3, 3).pad(1).groups(2),
        shape(1, 4, 5, 18, 120, 5, 5).pad(3).groups(3),
        shape(1, 6, 5, 16, 32, 1, 1).groups(8),
        // Rows 4 KiB apart (C = 1024, or stride 2 over 512): tiles of more than 8 rows copy them
        // first, per k block (two for AVX2's 12x8), with a row tail; 1x1, 3x3 and strided.
        shape(1, 3, 5, 1024, 12, 1, 1),
        shape(1, 4, 4, 1024, 9, 3, 3).pad(1),
        shape(1, 6, 9, 512, 17, 1, 1).stride(2),
    ]);
    v.into_iter()
        .map(|b| b.build().expect("sweep shapes are valid"))
        .collect()
}

/// The f32 sweep's shapes plus the ones the low-precision (int8, bf16) GEMM must handle: channels
/// per group off the dot product's 4 or 2, stride 2, ResNeXt's 32 groups, patchify, 7x7, 1x7.
#[allow(dead_code)]
pub fn lowp_shapes() -> Vec<ConvShape> {
    let mut v = sweep();
    let extra = [
        shape(1, 9, 7, 6, 4, 3, 3).pad(1).groups(2),
        shape(2, 8, 8, 16, 8, 3, 3).stride(2).pad(1).groups(4),
        shape(1, 10, 10, 128, 128, 3, 3).stride(2).pad(1).groups(32),
        shape(1, 7, 7, 64, 64, 3, 3).pad(1).groups(32),
        shape(1, 12, 12, 5, 11, 2, 2).stride(2),
        shape(1, 8, 8, 16, 24, 4, 4).stride(4),
        shape(1, 9, 9, 8, 8, 7, 7).pad(3).groups(8),
        shape(1, 6, 9, 12, 20, 1, 7).padding(Padding {
            top: 0,
            left: 3,
            bottom: 0,
            right: 3,
        }),
    ];
    v.extend(extra.into_iter().map(|b| b.build().unwrap()));
    v
}

/// Layers above the split threshold (twice the grain), of every kind the drivers split.
#[allow(dead_code)]
pub fn big_shapes() -> Vec<ConvShape> {
    [
        shape(1, 28, 28, 64, 64, 3, 3).pad(1),
        shape(1, 28, 28, 36, 100, 1, 1),
        shape(1, 56, 56, 128, 128, 3, 3).stride(2).pad(1).groups(32),
        shape(1, 64, 64, 64, 64, 3, 3).pad(1).groups(64),
        shape(2, 100, 100, 40, 40, 5, 5).stride(2).pad(2).groups(40),
    ]
    .into_iter()
    .map(|b| b.build().unwrap())
    .collect()
}

/// A case family's check of one low-precision row.
#[allow(dead_code)]
pub type LowpFamily = fn(&'static simdconv::LowpVariant) -> Result<(), String>;

/// Runs one named test per low-precision row and family (`<row>/<family>`); a row this CPU cannot
/// run is listed as ignored with the reason.
#[allow(dead_code)]
pub fn run_lowp_trials(rows: &'static [simdconv::LowpVariant], families: &[(&str, LowpFamily)]) {
    use libtest_mimic::{Arguments, Completion, Trial};
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for v in rows {
        for &(fam, run) in families {
            trials.push(Trial::ignorable_test(
                format!("{}/{fam}", v.name()),
                move || {
                    if !v.is_available() {
                        return Ok(Completion::ignored_with(format!(
                            "no {} on this CPU",
                            v.isa_label()
                        )));
                    }
                    run(v)?;
                    Ok(Completion::Completed)
                },
            ));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

/// Runs `check(i, shape, pool)` on each big shape `v` supports with a 3-thread pool (the
/// `parallel` family of the low-precision suites); an error when it supports none. Skipped under
/// Miri (the data-race check of the parallel drivers is `tests/parallel.rs`).
#[allow(dead_code)]
pub fn on_big_shapes(
    v: &simdconv::LowpVariant,
    mut check: impl FnMut(usize, &ConvShape, &simdconv::rayon::ThreadPool) -> Result<(), String>,
) -> Result<(), String> {
    if cfg!(miri) {
        return Ok(());
    }
    let pool = simdconv::rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .map_err(|e| e.to_string())?;
    let mut ran = 0;
    for (i, s) in big_shapes().iter().enumerate() {
        if v.supports(s).is_ok() {
            assert!(s.flops() as f64 >= 2.0 * simdconv::DEFAULT_GRAIN_FLOPS);
            ran += 1;
            check(i, s, &pool)?;
        }
    }
    if ran == 0 {
        return Err(format!("{} supports no big shape", v.name()));
    }
    Ok(())
}
