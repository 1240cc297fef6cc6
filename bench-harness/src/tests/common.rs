//! Small fixed results for the harness tests (also read by the CLI's tests, `tests/cli/`).
#![allow(dead_code)]

use std::collections::BTreeMap;

use simdconv_bench::schema::layer::Layer;
use simdconv_bench::schema::machine::{Bandwidth, Cache, MachineProfile};
use simdconv_bench::schema::results::{Interval, Record, Results, Settings, ShapeRecord, SCHEMA};
use simdconv_bench::schema::suite::{Suite, SuiteName};

pub(crate) fn machine() -> MachineProfile {
    MachineProfile {
        vendor: "TestVendor".into(),
        model: "Test CPU @ 3.00GHz".into(),
        arch: "x86_64".into(),
        flags: vec!["avx2".into(), "fma".into()],
        logical_cores: 2,
        physical_cores: Some(2),
        caches: vec![
            Cache {
                level: 1,
                kind: "Data".into(),
                size: 32 << 10,
            },
            Cache {
                level: 2,
                kind: "Unified".into(),
                size: 1 << 20,
            },
        ],
        clock_ghz: Some(3.0),
        os: "linux test".into(),
        rustc: "rustc test".into(),
        git_revision: "abc1234".into(),
        build_target_features: vec!["sse2".into()],
        peak_gflops: BTreeMap::from([("scalar".into(), 10.0), ("avx2".into(), 100.0)]),
        peak_types: "f32".into(),
        bandwidth: vec![
            Bandwidth {
                level: "L1".into(),
                bytes: 16 << 10,
                gbs: 200.0,
            },
            Bandwidth {
                level: "DRAM".into(),
                bytes: 64 << 20,
                gbs: 10.0,
            },
        ],
        threads: vec![],
        int8_peak_gops: Default::default(),
        bf16_peak_gflops: Default::default(),
        check: None,
    }
}

pub(crate) fn record(
    layer: &str,
    variant: &str,
    alg: &str,
    isa: &str,
    intensity: f64,
    gflops: f64,
    err: f64,
) -> Record {
    Record {
        layer: layer.into(),
        variant: variant.into(),
        algorithm: alg.into(),
        isa: isa.into(),
        tile: "4x4".into(),
        types: "f32".into(),
        shape: ShapeRecord::of(
            &simdconv::ConvShape::builder(1, 14, 14, 32, 32, 3, 3)
                .pad(1)
                .build()
                .unwrap(),
        ),
        flops: 3_612_672,
        bytes: (3_612_672.0 / intensity) as u64,
        intensity,
        time_ns: Interval {
            point: 3_612_672.0 / gflops,
            lower: 3_600_000.0 / gflops,
            upper: 3_620_000.0 / gflops,
        },
        gflops: Interval {
            point: gflops,
            lower: gflops * 0.99,
            upper: gflops * 1.01,
        },
        fraction_of_peak: Some(gflops / 100.0),
        scratch_bytes: 4096,
        max_rel_error: err,
        tolerance: 1e-4,
        threads: 1,
    }
}

pub(crate) fn results() -> Results {
    Results {
        schema: SCHEMA.into(),
        created_unix: 1,
        settings: Settings {
            suite: SuiteName::Known(Suite::Smoke),
            filter: None,
            warm_up_s: 0.1,
            measurement_s: 0.2,
            sample_size: 10,
            command: None,
            cpus_allowed: None,
            started_unix: None,
        },
        machine: machine(),
        layers: vec![Layer {
            name: "smoke_3x3_14".into(),
            networks: vec!["smoke".into()],
            shape: ShapeRecord::of(
                &simdconv::ConvShape::builder(1, 14, 14, 32, 32, 3, 3)
                    .pad(1)
                    .build()
                    .unwrap(),
            ),
            batch_of: None,
            count: 1,
        }],
        blocks: vec![],
        auto: vec![],
        coverage: vec![],
        precision: vec![],
        results: vec![
            record(
                "smoke_3x3_14",
                "f32-direct-scalar-4x4",
                "direct",
                "scalar",
                8.0,
                4.0,
                1e-7,
            ),
            record(
                "smoke_3x3_14",
                "f32-direct-avx2-6x16",
                "direct",
                "avx2",
                8.0,
                60.0,
                1e-7,
            ),
            record(
                "smoke_3x3_14",
                "f32-winograd-f4-scalar-4x4",
                "winograd-f4",
                "scalar",
                8.0,
                9.0,
                3e-6,
            ),
            record(
                "smoke_3x3_14",
                "f32-winograd-f4-avx2-6x16",
                "winograd-f4",
                "avx2",
                8.0,
                150.0,
                3e-6,
            ),
        ],
    }
}

/// `results()` plus a layer whose two fastest variants' intervals overlap (a tie), with a
/// clearly slower third variant, and a name that needs quoting in CSV.
pub(crate) fn results_with_tie() -> Results {
    let mut r = results();
    let mut a = record(
        "tie_3x3",
        "f32-direct-avx2-6x16",
        "direct",
        "avx2",
        8.0,
        100.0,
        1e-7,
    );
    a.gflops.lower = 95.0;
    a.gflops.upper = 104.0;
    let mut b = record(
        "tie_3x3",
        "f32-winograd-f2-avx2-6x16",
        "winograd-f2",
        "avx2",
        8.0,
        98.0,
        2e-6,
    );
    b.gflops.lower = 90.0;
    b.gflops.upper = 101.0;
    let c = record(
        "tie_3x3",
        "f32-im2col-avx2-6x16",
        "im2col",
        "avx2",
        8.0,
        50.0,
        1e-7,
    );
    r.results.extend([a, b, c]);
    r
}
