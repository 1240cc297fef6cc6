//! The CLI rejects bad input with a clear message and the right exit code, before measuring.

#[path = "../../src/tests/common.rs"]
mod common;
mod int8;
mod shapes;

use std::process::{Command, Output};
use std::time::Duration;

use simdconv_bench::schema::results::Results;

/// The binary's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the `simdconv-bench` binary with `args`.
pub fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simdconv-bench"))
        .args(args)
        .output()
        .expect("the binary runs")
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
    // A pattern that does not parse is a usage error, like any invalid flag value (clap: 2).
    let o = bench(&["run", "--suite", "smoke", "--filter", "([", "--out", "/tmp"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--filter"), "{}", stderr(&o));
}

#[test]
fn an_unwritable_output_directory_is_a_clear_error() {
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--filter",
        "smoke_1x1_14/f32-pointwise-scalar",
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
    // A usage error: exit 2, apart from a regression's 1.
    let o = bench(&["compare", "--baseline", "a.json", "b.json", "c.json"]);
    assert_eq!(o.status.code(), Some(2));
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
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("lots"), "{}", stderr(&o));
}

/// A run on a non-terminal prints plain lines: the ceilings, a header per layer, one
/// `[n/N] layer variant GFLOP/s [interval] x peak ETA` line per benchmark, the winner table;
/// nothing of criterion's own chatter.
#[test]
fn a_run_into_a_log_prints_one_line_per_benchmark() {
    let dir = std::env::temp_dir().join(format!("simdconv-console-{}", std::process::id()));
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--isa",
        "scalar",
        "--filter",
        "smoke_1x1_14/f32-(direct|pointwise)",
        "--measurement-time",
        "0.05",
        "--warm-up-time",
        "0.02",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines
        .iter()
        .any(|l| l.starts_with("measured FMA peak, GFLOP/s (1 core): ")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("-- smoke_1x1_14: 14x14x64 -> 64")));
    let bench_lines: Vec<&&str> = lines.iter().filter(|l| l.starts_with('[')).collect();
    assert_eq!(bench_lines.len(), 2, "{out}");
    for (i, l) in bench_lines.iter().enumerate() {
        let w: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(w[0], format!("[{}/2]", i + 1), "{l}");
        assert_eq!(w[1], "smoke_1x1_14");
        assert!(w[3].parse::<f64>().unwrap() > 0.0, "{l}");
        assert_eq!(w[4], "GFLOP/s");
        assert!(w[5].starts_with('[') && w[6].ends_with(']'), "{l}");
        assert!(
            w[7].ends_with('x') && w[8] == "scalar" && w[9] == "peak",
            "{l}"
        );
    }
    assert!(bench_lines[0].contains("ETA ") && !bench_lines[1].contains("ETA"));
    assert!(out.contains("winner per layer"));
    assert!(!out.contains('\r'), "no live bar in a log");
    let all = format!("{out}{}", stderr(&o));
    for chatter in [
        "Benchmarking",
        "Warming up",
        "Collecting",
        "Analyzing",
        "elem/s",
    ] {
        assert!(!all.contains(chatter), "criterion chatter: {chatter}");
    }
    assert!(dir.join("results.csv").exists());
    // One estimator: the console's GFLOP/s and interval are the results file's (the median).
    let res = simdconv_bench::schema::results::Results::read(&dir.join("results.json")).unwrap();
    for l in &bench_lines {
        let w: Vec<&str> = l.split_whitespace().collect();
        let rec = res.results.iter().find(|r| r.variant == w[2]).unwrap();
        assert_eq!(w[3], format!("{:.1}", rec.gflops.point), "{l}");
        assert_eq!(w[5], format!("[{:.1},", rec.gflops.lower), "{l}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `run --append` into a results file from another machine is refused before measuring, by the
/// gate's fingerprint rule, instead of storing this machine's times under that machine.
#[test]
fn append_refuses_another_machines_file() {
    let dir = std::env::temp_dir().join(format!("simdconv-append-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut r = common::results();
    r.machine.model = "Some Other CPU".into();
    r.write(&dir.join("results.json")).unwrap();
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--append",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("another machine") && e.contains("Some Other CPU"),
        "{e}"
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("measuring"),
        "refused before measuring"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tune_rejects_bad_budgets_and_empty_selections_before_measuring() {
    for b in ["0", "-1m", "nan", "5x", "inf", ""] {
        let arg = format!("--budget={b}");
        let o = bench(&["tune", &arg]);
        assert_eq!(o.status.code(), Some(2), "--budget {b:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("--budget"), "{}", stderr(&o));
    }
    let dir = std::env::temp_dir().join(format!("simdconv-cli-tune-{}", std::process::id()));
    let started = std::time::Instant::now();
    let o = bench(&["tune", "--filter", "^zzz$", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to tune"), "{}", stderr(&o));
    assert!(!dir.join("tuning.json").exists());
    // Before the ceilings are measured (they take seconds).
    assert!(started.elapsed().as_secs_f64() < 2.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_thread_and_batch_lists_are_refused() {
    for args in [
        &["run", "--threads", "0"][..],
        &["run", "--threads", "1,x"],
        &["run", "--batch=-1"],
        &["run", "--batch", "5000"],
    ] {
        let o = bench(args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains("from 1 to 1024"), "{args:?}: {e}");
    }
}

#[test]
fn a_run_with_threads_and_batch_records_both() {
    let dir = std::env::temp_dir().join(format!("simdconv-threads-{}", std::process::id()));
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--isa",
        "scalar",
        "--filter",
        "smoke_1x1_14(_b2)?/f32-pointwise",
        "--threads",
        "2,1",
        "--batch",
        "1,2",
        "--measurement-time",
        "0.05",
        "--warm-up-time",
        "0.02",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("[4/4]"), "{out}");
    assert!(out.contains("winner per layer on 2 threads"), "{out}");
    let r = Results::read(&dir.join("results.json")).unwrap();
    let mut got: Vec<(String, usize, usize)> = r
        .results
        .iter()
        .map(|x| (x.layer.clone(), x.threads, x.shape.n))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("smoke_1x1_14".to_string(), 1, 1),
            ("smoke_1x1_14".to_string(), 2, 1),
            ("smoke_1x1_14_b2".to_string(), 1, 2),
            ("smoke_1x1_14_b2".to_string(), 2, 2),
        ]
    );
    assert!(r.machine.threads.iter().any(|t| t.threads == 2));
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("Scaling: threads and batch"));
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",threads"));
    assert_eq!(csv.lines().filter(|l| l.ends_with(",2")).count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timing_options_that_criterion_cannot_take_are_refused() {
    for (flag, v) in [
        ("--measurement-time", "0"),
        ("--measurement-time", "-1"),
        ("--measurement-time", "nan"),
        ("--measurement-time", "inf"),
        ("--warm-up-time", "1e300"),
    ] {
        let o = bench(&["run", "--suite", "smoke", flag, v, "--out", "/nonexistent"]);
        assert_eq!(o.status.code(), Some(2), "{flag} {v}: {}", stderr(&o));
        assert!(stderr(&o).contains(v), "{flag} {v}: {}", stderr(&o));
    }
}

#[test]
fn the_blocks_suite_refuses_an_empty_selection() {
    let o = bench(&[
        "run",
        "--suite",
        "blocks",
        "--filter",
        "zzz",
        "--out",
        "/nonexistent-never-created",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to run"), "{}", stderr(&o));
}

#[test]
#[cfg(target_os = "linux")]
fn an_existing_unwritable_output_directory_is_refused_before_measuring() {
    // /proc/self exists and is a directory no one may create files in, root included.
    let start = std::time::Instant::now();
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--filter",
        "smoke_1x1_14/f32-pointwise-scalar",
        "--out",
        "/proc/self",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("/proc/self") && e.contains("not writable"),
        "{e}"
    );
    // Before measuring the ceilings (which take seconds).
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

/// A fresh directory under the system's temp dir.
pub fn fresh(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("simdconv-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A second writer into a folder another process holds is refused before measuring.
#[test]
fn a_second_writer_into_one_folder_is_refused() {
    let dir = fresh("lock");
    let lock = std::fs::File::create(dir.join(".simdconv.lock")).unwrap();
    lock.lock().unwrap();
    let started = std::time::Instant::now();
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--filter",
        "smoke_1x1_14/f32-pointwise-scalar",
        "--append",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another simdconv-bench"),
        "{}",
        stderr(&o)
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "refused before measuring"
    );
    drop(lock);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// More threads than logical CPUs is a usage error (it times the scheduler).
#[test]
fn more_threads_than_cpus_are_refused() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus >= 1024 {
        return;
    }
    let n = (cpus + 1).to_string();
    for args in [&["run", "--threads", &n][..], &["machine", "--threads", &n]] {
        let o = bench(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("logical CPU"), "{}", stderr(&o));
    }
}

/// An ISA this CPU lacks is refused at once, in words.
#[test]
#[cfg(target_arch = "x86_64")]
fn an_isa_this_cpu_lacks_is_refused_in_words() {
    let started = std::time::Instant::now();
    let o = bench(&[
        "run",
        "--suite",
        "blocks",
        "--isa",
        "neon",
        "--out",
        "/nonexistent-x",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("--isa neon: none of these runs on this CPU"),
        "{e}"
    );
    assert!(!e.contains("None") && !e.contains("Some("), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// `report FILE --out DIR` leaves FILE as it was (a gate baseline or a CI artifact).
#[test]
fn report_elsewhere_leaves_its_input_alone() {
    let dir = fresh("report-in");
    let out = fresh("report-out");
    let mut r = common::results();
    r.auto.clear();
    let file = dir.join("results.json");
    r.write(&file).unwrap();
    let before = std::fs::read(&file).unwrap();
    let o = bench(&[
        "report",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("index.html").exists());
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&out);
}

/// The gate's exit codes: 2 usage, 3 refused, 4 unreadable or unwritable; the verdict is printed
/// before a page that cannot be written.
#[test]
fn gate_exit_codes_tell_the_failures_apart() {
    let dir = fresh("gate");
    let base = dir.join("base.json");
    common::results().write(&base).unwrap();
    let b = base.to_str().unwrap();
    let code = |args: &[&str]| bench(args).status.code();
    assert_eq!(
        code(&["compare", "--baseline", b, b, "--max-regression", "5%"]),
        Some(0)
    );
    assert_eq!(
        code(&["compare", "--baseline", b, b, "--max-regression", "lots"]),
        Some(2)
    );
    assert_eq!(
        code(&["compare", "--baseline", b, "/nonexistent.json"]),
        Some(4)
    );
    let mut other = common::results();
    other.machine.model = "Another CPU".into();
    let o = dir.join("other.json");
    other.write(&o).unwrap();
    assert_eq!(
        code(&["compare", "--baseline", b, o.to_str().unwrap()]),
        Some(3)
    );
    // An unwritable --out: the verdict first, then the I/O error's code.
    let out = bench(&["compare", "--baseline", b, b, "--out", "/proc/self/gate"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok:"));
    let _ = std::fs::remove_dir_all(&dir);
}
