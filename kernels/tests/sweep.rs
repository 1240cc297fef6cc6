//! The correctness sweep, one named test per registry row and case family (as XNNPACK and
//! tract generate a suite per kernel): `direct-avx2-6x16/sweep`, `direct-avx2-6x16/channel_tails`,
//! `direct-avx2-6x16/tiny`. Each checks the variant against `reference` on every shape of its
//! family that it supports, with every activation, with and without bias. A row this CPU cannot
//! run is listed as ignored with the reason.
//!
//! `cargo test -p simdconv --test sweep -- direct-avx2` runs one variant's tests by name;
//! `SIMDCONV_VARIANTS=NAME[,NAME]` narrows the registry the same way for every test file.
//! The references are computed once per problem and shared by every variant's test.

mod common;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use common::{selected, shape, sweep, Case, ACTIVATIONS};
use libtest_mimic::{Arguments, Completion, Trial};
use simdconv::{Algorithm, Variant};

/// One case family: its test-name suffix, whether Miri skips it, and whether a variant takes part.
struct Family {
    name: &'static str,
    skip_under_miri: bool,
    applies: fn(&Variant) -> bool,
    run: fn(&'static Variant) -> Result<(), String>,
}

const FAMILIES: [Family; 3] = [
    Family {
        name: "sweep",
        skip_under_miri: true,
        applies: |_| true,
        run: sweep_one,
    },
    Family {
        name: "channel_tails",
        skip_under_miri: true,
        applies: |v| TAIL_ALGORITHMS.contains(&v.algorithm()),
        run: tails_one,
    },
    Family {
        name: "tiny",
        skip_under_miri: false,
        applies: |v| !cfg!(miri) || first_point_set(v.algorithm()),
        run: tiny_one,
    },
];

/// Worst error over tolerance seen per algorithm in the sweep (for the summary line).
static WORST: Mutex<BTreeMap<&'static str, f64>> = Mutex::new(BTreeMap::new());

fn main() {
    let mut args = Arguments::from_args();
    if cfg!(miri) {
        args.test_threads = Some(1);
    }
    let mut trials = Vec::new();
    for v in selected() {
        for f in FAMILIES.iter().filter(|f| (f.applies)(v)) {
            let run = f.run;
            let name = format!("{}/{}", v.name(), f.name);
            let trial = Trial::ignorable_test(name, move || {
                if !v.is_available() {
                    return Ok(Completion::ignored_with(format!(
                        "no {} on this CPU",
                        v.isa()
                    )));
                }
                run(v)?;
                Ok(Completion::Completed)
            });
            trials.push(trial.with_ignored_flag(cfg!(miri) && f.skip_under_miri));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    for (alg, w) in WORST.lock().unwrap().iter() {
        println!("worst error / ((L+2) 2^-24 M) in the sweep for {alg}: {w:.3}");
    }
    conclusion.exit();
}

/// Checks `v` on every case it supports; an error lists every failure. A family in which the
/// variant supports nothing fails: a registered row must be tested somewhere.
fn check_all<'a>(
    v: &'static Variant,
    cases: impl IntoIterator<Item = &'a Case>,
) -> Result<f64, String> {
    let (mut ran, mut worst, mut failures) = (0, 0.0f64, Vec::new());
    for case in cases {
        if v.supports(case.shape()).is_err() {
            continue;
        }
        ran += 1;
        match case.check(v) {
            Ok(c) => worst = worst.max(c.err / (c.tol / tol_factor(v.algorithm()))),
            Err(e) => failures.push(e),
        }
    }
    if ran == 0 {
        return Err(format!("{} supports no case of this family", v.name()));
    }
    if !failures.is_empty() {
        return Err(format!(
            "{} of {ran} cases failed:\n{}",
            failures.len(),
            failures.join("\n")
        ));
    }
    Ok(worst)
}

/// Every sweep shape with 4 activations x bias on/off: 8 cases per shape.
fn sweep_cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let shapes = sweep();
        assert!(shapes.len() >= 40, "the sweep has {} shapes", shapes.len());
        let mut out = Vec::new();
        for (i, s) in shapes.iter().enumerate() {
            for (j, &act) in ACTIVATIONS.iter().enumerate() {
                for bias in [false, true] {
                    let seed = (i * 8 + j * 2 + bias as usize) as u64;
                    out.push(
                        Case::new(s, act, bias, seed)
                            .unwrap_or_else(|e| panic!("reference on {s}: {e}")),
                    );
                }
            }
        }
        out
    })
}

fn sweep_one(v: &'static Variant) -> Result<(), String> {
    let worst = check_all(v, sweep_cases())?;
    let mut w = WORST.lock().unwrap();
    let e = w.entry(v.algorithm().name()).or_insert(0.0);
    *e = e.max(worst);
    Ok(())
}

fn tol_factor(a: Algorithm) -> f64 {
    match a {
        Algorithm::Winograd(t) => simdconv::reference::winograd_factor(t),
        _ => 1.0,
    }
}

/// The algorithms whose vector paths have channel tails of their own.
const TAIL_ALGORITHMS: [Algorithm; 3] = [
    Algorithm::Direct,
    Algorithm::Pointwise,
    Algorithm::Depthwise,
];

/// Every C and K from 1 to 33 (K = C for depthwise): every channel-tail path of every vector
/// width, per algorithm.
fn tail_cases(alg: Algorithm) -> &'static [Case] {
    static CASES: [OnceLock<Vec<Case>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = TAIL_ALGORITHMS.iter().position(|&a| a == alg).unwrap();
    CASES[slot].get_or_init(|| {
        let mut out = Vec::new();
        for c in 1..=33 {
            let ks: Vec<usize> = if alg == Algorithm::Depthwise {
                vec![c]
            } else {
                (1..=33).collect()
            };
            for k in ks {
                let b = match alg {
                    Algorithm::Pointwise => shape(1, 3, 5, c, k, 1, 1),
                    Algorithm::Depthwise => shape(1, 5, 6, c, k, 3, 3).pad(1).groups(c),
                    _ => shape(1, 4, 5, c, k, 3, 3).pad(1),
                };
                let s = b.build().unwrap();
                let act = ACTIVATIONS[(c + k) % 4];
                out.push(
                    Case::new(&s, act, (c + k) % 2 == 0, (c * 64 + k) as u64)
                        .unwrap_or_else(|e| panic!("reference on {s}: {e}")),
                );
            }
        }
        out
    })
}

fn tails_one(v: &'static Variant) -> Result<(), String> {
    check_all(v, tail_cases(v.algorithm())).map(drop)
}

/// Whether `a` is not a Winograd tile, or the first point set of its tile size. Under Miri the
/// others are left out: the points are constants of the same code, whose memory accesses are
/// what Miri checks (the sweep runs every point set against the reference).
fn first_point_set(a: Algorithm) -> bool {
    match a {
        Algorithm::Winograd(t) => simdconv::WinogradTile::ALL
            .iter()
            .find(|o| o.m() == t.m())
            .is_some_and(|&o| o == t),
        _ => true,
    }
}

/// A few tiny shapes: cheap enough for Miri, still every code path kind (full vectors, channel
/// tails, padding, stride, dilation, depthwise, Winograd tiles, grouped, the row copy).
fn tiny_cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let shapes = [
            shape(1, 3, 4, 17, 9, 3, 3).pad(1),
            shape(1, 2, 3, 5, 18, 1, 1),
            shape(1, 4, 3, 19, 19, 3, 3).stride(2).pad(1).groups(19),
            shape(1, 5, 5, 3, 4, 3, 3).dilation(2).pad(2),
            // Interior Winograd tiles (F2, F4 and F6), full vectors and tails of the 8-lane
            // ISAs: the transforms' unchecked paths.
            shape(1, 8, 8, 9, 9, 3, 3),
            // Depthwise rows wide enough for the window path, one row pair and one single row,
            // at vertical stride 1 and 2.
            shape(1, 3, 7, 10, 10, 3, 3).pad(1).groups(10),
            shape(1, 5, 11, 10, 10, 3, 3).stride(2).pad(1).groups(10),
            // Grouped: direct and im2col group by group.
            shape(1, 3, 4, 8, 12, 3, 3).pad(1).groups(2),
            // Twelve rows 4 KiB apart (stride 2 over 512 channels): tiles of more than 8 rows
            // copy them before use.
            shape(1, 6, 8, 512, 8, 1, 1).stride(2),
        ];
        shapes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let s = b.build().unwrap();
                Case::new(&s, ACTIVATIONS[i % 4], i % 2 == 0, i as u64).unwrap()
            })
            .collect()
    })
}

fn tiny_one(v: &'static Variant) -> Result<(), String> {
    check_all(v, tiny_cases()).map(drop)
}
