//! Threads and batch in the harness: the schema records them (and still reads version 1), the
//! N-thread view swaps in N-thread ceilings, the report's scaling section answers per thread
//! count and batch, the gate keys rows by thread count, and the CLI runs and validates both
//! lists.

use super::common;

use std::collections::BTreeMap;

use simdconv_bench::gate::{gate, problems, Allow, Gate};
use simdconv_bench::report;
use simdconv_bench::schema::machine::{Bandwidth, ThreadCeilings};
use simdconv_bench::schema::results::{Interval, Results, SCHEMA, SCHEMA_V1};

/// The common results with every record also measured on 2 threads (1.8x faster, 1.2x for the
/// first), two-thread ceilings, and a batch-4 copy of the layer.
fn scaled() -> Results {
    let mut r = common::results();
    let two: Vec<_> = r
        .results
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let mut y = x.clone();
            y.threads = 2;
            let f = if i == 0 { 1.2 } else { 1.8 };
            y.time_ns = y.time_ns.scaled(f);
            y
        })
        .collect();
    let batch: Vec<_> = r
        .results
        .iter()
        .map(|x| {
            let mut y = x.clone();
            y.layer = format!("{}_b4", x.layer);
            y.shape.n = 4;
            y.time_ns = Interval {
                point: x.time_ns.point * 3.0,
                lower: x.time_ns.lower * 3.0,
                upper: x.time_ns.upper * 3.0,
            };
            y
        })
        .collect();
    r.results.extend(two);
    r.results.extend(batch);
    let layer = r.layers[0].with_batch(4);
    r.layers.push(layer);
    r.machine.threads.push(ThreadCeilings {
        threads: 2,
        peak_gflops: BTreeMap::from([("scalar".into(), 20.0), ("avx2".into(), 190.0)]),
        bandwidth: vec![Bandwidth {
            level: "DRAM".into(),
            bytes: 64 << 20,
            gbs: 11.0,
        }],
    });
    r
}

#[test]
fn version_1_files_read_as_one_thread_runs() {
    let r = common::results();
    let mut v: serde_json::Value = serde_json::to_value(&r).unwrap();
    v["schema"] = SCHEMA_V1.into();
    for x in v["results"].as_array_mut().unwrap() {
        x.as_object_mut().unwrap().remove("threads");
    }
    v["machine"].as_object_mut().unwrap().remove("threads");
    for l in v["layers"].as_array_mut().unwrap() {
        l.as_object_mut().unwrap().remove("batch");
    }
    let dir = std::env::temp_dir().join(format!("simdconv-v1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("results.json");
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    let back = Results::read(&path).unwrap();
    assert_eq!(back.schema, SCHEMA);
    assert!(back.results.iter().all(|x| x.threads == 1));
    assert!(back.layers.iter().all(|l| l.batch() == 1));
    assert_eq!(back.thread_counts(), vec![1]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_n_thread_view_has_its_records_and_ceilings() {
    let r = scaled();
    assert_eq!(r.thread_counts(), vec![1, 2]);
    let two = r.at_threads(2);
    assert!(two.results.iter().all(|x| x.threads == 2));
    assert_eq!(two.machine.peak("f32", "avx2"), Some(190.0));
    assert_eq!(r.at_threads(1).machine.peak("f32", "avx2"), Some(100.0));
    // No two-thread records of the batch-4 layer: it is not in the two-thread view.
    assert!(!two.layers.iter().any(|l| l.batch() == 4));
    // A thread count without measured ceilings keeps the one-thread ones.
    assert_eq!(r.machine.at_threads(3).peak("f32", "avx2"), Some(100.0));
    // Peaks are of their element types: an int8 record has no roof from f32 peaks.
    assert_eq!(r.machine.peak("u8s8u8", "avx2"), None);
}

#[test]
fn the_report_has_a_scaling_section_only_when_there_is_scaling() {
    let page = report::render(&common::results()).unwrap();
    assert!(!page.contains("Scaling: threads and batch"));
    let page = report::render(&scaled()).unwrap();
    for want in [
        "Scaling: threads and batch",
        "Ceilings with N threads",
        "190.0 (1.90x)",
        "Speedup and parallel efficiency per layer and algorithm",
        "1.80x [",
        "Winner per thread count",
        "Time per image against batch",
        "0.75 [",
    ] {
        assert!(page.contains(want), "the page lacks {want:?}");
    }
    // 1.2x on 2 threads is 60% efficiency: a red row.
    assert!(page.contains("<td>60%</td>"), "{page}");
    // The sections before Scaling read the one-thread run: every-result rows once per variant.
    let one = report::render(&scaled().at_threads(1)).unwrap();
    assert_eq!(
        page.matches("<svg").count(),
        one.matches("<svg").count() + 1,
        "only the speedup chart is added"
    );
}

#[test]
fn the_gate_keys_rows_by_thread_count() {
    let r = scaled();
    assert!(problems(&r, "x").is_empty(), "{:?}", problems(&r, "x"));
    let mut cand = r.clone();
    cand.results.retain(|x| x.threads == 1);
    match gate(&r, &cand, 0.05, Allow::default()) {
        Gate::Missing { missing, .. } => {
            assert!(!missing.is_empty());
            assert!(missing.iter().all(|m| m.ends_with(" x2t")), "{missing:?}");
        }
        other => panic!("expected missing two-thread rows, got {other:?}"),
    }
    let mut dup = r.clone();
    let again = dup.results.last().unwrap().clone();
    dup.results.push(again);
    assert_eq!(problems(&dup, "c").len(), 1);
}
