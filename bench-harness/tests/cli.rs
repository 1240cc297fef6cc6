//! The CLI rejects bad input with a clear message and the right exit code, before measuring.

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simdconv-bench"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn bad_arguments_get_usage_and_exit_2() {
    for args in [
        &["run", "--suite", "huge"][..],
        &["run", "--isa", "sse9"],
        &["frobnicate"],
        &["run", "--measurement-time", "soon"],
    ] {
        let o = bench(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.starts_with("error:") && (e.contains("Usage") || e.contains("--help")),
            "{args:?}: {e}"
        );
    }
    let o = bench(&["run", "--isa", "sse9"]);
    assert!(stderr(&o).contains("sse9"));
}

#[test]
fn a_filter_matching_nothing_says_so() {
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--filter",
        "no-such-layer",
        "--out",
        "/nonexistent-never-created",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nothing to run"), "{}", stderr(&o));
    let o = bench(&["run", "--suite", "smoke", "--filter", "([", "--out", "/tmp"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--filter"), "{}", stderr(&o));
}

#[test]
fn an_unwritable_output_directory_is_a_clear_error() {
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--filter",
        "smoke_1x1_14/pointwise-scalar",
        "--out",
        "/dev/null/results",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/dev/null/results"), "{}", stderr(&o));
    let o = bench(&["report", "/dev/null/missing.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/dev/null/missing.json"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn gate_needs_exactly_one_candidate() {
    let o = bench(&["compare", "--baseline", "a.json", "b.json", "c.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("exactly one candidate"),
        "{}",
        stderr(&o)
    );
    let o = bench(&[
        "compare",
        "--baseline",
        "a.json",
        "b.json",
        "--max-regression",
        "lots",
    ]);
    assert!(stderr(&o).contains("lots"), "{}", stderr(&o));
}
