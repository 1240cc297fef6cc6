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
                    let err = reference::max_relative_error(&y, &want, &mag);
                    assert!(
                        err <= reference::tolerance(&s, v.algorithm()),
                        "{} on {s} with {act:?}: {err:e}",
                        v.name()
                    );
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
