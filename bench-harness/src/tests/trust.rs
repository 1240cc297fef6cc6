//! Numbers and files a user can trust: every input that used to hang, inject markup, panic or
//! mislead has a test here (each failed before its fix).

use super::common;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use super::common::results;
use simdconv_bench::schema::results::{BlockMode, BlockRecord, Interval, Results, StepRecord};

/// A fresh directory under the system's temp dir.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("simdconv-trust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `f` on another thread; a hang past `secs` fails the test.
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("{what}: no answer within {secs} s (a hang)"))
}

#[test]
fn a_cache_kind_of_any_text_fingerprints() {
    let mut m = common::machine();
    m.caches[0].kind = String::new();
    m.caches[1].kind = "éé".into();
    let f = m.fingerprint();
    assert!(f.contains("L1?") && f.contains("L2é"), "{f}");
}

#[test]
fn compare_labels_stay_unique_for_any_number_of_files() {
    use simdconv_bench::compare::label;
    let labels: Vec<String> = (0..800).map(label).collect();
    assert_eq!(&labels[..3], ["A", "B", "C"]);
    assert_eq!(labels[25], "Z");
    assert_eq!(labels[26], "AA");
    assert_eq!(labels[27], "AB");
    let mut sorted = labels.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), labels.len());
    assert!(labels
        .iter()
        .all(|l| l.chars().all(|c| c.is_ascii_uppercase())));
}

#[test]
fn oversized_results_files_are_refused_with_a_clear_error() {
    let d = scratch("size");
    let p = d.join("results.json");
    let f = std::fs::File::create(&p).unwrap();
    // Sparse: no disk used, but larger than the cap.
    f.set_len(simdconv_bench::schema::results::MAX_FILE_BYTES + 1)
        .unwrap();
    let e = Results::read(&p).unwrap_err().to_string();
    assert!(e.contains("results.json") && e.contains("cap"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn non_finite_numbers_survive_a_write_and_a_read() {
    let d = scratch("nonfinite");
    let p = d.join("results.json");
    let mut r = results();
    r.results[0].max_rel_error = f64::INFINITY;
    r.results[1].max_rel_error = f64::NAN;
    r.results[2].gflops = Interval {
        point: f64::INFINITY,
        lower: f64::NEG_INFINITY,
        upper: f64::NAN,
    };
    r.write(&p).unwrap();
    let back = Results::read(&p).unwrap();
    assert_eq!(back.results[0].max_rel_error, f64::INFINITY);
    assert!(back.results[1].max_rel_error.is_nan());
    assert_eq!(back.results[2].gflops.point, f64::INFINITY);
    assert_eq!(back.results[2].gflops.lower, f64::NEG_INFINITY);
    assert!(back.results[2].gflops.upper.is_nan());
    // Files written before (non-finite as null) are read too: null is NaN.
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("\"inf\"", "null");
    std::fs::write(&p, text).unwrap();
    let back = Results::read(&p).unwrap();
    assert!(back.results[0].max_rel_error.is_nan());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn results_over_tolerance_or_non_finite_fail_the_run() {
    let mut r = results();
    assert!(simdconv_bench::run::tolerance_failures(&r).is_empty());
    r.results[0].max_rel_error = f64::NAN;
    r.results[1].max_rel_error = 1.0;
    r.results[2].max_rel_error = f64::INFINITY;
    let f = simdconv_bench::run::tolerance_failures(&r);
    assert_eq!(f.len(), 3, "{f:?}");
    assert!(
        f[0].contains(&r.results[0].variant) && f[0].contains("NaN"),
        "{f:?}"
    );
    // And the page marks each as a failed row.
    let html = simdconv_bench::report::render(&r).unwrap();
    assert!(html.matches("<tr class=\"fail\">").count() >= 3);
}

/// Extreme but finite values, and denormals, reach the axes: every page still renders.
#[test]
fn extreme_values_never_hang_the_report_or_the_comparison() {
    let mut r = results();
    r.results[0].intensity = 1e308;
    r.results[1].max_rel_error = 1e308;
    r.results[2].gflops = Interval {
        point: 1e-308,
        lower: 1e-308,
        upper: 1e-308,
    };
    r.results[3].gflops = Interval {
        point: 1e308,
        lower: 1e308,
        upper: 1e308,
    };
    r.results[3].time_ns = Interval {
        point: 1e-300,
        lower: 1e-300,
        upper: 1e-300,
    };
    let r2 = r.clone();
    let html = within(60, "report", move || {
        simdconv_bench::report::render(&r2).map_err(|e| e.to_string())
    })
    .unwrap();
    assert!(html.contains("<svg"));
    let inputs = vec![
        simdconv_bench::compare::Input {
            tag: "A".into(),
            path: "a.json".into(),
            results: r.clone(),
        },
        simdconv_bench::compare::Input {
            tag: "B".into(),
            path: "b.json".into(),
            results: results(),
        },
    ];
    let page = within(60, "compare", move || {
        simdconv_bench::compare::render(&inputs, None).map_err(|e| e.to_string())
    })
    .unwrap();
    assert!(page.contains("<svg"));
}

fn block(claim: &str, isa: &str) -> BlockRecord {
    BlockRecord {
        claim: claim.into(),
        title: format!("{claim} title"),
        side: 0,
        name: "side <b>0</b>".into(),
        isa: isa.into(),
        mode: BlockMode::Best,
        flops: 1_000_000,
        time_ns: Interval::exact(1e6),
        steps: vec![StepRecord {
            name: "conv <i>1</i>".into(),
            variant: "f32-direct-avx2-6x16".into(),
            flops: 1_000_000,
            bytes: 1000,
            time_ns: Interval::exact(5e5),
        }],
        scaling: false,
    }
}

#[test]
fn nothing_from_a_results_file_reaches_the_page_unescaped() {
    let mut r = results();
    let evil_isa = "<script>alert(1)</script>";
    let evil_claim = "nin\"><img src=x onerror=alert(2)>";
    r.blocks = vec![block(evil_claim, evil_isa), block("nin", "avx2")];
    r.results[0].layer = "<svg onload=alert(3)>".into();
    r.results[1].variant = "f32-direct-avx2-6x16<script>".into();
    r.settings.filter = Some("</title><script>".into());
    r.machine.model = "CPU <iframe>".into();
    let html = simdconv_bench::report::render(&r).unwrap();
    for bad in [
        "<script>",
        "<img src=x",
        "<svg onload",
        "<iframe>",
        "</title><script>",
    ] {
        assert!(!html.contains(bad), "{bad} reached the page");
    }
}

/// Stale temporary files from a killed writer are removed, and an interrupted pair replace is
/// completed by the next writer.
#[test]
fn interrupted_writes_leave_no_debris() {
    use simdconv_bench::files::{recover_dir, write_pair};
    let d = scratch("pair");
    let (a, b) = (d.join("results.json"), d.join("index.html"));
    write_pair(&[(&a, b"old json"), (&b, b"old html")]).unwrap();
    // A writer killed after its temporaries (a dead PID's names) and the journal were written.
    std::fs::write(d.join(".results.json.tmp-999999999"), b"new json").unwrap();
    std::fs::write(d.join(".index.html.tmp-999999999"), b"new html").unwrap();
    std::fs::write(
        d.join(".replace-pending"),
        ".results.json.tmp-999999999\tresults.json\n.index.html.tmp-999999999\tindex.html\n",
    )
    .unwrap();
    recover_dir(&d).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), b"new json");
    assert_eq!(std::fs::read(&b).unwrap(), b"new html");
    // Killed before the journal: its temporaries are debris, deleted.
    std::fs::write(d.join(".results.json.tmp-999999998"), b"partial").unwrap();
    recover_dir(&d).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), b"new json");
    let left: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".simdconv.lock")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A writer killed between its renames (results.json new, index.html still the temporary) is
/// rolled forward: the journal proves every temporary was complete, so the set ends new.
#[test]
fn a_kill_between_renames_is_rolled_forward() {
    use simdconv_bench::files::{recover_dir, write_pair};
    let d = scratch("rollforward");
    let (a, b) = (d.join("results.json"), d.join("index.html"));
    write_pair(&[(&a, b"old json"), (&b, b"old html")]).unwrap();
    // The first rename happened (results.json is new), the second did not.
    std::fs::write(&a, b"new json").unwrap();
    std::fs::write(d.join(".index.html.tmp-999999999-00ff"), b"new html").unwrap();
    std::fs::write(
        d.join(".replace-pending"),
        ".results.json.tmp-999999999-00ff\tresults.json\n.index.html.tmp-999999999-00ff\tindex.html\n",
    )
    .unwrap();
    recover_dir(&d).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), b"new json");
    assert_eq!(std::fs::read(&b).unwrap(), b"new html");
    assert!(!d.join(".replace-pending").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// Temporaries are created exclusively under unpredictable names: a symlink planted where an
/// older version put its temporary redirects nothing, and the target stays a plain file.
#[test]
#[cfg(unix)]
fn a_planted_symlink_does_not_redirect_a_write() {
    use simdconv_bench::files::write_atomic;
    let d = scratch("symlink");
    let victim = d.join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    let target = d.join("index.html");
    let planted = d.join(format!(".index.html.tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    write_atomic(&target, b"page").unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(std::fs::read(&target).unwrap(), b"page");
    assert!(!std::fs::symlink_metadata(&target).unwrap().is_symlink());
    let _ = std::fs::remove_dir_all(&d);
}

/// One writer per output folder: a second lock on it is refused, naming the folder, until the
/// first is dropped.
#[test]
fn an_output_folder_has_one_writer_at_a_time() {
    use simdconv_bench::files::{lock_dir, write_atomic};
    let d = scratch("lock");
    let first = lock_dir(&d).unwrap();
    let e = lock_dir(&d).err().expect("a second writer is refused");
    assert!(e.contains("another simdconv-bench"), "{e}");
    // The holder itself still writes (under its own lock).
    write_atomic(&d.join("results.json"), b"x").unwrap();
    drop(first);
    let _again = lock_dir(&d).unwrap();
    let _ = std::fs::remove_dir_all(&d);
}

/// Devices and FIFOs are refused before they are read: /dev/zero reports size 0 and never ends.
#[test]
#[cfg(target_os = "linux")]
fn devices_are_not_read() {
    let e = within(10, "/dev/zero", || {
        Results::read(std::path::Path::new("/dev/zero"))
            .err()
            .map(|e| e.to_string())
    })
    .expect("refused");
    assert!(e.contains("not a regular file"), "{e}");
    let e = within(10, "/dev/zero map", || {
        simdconv::auto::TuningMap::read(std::path::Path::new("/dev/zero"))
            .err()
            .map(|e| e.to_string())
    })
    .expect("refused");
    assert!(e.contains("not a regular file"), "{e}");
}

/// CSV cells that a spreadsheet would evaluate as formulas are neutralised.
#[test]
fn csv_cells_never_start_a_formula() {
    let mut r = results();
    r.results[0].layer = "=HYPERLINK(\"http://x\",\"y\")".into();
    r.results[1].layer = "+1+cmd|' /C calc'!A0".into();
    r.results[2].layer = "@SUM(1)".into();
    let csv = simdconv_bench::export::csv(&r);
    for line in csv.lines().skip(1) {
        let first = line.trim_start_matches('"');
        assert!(
            !first.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{line}"
        );
    }
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
}

/// A scaling claim with no "best" records used to hang the report (a log axis from f64::MAX).
#[test]
fn a_scaling_claim_without_best_records_renders() {
    let mut r = results();
    let mut b = block("effnet", "avx2");
    b.scaling = true;
    b.mode = BlockMode::Fixed(simdconv::Algorithm::Direct);
    r.blocks = vec![b];
    within(30, "report", move || {
        simdconv_bench::report::render(&r)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .unwrap();
}

/// `run --batch` sizes beyond memory are refused before measuring, with the estimate.
#[test]
fn a_batch_beyond_memory_is_refused_with_its_estimate() {
    use simdconv_bench::run::check_memory;
    use simdconv_bench::suite::Suite;
    let layers: Vec<_> = Suite::Quick
        .layers()
        .iter()
        .map(|l| l.with_batch(1024))
        .collect();
    let e = check_memory(&layers, false, Some(1 << 30)).unwrap_err();
    assert!(e.contains("GB to measure") && e.contains("--batch"), "{e}");
    assert!(check_memory(&layers[..1], false, None).is_ok());
    let one: Vec<_> = Suite::Quick.layers();
    assert!(check_memory(&one, true, Some(8 << 30)).is_ok());
}

#[test]
fn proc_lines_parse() {
    use simdconv_bench::stability::{parse_cpu_line, thread_state};
    assert_eq!(
        parse_cpu_line("cpu  100 5 50 800 10 1 2 30 7 0"),
        Some((998, 30))
    );
    assert_eq!(parse_cpu_line("cpu0 1 2 3"), None);
    assert_eq!(thread_state("1234 (my (odd) name) R 1 2 3"), Some('R'));
    assert_eq!(thread_state("1234 (x) S 1"), Some('S'));
}

fn checked(spread: f64, end_factor: f64, others: f64, steal: f64) -> Results {
    use simdconv_bench::schema::machine::{CeilingCheck, Load};
    let mut r = results();
    let load = Load {
        load1: 1.0,
        others_running: others,
        steal_pct: steal,
        samples: 8,
    };
    let start = r.machine.ceiling_values();
    r.machine.check = Some(CeilingCheck {
        rounds: 3,
        spread: start.keys().map(|k| (k.clone(), spread)).collect(),
        end: start
            .iter()
            .map(|(k, v)| (k.clone(), v * end_factor))
            .collect(),
        load_ceilings: Some(load),
        load_run: Some(load),
    });
    r
}

#[test]
fn ceilings_that_moved_or_a_busy_machine_are_warned_about() {
    let calm = checked(0.02, 0.97, 0.1, 0.2);
    assert!(
        calm.machine.warnings().is_empty(),
        "{:?}",
        calm.machine.warnings()
    );
    let html = simdconv_bench::report::render(&calm).unwrap();
    assert!(!html.contains("Ceilings may not hold"));
    assert!(
        html.contains("ceiling spread") && html.contains("avx2 2%"),
        "spread shown"
    );
    assert!(html.contains("re-measured at the end of the run") && html.contains("avx2 -3%"));
    // Drift past 10% between start and end (the 85.5 -> 52.7 case).
    let drift = checked(0.02, 0.62, 0.1, 0.2);
    let w = drift.machine.warnings();
    assert!(
        w.iter().any(|w| w.contains("avx2") && w.contains("-38%")),
        "{w:?}"
    );
    // Spread across rounds, other runnable tasks, steal.
    let w = checked(0.25, 1.0, 0.1, 0.2).machine.warnings();
    assert!(w.iter().any(|w| w.contains("varied 25%")), "{w:?}");
    let w = checked(0.02, 1.0, 1.5, 0.2).machine.warnings();
    assert!(w.iter().any(|w| w.contains("other runnable")), "{w:?}");
    let w = checked(0.02, 1.0, 0.1, 9.0).machine.warnings();
    assert!(w.iter().any(|w| w.contains("stole 9.0%")), "{w:?}");
    let html = simdconv_bench::report::render(&drift).unwrap();
    assert!(html.contains("class=\"warn\"") && html.contains("Ceilings may not hold"));
}

#[test]
fn results_above_their_roof_are_flagged_not_hidden() {
    use simdconv_bench::roof::above_roof;
    let mut r = checked(0.05, 1.0, 0.0, 0.0);
    // Scalar peak 10 GFLOP/s: 10.3 is inside the 5% spread, 14 is above it.
    r.results[0].gflops = Interval {
        point: 10.3,
        lower: 10.2,
        upper: 10.4,
    };
    assert!(above_roof(&r.machine, &r.results[0]).is_none());
    r.results[0].gflops = Interval {
        point: 14.0,
        lower: 13.0,
        upper: 15.0,
    };
    let f = above_roof(&r.machine, &r.results[0]).unwrap();
    assert!((f - 1.4).abs() < 1e-9, "{f}");
    let html = simdconv_bench::report::render(&r).unwrap();
    assert!(html.contains("ABOVE ROOF") && html.contains("above their own roof"));
}
