//! The regression gate's decisions on small fixed results files, and the comparison page.

use super::common::{record, results};
use simdconv_bench::compare::{display_name, gate_page, gate_table, render, summary, Input};
use simdconv_bench::gate::{gate, parse_threshold, Allow, Gate};

const CROSS: Allow = Allow {
    cross_machine: true,
    missing: false,
};
use simdconv_bench::schema::results::{BlockMode, Interval, Results};

/// A candidate whose row `i` has its time scaled by `scale` and its interval half-width `ci`
/// (fraction of the time).
fn with_time(base: &Results, i: usize, scale: f64, ci: f64) -> Results {
    let mut c = base.clone();
    let r = &mut c.results[i];
    let t = r.time_ns.point * scale;
    r.time_ns = Interval {
        point: t,
        lower: t * (1.0 - ci),
        upper: t * (1.0 + ci),
    };
    let f = r.flops as f64;
    r.gflops = Interval {
        point: f / t,
        lower: f / (t * (1.0 + ci)),
        upper: f / (t * (1.0 - ci)),
    };
    c
}

fn tight(base: &Results) -> Results {
    let mut b = base.clone();
    for r in &mut b.results {
        let t = r.time_ns.point;
        r.time_ns = Interval {
            point: t,
            lower: t * 0.99,
            upper: t * 1.01,
        };
    }
    b
}

#[test]
fn slower_beyond_threshold_with_separate_intervals_fails() {
    let b = tight(&results());
    let c = with_time(&b, 1, 1.10, 0.01);
    match gate(&b, &c, 0.05, Allow::default()) {
        Gate::Regressed { rows, compared } => {
            assert_eq!(compared, 4);
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].key, "smoke_3x3_14/f32-direct-avx2-6x16");
            assert!((rows[0].slowdown - 0.10).abs() < 1e-9);
            // The verdict has units: milliseconds with intervals and a percentage.
            let t = gate_table(&rows);
            assert!(
                t.contains("baseline") && t.contains(" ms [") && t.contains("10.0%"),
                "{t}"
            );
            assert!(
                !t.contains("e7") && !t.contains("e6"),
                "no unitless exponents: {t}"
            );
            let input = |tag: &str, path: &str, res: &Results| Input {
                tag: tag.into(),
                path: path.into(),
                results: res.clone(),
            };
            let g = Gate::Regressed {
                rows: rows.clone(),
                compared: 4,
            };
            let page = gate_page(
                &input("A", "/tmp/x/base.json", &b),
                &input("B", "c.json", &c),
                &g,
                "5%",
            );
            assert!(page.contains("Regression: 1 of 4 rows") && page.contains("10.0%"));
            assert!(!page.contains("/tmp/x"), "no absolute paths on the page");
        }
        g => panic!("expected a regression, got {g:?}"),
    }
}

#[test]
fn slower_beyond_threshold_but_overlapping_intervals_passes() {
    let b = tight(&results());
    // 10% slower but a noisy candidate (+-15%): the intervals overlap, so it is noise.
    let c = with_time(&b, 1, 1.10, 0.15);
    assert!(matches!(
        gate(&b, &c, 0.05, Allow::default()),
        Gate::Pass { .. }
    ));
}

#[test]
fn slower_within_threshold_passes_and_faster_passes() {
    let b = tight(&results());
    assert!(matches!(
        gate(&b, &with_time(&b, 1, 1.04, 0.001), 0.05, Allow::default()),
        Gate::Pass { .. }
    ));
    assert!(matches!(
        gate(&b, &with_time(&b, 1, 0.5, 0.001), 0.05, Allow::default()),
        Gate::Pass { .. }
    ));
    // The threshold is the knob: 4% slower fails a 2% gate.
    assert!(matches!(
        gate(&b, &with_time(&b, 1, 1.04, 0.001), 0.02, Allow::default()),
        Gate::Regressed { .. }
    ));
}

#[test]
fn missing_rows_fail_unless_allowed_and_are_listed() {
    let b = tight(&results());
    let mut c = b.clone();
    c.results.remove(0);
    let row = vec!["smoke_3x3_14/f32-direct-scalar-4x4".to_string()];
    match gate(&b, &c, 0.05, Allow::default()) {
        Gate::Missing { compared, missing } => {
            assert_eq!(compared, 3);
            assert_eq!(missing, row);
        }
        g => panic!("{g:?}"),
    }
    let allow = Allow {
        missing: true,
        ..Allow::default()
    };
    match gate(&b, &c, 0.05, allow) {
        Gate::Pass { compared, missing } => assert_eq!((compared, missing), (3, row)),
        g => panic!("{g:?}"),
    }
    // Every AVX2 row of the baseline gone: not a pass.
    let mut c = b.clone();
    c.results.retain(|r| r.isa != "avx2");
    assert!(matches!(
        gate(&b, &c, 0.05, Allow::default()),
        Gate::Missing { .. }
    ));
}

#[test]
fn a_gate_cannot_pass_vacuously() {
    let b = tight(&results());
    let problem = |c: &Results| match gate(&b, c, 0.05, Allow::default()) {
        Gate::Invalid { problems } => problems.join("; "),
        g => panic!("expected invalid input, got {g:?}"),
    };
    // No rows at all, or none in common.
    let mut c = b.clone();
    c.results.clear();
    assert!(problem(&c).contains("0 rows compared"));
    let mut c = b.clone();
    for r in &mut c.results {
        r.layer = "other".into();
    }
    assert!(problem(&c).contains("0 rows compared"));
    // A row twice (a fast copy first would hide the slow one).
    let mut c = b.clone();
    let mut fast = c.results[1].clone();
    fast.time_ns = fast.time_ns.scaled(2.0);
    c.results.insert(0, fast);
    assert!(
        problem(&c).contains("candidate: smoke_3x3_14/f32-direct-avx2-6x16 appears more than once")
    );
    // Zero, negative and non-finite times, in either file.
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut c = b.clone();
        c.results[2].time_ns.point = bad;
        assert!(problem(&c).contains("time_ns.point"), "{bad}");
        let mut c = b.clone();
        c.results[2].time_ns.lower = bad;
        let e = match gate(&c, &b, 0.05, Allow::default()) {
            Gate::Invalid { problems } => problems.join("; "),
            g => panic!("{g:?}"),
        };
        assert!(
            e.starts_with("baseline:") && e.contains("time_ns.lower"),
            "{e}"
        );
    }
}

#[test]
fn different_machines_are_refused_unless_allowed() {
    let b = tight(&results());
    let mut c = b.clone();
    c.machine.model = "Another CPU".into();
    assert!(matches!(
        gate(&b, &c, 0.05, Allow::default()),
        Gate::DifferentMachines { .. }
    ));
    // Allowed: fractions of each machine's peak. Same GFLOP/s on a machine with twice the peak
    // is half the fraction: a regression.
    for p in c.machine.peak_gflops.values_mut() {
        *p *= 2.0;
    }
    match gate(&b, &c, 0.05, CROSS) {
        Gate::Regressed { rows, .. } => assert_eq!(rows.len(), 4),
        g => panic!("{g:?}"),
    }
    // Same fractions: no regression.
    let mut same = b.clone();
    same.machine.model = "Another CPU".into();
    assert!(matches!(gate(&b, &same, 0.05, CROSS), Gate::Pass { .. }));
}

#[test]
fn thresholds_parse() {
    assert_eq!(parse_threshold("5%").unwrap(), 0.05);
    assert_eq!(parse_threshold("0.1").unwrap(), 0.1);
    assert!(parse_threshold("five").unwrap_err().contains("five"));
    assert!(parse_threshold("-3%").is_err());
}

#[test]
fn page_and_summary_list_every_row_and_the_unshared_ones() {
    let a = results();
    let mut b = results();
    b.machine.model = "Arm Test Core".into();
    b.results.retain(|r| r.isa != "avx2");
    b.results.push(record(
        "smoke_3x3_14",
        "f32-direct-neon-8x12",
        "direct",
        "neon",
        8.0,
        30.0,
        1e-7,
    ));
    let inputs = vec![
        Input {
            tag: "A".into(),
            path: "a.json".into(),
            results: a,
        },
        Input {
            tag: "B".into(),
            path: "b.json".into(),
            results: b,
        },
    ];
    let s = summary(&inputs);
    assert!(
        s.contains("smoke_3x3_14/f32-direct-neon-8x12: only on B"),
        "{s}"
    );
    assert!(
        s.contains("smoke_3x3_14/f32-direct-avx2-6x16: only on A"),
        "{s}"
    );
    assert!(s.contains("best variant per layer"));
    let html = render(&inputs, Some("two fixtures")).unwrap();
    assert!(html.contains("two fixtures"));
    assert!(html.contains("Arm Test Core") && html.contains("Fraction of own peak"));
    assert!(html.matches("<svg").count() >= 3);
}

#[test]
fn merged_rounds_take_the_lower_median_and_the_union_of_intervals() {
    let a = tight(&results());
    let b = with_time(&a, 1, 1.2, 0.01);
    let m = simdconv_bench::run::merge(a.clone(), b.clone());
    let r = m
        .results
        .iter()
        .find(|r| r.variant == "f32-direct-avx2-6x16")
        .unwrap();
    let (ta, tb) = (a.results[1].time_ns, b.results[1].time_ns);
    assert_eq!(r.time_ns.point, ta.point);
    assert_eq!(r.time_ns.lower, ta.lower);
    assert_eq!(r.time_ns.upper, tb.upper);
    assert_eq!(m.results.len(), a.results.len());
    // A candidate round that drifted 20% no longer looks like a regression once merged with a
    // round that did not.
    assert!(matches!(
        gate(&a, &b, 0.05, Allow::default()),
        Gate::Regressed { .. }
    ));
    assert!(matches!(
        gate(&a, &m, 0.05, Allow::default()),
        Gate::Pass { .. }
    ));
}

#[test]
fn files_are_labelled_by_the_name_given_without_absolute_paths() {
    assert_eq!(
        display_name("reports/x/results.json"),
        "reports/x/results.json"
    );
    assert_eq!(
        display_name("/tmp/abc/run1/results.json"),
        "run1/results.json"
    );
}

/// `run --append` of the blocks suite onto a layer run keeps both: the claims are not dropped.
#[test]
fn appending_claims_keeps_them() {
    use simdconv_bench::schema::results::BlockRecord;
    let a = results();
    let block = |claim: &str, ms: f64| BlockRecord {
        claim: claim.into(),
        title: "t".into(),
        side: 0,
        name: "n".into(),
        isa: "avx2".into(),
        mode: BlockMode::Best,
        flops: 1,
        time_ns: Interval::exact(ms * 1e6),
        steps: vec![],
        scaling: false,
    };
    let mut b = results();
    b.results.clear();
    b.blocks = vec![block("nin", 1.0)];
    let m = simdconv_bench::run::merge(a.clone(), b);
    assert_eq!(m.results.len(), a.results.len());
    assert_eq!(m.blocks.len(), 1);
    // Measured again, a claim's record is replaced, not doubled.
    let mut c = results();
    c.results.clear();
    c.blocks = vec![block("nin", 2.0), block("inception", 3.0)];
    let m = simdconv_bench::run::merge(m, c);
    assert_eq!(m.blocks.len(), 2);
    assert_eq!(m.blocks[0].time_ns.point, 2e6);
}

/// The candidate's row `i` with its time interval set as given (ns), its GFLOP/s untouched.
fn with_interval(base: &Results, i: usize, point: f64, lower: f64, upper: f64) -> Results {
    let mut c = base.clone();
    c.results[i].time_ns = Interval {
        point,
        lower,
        upper,
    };
    c
}

#[test]
fn inconsistent_or_hugely_wide_candidate_intervals_are_refused() {
    let b = tight(&results());
    let t = b.results[1].time_ns;
    let refused = |c: &Results, what: &str| match gate(&b, c, 0.05, Allow::default()) {
        Gate::Invalid { problems } => assert!(
            problems.iter().any(|p| p.contains(what)),
            "{what}: {problems:?}"
        ),
        g => panic!("{what}: {g:?}"),
    };
    // Every point x3, the interval unchanged: the point lies outside its interval.
    refused(
        &with_interval(&b, 1, t.point * 3.0, t.lower, t.upper),
        "does not hold its point",
    );
    // Inverted.
    refused(
        &with_interval(&b, 1, t.point * 3.0, t.upper * 3.0, t.lower),
        "does not hold its point",
    );
    // lower = 1 ns: an interval that overlaps anything.
    refused(
        &with_interval(&b, 1, t.point * 3.0, 1.0, t.upper * 3.0),
        "too wide to gate",
    );
    // A gate exit code of its own: refused, not "regressed".
    let c = with_interval(&b, 1, t.point * 3.0, t.lower, t.upper);
    assert_eq!(gate(&b, &c, 0.05, Allow::default()).exit_code(), 3);
}

#[test]
fn a_candidate_slower_on_every_row_never_passes() {
    let b = tight(&results());
    // Every row 10% slower, each with an interval that overlaps the baseline's (+-8%).
    let mut c = b.clone();
    for r in &mut c.results {
        let t = r.time_ns.point * 1.10;
        r.time_ns = Interval {
            point: t,
            lower: t * 0.92,
            upper: t * 1.08,
        };
    }
    match gate(&b, &c, 0.05, Allow::default()) {
        Gate::Regressed { rows, compared } => assert_eq!(rows.len(), compared),
        g => panic!("{g:?}"),
    }
}

#[test]
fn rows_whose_shape_or_flops_changed_are_not_compared() {
    let b = tight(&results());
    let mut c = b.clone();
    c.results[0].shape.n = 4;
    match gate(&b, &c, 0.05, Allow::default()) {
        Gate::Invalid { problems } => {
            assert!(problems[0].contains("shapes differ"), "{problems:?}")
        }
        g => panic!("{g:?}"),
    }
    let mut c = b.clone();
    c.results[0].flops /= 4;
    match gate(&b, &c, 0.05, Allow::default()) {
        Gate::Invalid { problems } => {
            assert!(problems[0].contains("FLOP counts differ"), "{problems:?}")
        }
        g => panic!("{g:?}"),
    }
}

#[test]
fn the_cross_machine_gate_reads_times_and_refuses_missing_or_impossible_peaks() {
    let b = tight(&results());
    let mut other = b.clone();
    other.machine.model = "Another CPU".into();
    // 3x slower in time, stored GFLOP/s untouched: a regression all the same.
    let mut slow = other.clone();
    for r in &mut slow.results {
        r.time_ns = r.time_ns.scaled(1.0 / 3.0);
    }
    assert!(
        matches!(gate(&b, &slow, 0.05, CROSS), Gate::Regressed { .. }),
        "{:?}",
        gate(&b, &slow, 0.05, CROSS)
    );
    // Peaks divided by 10: fractions over 100% are refused.
    let mut low = other.clone();
    for p in low.machine.peak_gflops.values_mut() {
        *p /= 10.0;
    }
    match gate(&b, &low, 0.05, CROSS) {
        Gate::Invalid { problems } => assert!(
            problems.iter().any(|p| p.contains("above 100%")),
            "{problems:?}"
        ),
        g => panic!("{g:?}"),
    }
    // No peaks: every row would be skipped; refused instead of "ok".
    let mut none = other.clone();
    none.machine.peak_gflops.clear();
    match gate(&b, &none, 0.05, CROSS) {
        Gate::Invalid { problems } => {
            assert!(problems[0].contains("no measured"), "{problems:?}");
            assert_eq!(problems.len(), b.results.len());
        }
        g => panic!("{g:?}"),
    }
}

#[test]
fn appending_to_a_file_with_duplicate_rows_keeps_each_row_once() {
    let mut old = tight(&results());
    let dup = old.results[0].clone();
    old.results.push(dup);
    let new = tight(&results());
    let m = simdconv_bench::run::merge(old, new);
    let mut keys: Vec<String> = m.results.iter().map(|r| r.key()).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
    assert!(simdconv_bench::gate::problems(&m, "merged").is_empty());
}
