//! The runtime reference: `runtimes.json` read beside the results (absent: no section; wrong
//! schema: an error naming the file), and its section setting the runtime's node time against
//! our fastest variant.

use super::common::results;
use crate::report::render_with;
use crate::schema::runtimes::{RuntimeLayer, Runtimes, RUNTIMES_SCHEMA};

fn reference(layer: &str, node_ns: f64) -> Runtimes {
    Runtimes {
        schema: RUNTIMES_SCHEMA.into(),
        runtime: "onnxruntime".into(),
        version: "1.0".into(),
        threads: 1,
        layers: vec![RuntimeLayer {
            layer: layer.into(),
            dtype: "f32".into(),
            op: "Conv".into(),
            kernels: vec!["Conv".into(), "ReorderInput".into()],
            node_ns: Some(node_ns),
            nodes_ns: Some(node_ns * 1.5),
            call_ns: node_ns * 2.0,
            runs: 30,
        }],
    }
}

#[test]
fn the_section_sets_the_runtime_node_against_our_fastest() {
    let res = results();
    let x = &res.results[0];
    let fastest = res
        .results
        .iter()
        .filter(|r| r.layer == x.layer && r.threads == 1)
        .map(|r| r.time_ns.point)
        .fold(f64::INFINITY, f64::min);
    let html = render_with(&res, Some(&reference(&x.layer, 3.0 * fastest))).unwrap();
    assert!(html.contains("Against onnxruntime 1.0"), "no section");
    assert!(html.contains("3.00x") && html.contains("Conv, ReorderInput"));
    // And the chart of the ratios, one series for the one type the file has.
    assert!(html.contains("onnxruntime against our fastest, per layer"));
    assert!(html.contains("f32: onnxruntime / ours") && !html.contains("int8: onnxruntime / ours"));
    // Without the file there is no section.
    assert!(!render_with(&res, None)
        .unwrap()
        .contains("Against onnxruntime"));
}

#[test]
fn a_runtime_file_is_read_beside_the_results_or_refused_by_name() {
    let dir = std::env::temp_dir().join(format!("simdconv-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::remove_file(dir.join("runtimes.json")).ok();
    assert_eq!(Runtimes::read_beside(&dir), Ok(None));
    let mut r = reference("l", 1.0);
    std::fs::write(
        dir.join("runtimes.json"),
        serde_json::to_string(&r).unwrap(),
    )
    .unwrap();
    assert_eq!(Runtimes::read_beside(&dir), Ok(Some(r.clone())));
    r.schema = "simdconv-runtimes/9".into();
    std::fs::write(
        dir.join("runtimes.json"),
        serde_json::to_string(&r).unwrap(),
    )
    .unwrap();
    let e = Runtimes::read_beside(&dir).unwrap_err();
    assert!(
        e.contains("runtimes.json") && e.contains("simdconv-runtimes/9"),
        "{e}"
    );
    std::fs::write(dir.join("runtimes.json"), "{").unwrap();
    assert!(Runtimes::read_beside(&dir)
        .unwrap_err()
        .contains("runtimes.json"));
    std::fs::remove_dir_all(&dir).ok();
}
