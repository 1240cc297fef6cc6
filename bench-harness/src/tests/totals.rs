//! Per-network totals: the bound is the fastest per layer, counts weight the times, a rule whose
//! variant was not measured leaves its layer out and says so, and the page and console show it.

use super::common::results;
use crate::totals::totals;

#[test]
fn totals_weight_counts_and_name_what_they_leave_out() {
    let mut res = results();
    let one = totals(&res);
    assert_eq!(one.len(), 1);
    let t = &one[0];
    assert_eq!((t.network.as_str(), t.batch, t.layers), ("smoke", 1, 1));
    let fastest = res
        .results
        .iter()
        .map(|r| r.time_ns.point)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(t.strategies[0].label, "best per layer");
    assert_eq!(t.strategies[0].total_ns, fastest);
    for s in &t.strategies {
        assert!(
            s.missing > 0 || s.total_ns >= fastest,
            "{s:?} beats the bound"
        );
    }
    // always-direct on AVX2 picks a direct AVX2 row: measured here at 60 GFLOP/s.
    let direct = t
        .strategies
        .iter()
        .find(|s| s.label == "always-direct")
        .unwrap();
    let want = res
        .results
        .iter()
        .find(|r| r.variant.starts_with("f32-direct-avx2"))
        .unwrap()
        .time_ns
        .point;
    if direct.missing == 0 {
        assert_eq!(direct.total_ns, want);
    }
    // always-im2col: no im2col row in this run, so the layer is left out, and counted.
    let im2col = t
        .strategies
        .iter()
        .find(|s| s.label == "always-im2col")
        .unwrap();
    assert_eq!((im2col.missing, im2col.total_ns), (1, 0.0));
    assert_eq!(t.top.len(), 1);
    assert!((t.top[0].share - 1.0).abs() < 1e-12);
    // A count of 3 triples every total.
    res.layers[0].count = 3;
    let three = &totals(&res)[0];
    assert_eq!(three.strategies[0].total_ns, 3.0 * fastest);
    assert_eq!(three.weighted_layers, 3);
    let page = crate::report::render(&res).unwrap();
    assert!(page.contains("Network totals") && page.contains("best per layer"));
    let console = crate::console::totals_table(&res);
    assert!(
        console.contains("smoke (batch 1, 1 layers, 3 with repeats)"),
        "{console}"
    );
}
