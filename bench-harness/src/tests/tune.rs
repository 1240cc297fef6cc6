//! The tune's rules and evaluation on synthetic maps, and its pages.

use super::common;

use simdconv::auto::{pick_tile, TunedLayer, TunedTime, TuningMap};
use simdconv::{variants, Algorithm, Isa};
use simdconv_bench::schema::results::Settings;
use simdconv_bench::schema::tuning::Rule;
use simdconv_bench::schema::tuning::{TuneSettings, TuningFile};
use simdconv_bench::tune;
use simdconv_bench::tune::rules::{self, Context};

/// A map of `layers` where every variant of `fast` takes 1 us and the others 2 us or more.
fn file_favouring(fast: Algorithm, layers: &[simdconv_bench::schema::layer::Layer]) -> TuningFile {
    let m = common::machine();
    let mut map = TuningMap::new(&m.fingerprint());
    for l in layers {
        let s = l.shape().unwrap();
        let times = variants()
            .iter()
            .filter(|v| v.is_available() && v.supports(&s).is_ok())
            .enumerate()
            .map(|(i, v)| {
                let t = if v.algorithm() == fast {
                    1000.0
                } else {
                    2000.0 + i as f64
                };
                TunedTime {
                    variant: v.name().into(),
                    time_ns: simdconv::Interval {
                        point: t,
                        lower: t - 5.0,
                        upper: t + 5.0,
                    },
                    samples: 9,
                }
            })
            .collect();
        map.layers.push(TunedLayer {
            name: l.name.clone(),
            shape: simdconv::ShapeRecord::of(&s),
            times,
        });
    }
    map.ceilings = Some(m.ceilings());
    TuningFile {
        map,
        created_unix: 0,
        machine: m,
        settings: TuneSettings {
            budget_s: 1.0,
            isas: None,
            layers_planned: layers.len(),
            provenance: Settings::default(),
        },
        evaluation: None,
    }
}

fn grid_3x3() -> Vec<simdconv_bench::schema::layer::Layer> {
    tune::grid()
        .into_iter()
        .filter(|l| {
            let s = &l.shape;
            s.r == 3 && s.stride_h == 1 && s.groups == 1 && s.h <= 28 && s.c <= 256
        })
        .collect()
}

#[test]
fn every_rule_picks_a_supported_variant_on_every_layer() {
    let ctx = Context {
        map: std::sync::Arc::new(TuningMap::new("empty")),
        isas: None,
        l2: 1 << 20,
        ceilings: Some(common::machine().ceilings()),
    };
    for l in tune::layers() {
        let s = l.shape().unwrap();
        for rule in Rule::ALL {
            let v = rules::pick(rule, &s, &ctx).unwrap_or_else(|| panic!("{rule} on {}", l.name));
            assert!(
                v.supports(&s).is_ok() && v.is_available(),
                "{rule}: {}",
                v.name()
            );
        }
    }
}

#[test]
fn the_rules_follow_their_published_conditions() {
    let ctx = Context {
        map: std::sync::Arc::new(TuningMap::new("empty")),
        isas: Some(vec![Isa::Scalar]),
        l2: 1 << 20,
        ceilings: None,
    };
    let shape = |hw, c, k, rs, stride, n| {
        simdconv::ConvShape::builder(n, hw, hw, c, k, rs, rs)
            .stride(stride)
            .pad(rs / 2)
            .build()
            .unwrap()
    };
    let alg = |rule: &str, s| {
        let rule = Rule::from_name(rule).unwrap();
        rules::pick(rule, &s, &ctx).unwrap().algorithm()
    };
    use simdconv::WinogradTile::{F2x2_3x3 as F2, F4x4_3x3 as F4};
    // oneDNN: Winograd only from batch 4.
    assert_eq!(alg("onednn", shape(14, 64, 64, 3, 1, 1)), Algorithm::Direct);
    assert_eq!(
        alg("onednn", shape(14, 64, 64, 3, 1, 4)),
        Algorithm::Winograd(F4)
    );
    // TVM: 64 < K < 512.
    assert_eq!(alg("tvm", shape(14, 64, 64, 3, 1, 1)), Algorithm::Direct);
    assert_eq!(
        alg("tvm", shape(14, 64, 128, 3, 1, 1)),
        Algorithm::Winograd(F4)
    );
    // ncnn: F2 for wide layers on small maps, 1x1 as a GEMM, im2col for C > 16.
    assert_eq!(
        alg("ncnn", shape(14, 256, 256, 3, 1, 1)),
        Algorithm::Winograd(F2)
    );
    assert_eq!(alg("ncnn", shape(14, 8, 8, 3, 1, 1)), Algorithm::Direct);
    assert_eq!(alg("ncnn", shape(14, 32, 32, 3, 2, 1)), Algorithm::Im2col);
    assert_eq!(
        alg("ncnn", shape(14, 32, 32, 1, 1, 1)),
        Algorithm::Pointwise
    );
    // MLAS: no Winograd.
    assert_eq!(alg("mlas", shape(14, 64, 64, 3, 1, 1)), Algorithm::Im2col);
    assert_eq!(
        alg("mlas", shape(14, 64, 64, 1, 1, 1)),
        Algorithm::Pointwise
    );
}

#[test]
fn regret_is_one_for_the_rule_that_matches_the_map_and_more_for_the_others() {
    let file = file_favouring(Algorithm::Im2col, &grid_3x3());
    let ev = rules::evaluate(&file).unwrap();
    assert!(ev.held_out >= 5 && ev.learned_from >= 15, "{ev:?}");
    let score = |r: &str| {
        let r = Rule::from_name(r).unwrap();
        ev.baselines.iter().find(|b| b.rule == r).unwrap().clone()
    };
    // Every im2col variant takes the same time, so any im2col pick has regret 1.
    assert_eq!(score("always-im2col").geomean_regret, 1.0);
    assert_eq!(score("always-im2col").picked_best, ev.held_out);
    assert!(score("always-direct").geomean_regret > 1.9);
    // Auto learns im2col from the other layers.
    assert!(
        (ev.geomean_regret - 1.0).abs() < 1e-12,
        "{}",
        ev.geomean_regret
    );
    assert_eq!(ev.max_regret, 1.0);
    assert_eq!(ev.leave_one_out.len(), file.map.layers.len());
    assert_eq!(ev.picks.len(), ev.held_out * Rule::ALL.len());
}

#[test]
fn the_tuning_page_and_the_comparison_mark_what_they_should() {
    let layers = grid_3x3();
    let mut a = file_favouring(Algorithm::Im2col, &layers);
    a.evaluation = rules::evaluate(&a);
    let html = simdconv_bench::report::tuning::render(&a).unwrap();
    for want in [
        "Regret on held-out layers",
        "Crossover maps",
        "3x3 stride 1",
        "<svg",
        "always-im2col",
    ] {
        assert!(html.contains(want), "{want}");
    }
    // Another CPU where direct wins: every layer differs, and the page lists them.
    let direct = pick_tile(&layers[0].shape().unwrap(), Algorithm::Direct, Isa::Scalar).unwrap();
    assert!(direct.name().starts_with("f32-direct"));
    let mut b = file_favouring(Algorithm::Direct, &layers);
    b.evaluation = rules::evaluate(&b);
    let page = simdconv_bench::report::tuning::compare_page(
        &[("a.json".into(), a), ("b.json".into(), b)],
        None,
    )
    .unwrap();
    assert!(
        page.contains(&format!("{} of {} layers", layers.len(), layers.len())),
        "every layer differs"
    );
    assert!(page.contains("grid_3x3_s1_14_32_32"));
}

#[test]
fn a_tuning_file_round_trips_and_kernels_read_it() {
    let mut f = file_favouring(Algorithm::Direct, &grid_3x3()[..4]);
    f.evaluation = rules::evaluate(&f);
    let dir = std::env::temp_dir().join(format!("simdconv-tune-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tuning.json");
    f.write(&path).unwrap();
    let back = TuningFile::read(&path).unwrap();
    assert_eq!(back.map, f.map);
    assert_eq!(back.evaluation, f.evaluation);
    // The kernel crate reads the same file as its map (the extra fields are ignored).
    let map = TuningMap::read(&path).unwrap();
    assert_eq!(map.layers.len(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_evaluation_without_held_out_layers() {
    // One layer: either held out (nothing to learn from) or not (nothing to score).
    let f = file_favouring(Algorithm::Direct, &grid_3x3()[..1]);
    assert!(rules::evaluate(&f).is_none());
    let html = simdconv_bench::report::tuning::render(&f).unwrap();
    assert!(html.contains("Not yet"));
}

#[test]
fn a_runs_auto_pick_follows_the_map_and_its_regret_comes_from_the_run() {
    if !Isa::Avx2.is_available() {
        eprintln!("skipped: this CPU has no AVX2 (the fixed results are AVX2 rows)");
        return;
    }
    let res = common::results();
    let layer = &res.layers[0];
    let shape = layer.shape().unwrap();
    // A map of this machine holding exactly this layer, where f32-direct-avx2-6x16 wins.
    let mut map = TuningMap::new(&res.machine.fingerprint());
    let t = |variant: &str, ns: f64| TunedTime {
        variant: variant.into(),
        time_ns: simdconv::Interval {
            point: ns,
            lower: ns,
            upper: ns,
        },
        samples: 9,
    };
    map.layers.push(TunedLayer {
        name: "same".into(),
        shape: simdconv::ShapeRecord::of(&shape),
        times: vec![
            t("f32-direct-avx2-6x16", 1.0),
            t("f32-winograd-f4-avx2-6x16", 2.0),
        ],
    });
    let picks = simdconv_bench::autopick::picks(&res, Some(map));
    assert_eq!(picks.len(), 1);
    assert_eq!(picks[0].variant, "f32-direct-avx2-6x16");
    assert_eq!(picks[0].source.name(), "tuning map");
    // In the run, direct-avx2 made 60 GFLOP/s and Winograd F4 150: regret 2.5.
    let g = picks[0].regret.unwrap();
    assert!((g - 2.5).abs() < 1e-9, "{g}");
    let line = simdconv_bench::autopick::console_line(&picks);
    assert!(line.contains("0 of 1") && line.contains("2.500"), "{line}");
    // Without a map: the cost model, among the ISAs the run measured (scalar and AVX2 only).
    let picks = simdconv_bench::autopick::picks(&res, None);
    assert_eq!(picks[0].source.name(), "cost model");
    assert!(picks[0].variant.contains("-avx2-") || picks[0].variant.contains("-scalar-"));
}
