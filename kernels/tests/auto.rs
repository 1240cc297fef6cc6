//! `auto`: never an unsupported pick, the measured best on a synthetic map, the cost model
//! without one, the accuracy budget and the ISA list respected, the map's file checked.

mod common;

use simdconv::auto::{self, AutoOptions, Source, TunedLayer, TunedTime, TuningMap};
use simdconv::{reference, variants, Activation, Algorithm, ConvError, ConvPlan, ConvShape, Isa};

fn shape(hw: usize, c: usize, k: usize, rs: usize, stride: usize, groups: usize) -> ConvShape {
    ConvShape::builder(1, hw, hw, c, k, rs, rs)
        .stride(stride)
        .pad(rs / 2)
        .groups(groups)
        .build()
        .unwrap()
}

fn shapes() -> Vec<ConvShape> {
    vec![
        shape(14, 32, 32, 3, 1, 1),
        shape(7, 64, 48, 3, 1, 1),
        shape(9, 5, 7, 3, 2, 1),
        ConvShape::builder(1, 12, 12, 16, 24, 1, 1).build().unwrap(),
        shape(11, 3, 8, 7, 2, 1),
        shape(10, 24, 24, 3, 1, 24),
        shape(9, 16, 16, 5, 2, 16),
        shape(8, 8, 12, 5, 1, 1),
    ]
}

/// A map in which, at every layer, `fast` takes 1 us and every other candidate 2 us or more.
fn map_favouring(fast: &str, layers: &[(&str, ConvShape)]) -> TuningMap {
    let mut map = TuningMap::new("test-cpu");
    for (name, s) in layers {
        let times = variants()
            .iter()
            .filter(|v| v.is_available() && v.supports(s).is_ok())
            .enumerate()
            .map(|(i, v)| {
                let t = if v.name() == fast {
                    1000.0
                } else {
                    2000.0 + i as f64
                };
                TunedTime {
                    variant: v.name().into(),
                    time_ns: simdconv::Interval {
                        point: t,
                        lower: t - 10.0,
                        upper: t + 10.0,
                    },
                    samples: 5,
                }
            })
            .collect();
        map.layers.push(TunedLayer {
            name: (*name).into(),
            shape: simdconv::ShapeRecord::of(s),
            times,
        });
    }
    map
}

#[test]
fn never_an_unsupported_pick() {
    let isa_lists = [
        None,
        Some(vec![Isa::Scalar]),
        Some(vec![Isa::Portable, Isa::Scalar]),
    ];
    for s in shapes() {
        for isas in &isa_lists {
            let opts = AutoOptions {
                isas: isas.clone(),
                ..AutoOptions::default()
            };
            let c = auto::choose(&s, &opts).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert!(
                c.variant.supports(&s).is_ok(),
                "{s:?}: {}",
                c.variant.name()
            );
            assert!(c.variant.is_available());
            if let Some(l) = isas {
                assert!(l.contains(&c.variant.isa()), "{}", c.variant.name());
            }
            assert_eq!(c.source, Source::CostModel);
        }
    }
}

#[test]
fn a_shape_no_variant_computes_is_an_error_not_a_panic() {
    // An error budget below every algorithm's bound leaves no candidate.
    let s = shape(8, 16, 16, 3, 1, 4);
    let opts = AutoOptions {
        max_relative_error: Some(1e-12),
        ..AutoOptions::default()
    };
    match auto::choose(&s, &opts) {
        Err(ConvError::NoCandidate { reason }) => {
            assert!(reason.contains("max_relative_error"), "{reason}")
        }
        other => panic!("expected NoCandidate, got {other:?}"),
    }
    let w = vec![0.0; s.weights_len()];
    assert!(ConvPlan::auto(&s, &w, None, Activation::None, &opts).is_err());
}

#[test]
fn grouped_shapes_plan_with_a_gemm_class_algorithm() {
    // ResNeXt-like (1 < groups < C): direct or im2col, group by group.
    let s = shape(8, 16, 16, 3, 1, 4);
    let c = auto::choose(&s, &AutoOptions::default()).unwrap();
    assert!(
        matches!(c.variant.algorithm(), Algorithm::Direct | Algorithm::Im2col),
        "{}",
        c.variant.name()
    );
    // Depthwise shapes are the depthwise kernels', not 1-column GEMMs per channel.
    let dw = shape(16, 32, 32, 3, 1, 32);
    assert_eq!(
        auto::choose(&dw, &AutoOptions::default())
            .unwrap()
            .variant
            .algorithm(),
        Algorithm::Depthwise
    );
    for alg in [Algorithm::Direct, Algorithm::Im2col] {
        let e = alg.supports(&dw).unwrap_err().to_string();
        assert!(e.contains("groups = c = k = 32"), "{e}");
    }
}

#[test]
fn picks_the_measured_best_on_a_synthetic_map() {
    let s = shape(14, 32, 32, 3, 1, 1);
    for fast in auto::candidates(&s, &AutoOptions::default()).unwrap() {
        let map = map_favouring(fast.name(), &[("exact", s)]);
        let c = auto::choose(&s, &AutoOptions::default().with_map(map)).unwrap();
        assert_eq!(c.variant.name(), fast.name());
        assert!(matches!(c.source, Source::Map { .. }));
    }
    // A shape between measured layers takes their common winner.
    let layers = [
        ("a", shape(14, 32, 32, 3, 1, 1)),
        ("b", shape(28, 32, 32, 3, 1, 1)),
        ("c", shape(14, 64, 64, 3, 1, 1)),
    ];
    let fast = auto::pick_tile(&layers[0].1, Algorithm::Im2col, Isa::Scalar).unwrap();
    let map = map_favouring(fast.name(), &layers);
    let q = shape(20, 48, 40, 3, 1, 1);
    let c = auto::choose(&q, &AutoOptions::default().with_map(map.clone())).unwrap();
    assert_eq!(c.variant.name(), fast.name());
    let Source::Map { neighbours } = &c.source else {
        panic!("expected the map")
    };
    assert_eq!(neighbours.len(), 3);
    assert!(c.to_string().contains("tuning map"));
    // Deterministic.
    let again = auto::choose(&q, &AutoOptions::default().with_map(map)).unwrap();
    assert_eq!(again.variant.name(), c.variant.name());
}

#[test]
fn falls_back_to_the_cost_model_without_a_layer_of_the_kind() {
    // The map holds 3x3 layers only: a 1x1 and a depthwise query use the cost model.
    let s3 = shape(14, 32, 32, 3, 1, 1);
    let map = map_favouring("none-of-them", &[("a", s3)]);
    let opts = AutoOptions::default().with_map(map);
    for q in [
        ConvShape::builder(1, 12, 12, 16, 24, 1, 1).build().unwrap(),
        shape(10, 24, 24, 3, 1, 24),
    ] {
        let c = auto::choose(&q, &opts).unwrap();
        assert_eq!(c.source, Source::CostModel, "{q:?}");
        assert!(c.variant.supports(&q).is_ok());
    }
}

#[test]
fn accuracy_budget_excludes_winograd_tiles_over_it() {
    let s = shape(14, 32, 32, 3, 1, 1);
    let f4 = variants()
        .iter()
        .find(|v| v.algorithm() == Algorithm::Winograd(simdconv::WinogradTile::F4x4_3x3Half))
        .unwrap();
    let map = map_favouring(f4.name(), &[("exact", s)]);
    let direct_bound = reference::tolerance(&s, Algorithm::Direct);
    let f2_bound = reference::tolerance(&s, Algorithm::Winograd(simdconv::WinogradTile::F2x2_3x3));
    // Unbounded: F2, F4 with {0, -1, 1, 1/2, -2} and F6 with {0, ±1, ±2, ±1/2}, the most
    // accurate point set of each tile size, and the rest.
    for (budget, allowed) in [
        (None, 4),
        (Some(f2_bound * 1.01), 2),
        (Some(direct_bound * 1.01), 1),
    ] {
        let opts = AutoOptions {
            max_relative_error: budget,
            ..AutoOptions::default().with_map(map.clone())
        };
        let c = auto::choose(&s, &opts).unwrap();
        let kinds = auto::candidates(&s, &opts).unwrap();
        let wino = kinds
            .iter()
            .filter_map(|v| match v.algorithm() {
                Algorithm::Winograd(t) => Some(t),
                _ => None,
            })
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(wino.len() + 1, allowed, "budget {budget:?}");
        let bound = reference::tolerance(&s, c.variant.algorithm());
        assert!(budget.is_none_or(|b| bound <= b), "{}", c.variant.name());
    }
    let opts = AutoOptions {
        max_relative_error: Some(direct_bound / 2.0),
        ..AutoOptions::default()
    };
    assert!(matches!(
        auto::choose(&s, &opts),
        Err(ConvError::NoCandidate { .. })
    ));
}

#[test]
fn auto_plans_compute_the_convolution() {
    for s in shapes() {
        let (w, x) = (
            common::data(s.weights_len(), 1),
            common::data(s.input_len(), 2),
        );
        let mut plan = ConvPlan::auto(&s, &w, None, Activation::None, &AutoOptions::default())
            .unwrap_or_else(|e| panic!("{s:?}: {e}"));
        let mut y = vec![0.0; s.output_len()];
        plan.run(&x, &mut y).unwrap();
        let (want, mag) =
            reference::conv_with_magnitude(&s, &x, &w, None, Activation::None).unwrap();
        let err = reference::max_relative_error(&y, &want, &mag);
        let tol = reference::tolerance(&s, plan.algorithm());
        assert!(err <= tol, "{}: {err} > {tol}", plan.variant_name());
    }
}

#[test]
fn map_files_are_checked() {
    let s = shape(14, 32, 32, 3, 1, 1);
    let map = map_favouring("x", &[("a", s)]);
    let text = serde_json::to_string(&map).unwrap();
    assert_eq!(TuningMap::from_json(&text).unwrap(), map);
    let other = text.replace("simdconv-tuning/2", "simdconv-tuning/0");
    let e = TuningMap::from_json(&other).unwrap_err().to_string();
    assert!(e.contains("schema"), "{e}");
    let bad = text.replace("\"groups\":1", "\"groups\":0");
    let e = TuningMap::from_json(&bad).unwrap_err().to_string();
    assert!(e.contains("groups"), "{e}");
    let e = TuningMap::read(std::path::Path::new("/nonexistent/tuning.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/tuning.json"), "{e}");
}

#[test]
#[cfg(target_pointer_width = "64")]
fn huge_shapes_are_picked_without_overflow() {
    // 2^52 images of 8x8x1 -> 1, 1x1: a valid shape (no buffer of it will ever exist) whose
    // padded GEMM size overflows usize; the old tile choice panicked here with overflow checks.
    let s = ConvShape::builder(1 << 52, 8, 8, 1, 1, 1, 1)
        .build()
        .unwrap();
    let c = auto::choose(&s, &AutoOptions::default()).unwrap();
    assert!(c.variant.supports(&s).is_ok());
    for v in variants().iter().filter(|v| v.supports(&s).is_ok()) {
        let p = auto::gemm_padding(&s, v).unwrap_or(1.0);
        assert!(p.is_finite() && p >= 1.0, "{}: {p}", v.name());
        let isa = v.isa();
        assert!(auto::pick_tile(&s, v.algorithm(), isa).is_some());
    }
}

/// Maps whose numbers would decide every pick (absurd ceilings or times, a layer or a variant
/// twice) are refused with the entry named; devices are not read as maps.
#[test]
fn implausible_maps_are_refused() {
    let s = shape(14, 32, 32, 3, 1, 1);
    let mut map = map_favouring("x", &[("a", s)]);
    let ok = serde_json::to_string(&map).unwrap();
    assert!(TuningMap::from_json(&ok).is_ok());
    for g in [0.0, -5.0, 1e-300, 1e12] {
        map.ceilings = Some(auto::Ceilings {
            peak_gflops: vec![("avx2".into(), g)],
            bandwidth: vec![(1 << 20, 50.0)],
        });
        let e = TuningMap::from_json(&serde_json::to_string(&map).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("peak_gflops[avx2]"), "{g}: {e}");
    }
    map.ceilings = None;
    for t in [1e308, 5e-324, 0.0] {
        let mut m = map.clone();
        m.layers[0].times[0].time_ns = simdconv::Interval {
            point: t,
            lower: t,
            upper: t,
        };
        let e = TuningMap::from_json(&serde_json::to_string(&m).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("time_ns"), "{t}: {e}");
    }
    let mut twice = map.clone();
    twice.layers.push(twice.layers[0].clone());
    let e = TuningMap::from_json(&serde_json::to_string(&twice).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("appears twice"), "{e}");
    if std::path::Path::new("/dev/zero").exists() {
        let e = TuningMap::read(std::path::Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}

/// Options that would silently mean "no budget", "nothing" or "scalar everywhere" are errors
/// that name the field.
#[test]
fn invalid_auto_options_name_the_field() {
    let s = shape(14, 32, 32, 3, 1, 1);
    let field = |opts: AutoOptions| match auto::choose(&s, &opts) {
        Err(ConvError::InvalidOption { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    for e in [f64::NAN, f64::INFINITY, 0.0, -1.0] {
        let opts = AutoOptions {
            max_relative_error: Some(e),
            ..AutoOptions::default()
        };
        assert_eq!(field(opts), "max_relative_error", "{e}");
    }
    let opts = AutoOptions {
        isas: Some(vec![]),
        ..AutoOptions::default()
    };
    assert_eq!(field(opts), "isas");
    let opts = AutoOptions {
        ceilings: Some(auto::Ceilings {
            peak_gflops: vec![("avx2".into(), f64::NAN)],
            bandwidth: vec![(1 << 20, 50.0)],
        }),
        ..AutoOptions::default()
    };
    assert_eq!(field(opts), "ceilings");
}

/// The cost model's near-ties go to the wider ISA: two ISAs of the same FMA peak (AVX-512 as two
/// 256-bit halves on Zen 4; scalar code that LLVM vectorises) are not equally fast, the wider
/// one issues fewer instructions. A clearly higher peak still wins.
#[test]
fn a_near_tie_in_the_cost_model_goes_to_the_wider_isa() {
    let pick = |isas: &[Isa], peaks: &[(&str, f64)], s: &ConvShape| {
        let opts = AutoOptions {
            isas: Some(isas.to_vec()),
            ceilings: Some(auto::Ceilings {
                peak_gflops: peaks.iter().map(|(n, g)| (n.to_string(), *g)).collect(),
                bandwidth: vec![(1 << 20, 200.0), (u64::MAX, 20.0)],
            }),
            ..AutoOptions::default()
        };
        auto::choose(s, &opts).unwrap().variant.isa()
    };
    let dw = shape(28, 192, 192, 3, 1, 192);
    let pw = shape(28, 64, 192, 1, 1, 1);
    for s in [&dw, &pw] {
        let pair = [Isa::Scalar, Isa::Portable];
        assert_eq!(
            pick(&pair, &[("scalar", 46.5), ("portable", 45.8)], s),
            Isa::Portable,
            "{s}"
        );
        assert_eq!(
            pick(&pair, &[("scalar", 46.5), ("portable", 20.0)], s),
            Isa::Scalar,
            "{s}"
        );
        if Isa::Avx512.is_available() {
            let pair = [Isa::Avx2, Isa::Avx512];
            let peaks = [("avx2", 117.2), ("avx512", 116.7)];
            assert_eq!(pick(&pair, &peaks, s), Isa::Avx512, "{s}");
        } else {
            eprintln!("skipped the AVX2/AVX-512 tie: this CPU has no AVX-512");
        }
    }
}
