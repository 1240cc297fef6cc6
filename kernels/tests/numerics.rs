//! Numerics: NaN and infinity propagate as the reference says; ReLU / ReLU6 / Clamp of NaN give
//! the lower bound in every variant (the x86 `maxps` rule, see `simdconv::Activation`); denormal
//! inputs stay within the tolerance.
//!
//! Winograd is the documented exception for non-finite inputs: its transforms mix a whole input
//! tile, so a NaN or infinity reaches every output of the tiles that read it (and an infinity can
//! become NaN). The test checks that it never *loses* a non-finite value and that tiles without
//! one match the reference.

mod common;

use common::data;
use simdconv::{reference, variants, Activation, Algorithm, ConvShape};

fn shapes() -> Vec<ConvShape> {
    vec![
        ConvShape::builder(1, 9, 10, 17, 19, 3, 3)
            .pad(1)
            .build()
            .unwrap(),
        ConvShape::builder(1, 6, 7, 33, 9, 1, 1).build().unwrap(),
        ConvShape::builder(1, 9, 8, 24, 24, 3, 3)
            .pad(1)
            .groups(24)
            .build()
            .unwrap(),
        ConvShape::builder(1, 11, 9, 5, 7, 5, 5)
            .stride(2)
            .pad(2)
            .build()
            .unwrap(),
    ]
}

fn poisoned(s: &ConvShape) -> Vec<f32> {
    let mut x = data(s.input_len(), 11);
    let n = x.len();
    x[n / 3] = f32::NAN;
    x[n / 2] = f32::INFINITY;
    x[2 * n / 3] = f32::NEG_INFINITY;
    x
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri")]
fn nan_and_infinity_propagate_like_the_reference() {
    for s in shapes() {
        let x = poisoned(&s);
        let w = data(s.weights_len(), 12);
        for act in [
            Activation::None,
            Activation::Relu,
            Activation::Relu6,
            Activation::Clamp {
                min: -1.0,
                max: 1.0,
            },
        ] {
            let (want, mag) = reference::conv_with_magnitude(&s, &x, &w, None, act).unwrap();
            assert!(
                want.iter().any(|v| !v.is_finite()) || act != Activation::None,
                "the poison reaches the output"
            );
            for v in variants()
                .iter()
                .filter(|v| v.is_available() && v.supports(&s).is_ok())
            {
                let mut plan = v.plan(&s, &w, None, act).unwrap();
                let mut y = vec![0.0; s.output_len()];
                plan.run(&x, &mut y).unwrap();
                if matches!(v.algorithm(), Algorithm::Winograd(_)) {
                    for (i, (&g, &r)) in y.iter().zip(&want).enumerate() {
                        if !r.is_finite() && act == Activation::None {
                            assert!(
                                !g.is_finite(),
                                "{} lost a non-finite value at {i}",
                                v.name()
                            );
                        }
                    }
                } else {
                    assert_within_tolerance(v, &s, act, &y, &want, &mag);
                }
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri")]
fn activations_map_nan_to_their_lower_bound_in_every_variant() {
    // Weights of one: every output whose receptive field holds the NaN is NaN before activation.
    let s = ConvShape::builder(1, 4, 4, 3, 5, 1, 1).build().unwrap();
    let mut x = data(s.input_len(), 1);
    x[0] = f32::NAN;
    let w = vec![1.0; s.weights_len()];
    for (act, lo) in [
        (Activation::Relu, 0.0),
        (Activation::Relu6, 0.0),
        (
            Activation::Clamp {
                min: -0.5,
                max: 0.5,
            },
            -0.5,
        ),
    ] {
        for v in variants()
            .iter()
            .filter(|v| v.is_available() && v.supports(&s).is_ok())
        {
            let mut plan = v.plan(&s, &w, None, act).unwrap();
            let mut y = vec![0.0; s.output_len()];
            plan.run(&x, &mut y).unwrap();
            for (ko, &yv) in y[..s.k()].iter().enumerate() {
                assert_eq!(
                    yv,
                    lo,
                    "{} {act:?}: output channel {ko} of the NaN pixel",
                    v.name()
                );
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri")]
fn denormal_inputs_stay_within_tolerance() {
    for s in shapes() {
        let x: Vec<f32> = data(s.input_len(), 5).iter().map(|v| v * 1e-39).collect();
        assert!(x.iter().any(|v| v.is_subnormal()));
        let w = data(s.weights_len(), 6);
        let (want, mag) =
            reference::conv_with_magnitude(&s, &x, &w, None, Activation::None).unwrap();
        for v in variants()
            .iter()
            .filter(|v| v.is_available() && v.supports(&s).is_ok())
        {
            let mut plan = v.plan(&s, &w, None, Activation::None).unwrap();
            let mut y = vec![0.0; s.output_len()];
            plan.run(&x, &mut y).unwrap();
            // Products of denormals and O(1) weights are denormal: f32 keeps fewer bits there, so
            // the bound is the absolute spacing of denormals times the reduction length.
            let l = s.reduction_len() as f32;
            for (i, (&g, &r)) in y.iter().zip(&want).enumerate() {
                let tol = reference::tolerance(&s, v.algorithm()) as f32 * mag[i] as f32
                    + l * f32::from_bits(1) * 4.0;
                assert!(
                    (g - r).abs() <= tol,
                    "{} on {s}: {g:e} vs {r:e} at {i}",
                    v.name()
                );
            }
        }
    }
}

/// `y` matches the reference within `v`'s tolerance (NaN where it is NaN).
fn assert_within_tolerance(
    v: &simdconv::Variant,
    s: &ConvShape,
    act: Activation,
    y: &[f32],
    want: &[f32],
    mag: &[f64],
) {
    let err = reference::max_relative_error(y, want, mag);
    assert!(
        err <= reference::tolerance(s, v.algorithm()),
        "{} on {s} with {act:?}: {err:e}",
        v.name()
    );
}

/// Runs `v` on `(s, x, w, bias)` with `act`.
fn run_variant(
    v: &'static simdconv::Variant,
    s: &ConvShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
) -> Vec<f32> {
    let mut plan = v.plan(s, w, bias, act).unwrap();
    let mut y = vec![0.0; s.output_len()];
    plan.run(x, &mut y).unwrap();
    y
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri")]
fn non_finite_weights_reach_only_the_outputs_that_use_them() {
    // The reference skips padding taps, so a NaN weight leaves finite the border outputs that
    // put padding under it; the fast drivers multiply padding zeros by it unless they fix the
    // border up. Winograd documents a wider spread: every output of the poisoned channel.
    for s in shapes() {
        let x = data(s.input_len(), 21);
        let mut w = data(s.weights_len(), 22);
        // A corner tap of channel 0 (padding under it at the top-left border) and an infinity
        // in the last channel's last tap.
        w[0] = f32::NAN;
        *w.last_mut().unwrap() = f32::INFINITY;
        let bias: Vec<f32> = (0..s.k()).map(|k| k as f32 * 0.1).collect();
        for act in [Activation::None, Activation::Relu] {
            let (want, mag) = reference::conv_with_magnitude(&s, &x, &w, Some(&bias), act).unwrap();
            let finite = want.iter().filter(|v| v.is_finite()).count();
            assert!(
                finite >= want.len() - want.len() / s.k() * 2 || act != Activation::None,
                "the reference keeps most outputs finite"
            );
            for v in variants()
                .iter()
                .filter(|v| v.is_available() && v.supports(&s).is_ok())
            {
                let y = run_variant(v, &s, &x, &w, Some(&bias), act);
                if matches!(v.algorithm(), Algorithm::Winograd(_)) {
                    // Channels 1..K-1 hold only finite weights: they match the reference.
                    for (i, (&g, &r)) in y.iter().zip(&want).enumerate() {
                        let ko = i % s.k();
                        if ko != 0 && ko != s.k() - 1 {
                            let e = (f64::from(g) - f64::from(r)).abs() / mag[i].max(1e-30);
                            assert!(
                                e <= reference::tolerance(&s, v.algorithm()) * 10.0,
                                "{}: finite channel {ko} at {i}: {g} vs {r}",
                                v.name()
                            );
                        } else if act == Activation::None {
                            assert!(!g.is_finite(), "{}: channel {ko} at {i}", v.name());
                        }
                    }
                    continue;
                }
                for (i, (&g, &r)) in y.iter().zip(&want).enumerate() {
                    assert_eq!(
                        g.is_finite(),
                        r.is_finite(),
                        "{} on {s} ({act:?}): output {i} (channel {}) is {g}, the reference {r}",
                        v.name(),
                        i % s.k()
                    );
                }
                assert_within_tolerance(v, &s, act, &y, &want, &mag);
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri")]
fn winograd_overflow_threshold_is_where_the_docs_say() {
    // Bound of the intermediates (standard points): F(2,3) |Y| <= 81 C max|x| max|w|, F(4,3)
    // |Y| <= 36100 C max|x| max|w| (row sums of B^T, G and A^T). Below half of f32::MAX every
    // output is finite and within tolerance; the reference overflows only above 9 C |x||w|.
    let s = ConvShape::builder(1, 10, 10, 8, 4, 3, 3)
        .pad(1)
        .build()
        .unwrap();
    let w = data(s.weights_len(), 31);
    let wmax = w.iter().fold(0f32, |a, &b| a.max(b.abs())) as f64;
    let base = data(s.input_len(), 32);
    let xmax = base.iter().fold(0f32, |a, &b| a.max(b.abs())) as f64;
    for v in variants().iter().filter(|v| {
        v.is_available()
            && v.supports(&s).is_ok()
            && matches!(v.algorithm(), Algorithm::Winograd(_))
    }) {
        let growth = match v.algorithm() {
            Algorithm::Winograd(t) => t.growth(),
            _ => unreachable!("Winograd rows only"),
        };
        let safe = f64::from(f32::MAX) / 2.0 / (growth * 8.0 * xmax * wmax);
        let x: Vec<f32> = base.iter().map(|&b| (f64::from(b) * safe) as f32).collect();
        let (want, mag) =
            reference::conv_with_magnitude(&s, &x, &w, None, Activation::None).unwrap();
        let y = run_variant(v, &s, &x, &w, None, Activation::None);
        assert!(
            y.iter().all(|v| v.is_finite()),
            "{} at scale {safe:e}",
            v.name()
        );
        let err = reference::max_relative_error(&y, &want, &mag);
        assert!(
            err <= reference::tolerance(&s, v.algorithm()),
            "{}: {err:e}",
            v.name()
        );
        // Inputs of 0.75 f32::MAX and tiny weights: the reference's sums stay finite, but the
        // input transform adds two such inputs (F2) or scales one by 4 (F4) and overflows.
        let x = vec![0.75 * f32::MAX; s.input_len()];
        let tiny: Vec<f32> = w.iter().map(|v| v * 1e-6).collect();
        let (want, _) =
            reference::conv_with_magnitude(&s, &x, &tiny, None, Activation::None).unwrap();
        assert!(want.iter().all(|v| v.is_finite()));
        let y = run_variant(v, &s, &x, &tiny, None, Activation::None);
        assert!(
            y.iter().any(|v| !v.is_finite()),
            "{}: finite where its input transform should overflow",
            v.name()
        );
    }
}
