//! A time-bounded fuzzer for the harness's readers: a real results file (two layers and two
//! building-block claims of an example run), mutated at random (numbers made extreme,
//! non-finite, negative or the wrong type; strings made empty, huge, multi-byte or markup;
//! arrays emptied or doubled; fields deleted), is read back and, when it reads, rendered into
//! the report, compared with the original, gated both ways and exported. Every step must return
//! or fail with an error: a panic, a case slower than 10 s (a hang) or markup from the file on
//! a page is a failure (exit 1). Each case also builds a candidate slower than the gate's
//! threshold on every row, with its intervals, shapes and FLOPs mutated at random: the gate must
//! never pass it (on the same machine, or across machines when that is allowed).
//!
//!     cargo run --release -p simdconv-bench --example fuzz_files -- SECONDS [SEED]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use simdconv_bench::schema::results::Results;
use simdconv_bench::views::{self, Allow, Input};

const SLOW_CASE: Duration = Duration::from_secs(10);
const MARKUP: &str = "<script>alert(1)</script>";
const ATTRIBUTE: &str = "\"><img src=x onerror=alert(2)>";

/// The seed file: the example run cut to two layers, their auto picks and two claims.
fn seed() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../reports/examples/amd-epyc-avx512-all-isas/results.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the fuzzer's seed file)", path.display()));
    let mut v: Value = serde_json::from_str(&text).expect("seed parses");
    let keep = ["resnet_3x3_14", "mbv2_dw_14"];
    let layer_ok = |x: &Value| {
        x.get("layer")
            .or_else(|| x.get("name"))
            .and_then(Value::as_str)
            .is_some_and(|n| keep.contains(&n))
    };
    for field in ["results", "layers", "auto"] {
        if let Some(a) = v.get_mut(field).and_then(Value::as_array_mut) {
            a.retain(layer_ok);
        }
    }
    if let Some(a) = v.get_mut("blocks").and_then(Value::as_array_mut) {
        a.retain(|b| {
            matches!(
                b.get("claim").and_then(Value::as_str),
                Some("nin" | "dwsep-14")
            )
        });
    }
    v
}

/// JSON pointers of every node under `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn extreme_number(rng: &mut ChaCha8Rng) -> Value {
    let pick = [
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!(1e308),
        serde_json::json!(-1e308),
        serde_json::json!(5e-324),
        serde_json::json!(1e-308),
        serde_json::json!(u64::MAX),
        serde_json::json!("nan"),
        serde_json::json!("inf"),
        serde_json::json!("-inf"),
        Value::Null,
        serde_json::json!(0.5),
    ];
    pick[rng.random_range(0..pick.len())].clone()
}

fn odd_string(rng: &mut ChaCha8Rng) -> Value {
    let pick = [
        String::new(),
        MARKUP.to_string(),
        ATTRIBUTE.to_string(),
        "é".to_string(),
        "x".repeat(5000),
        "nan".to_string(),
        "a/b\\c\n\"d".to_string(),
    ];
    Value::String(pick[rng.random_range(0..pick.len())].clone())
}

/// One random mutation of one node.
fn mutate(v: &mut Value, rng: &mut ChaCha8Rng) {
    let mut ps = Vec::new();
    pointers(v, String::new(), &mut ps);
    let p = &ps[rng.random_range(0..ps.len())];
    let Some(node) = v.pointer_mut(p) else {
        return;
    };
    match node {
        Value::Number(_) | Value::Null | Value::Bool(_) => *node = extreme_number(rng),
        Value::String(_) => {
            *node = if rng.random_bool(0.8) {
                odd_string(rng)
            } else {
                extreme_number(rng)
            }
        }
        Value::Array(a) => match rng.random_range(0..3) {
            0 => a.clear(),
            1 if !a.is_empty() => {
                let i = rng.random_range(0..a.len());
                let x = a[i].clone();
                a.push(x);
            }
            _ => *node = odd_string(rng),
        },
        Value::Object(m) => {
            if let Some(k) = m.keys().nth(rng.random_range(0..m.len().max(1))).cloned() {
                if rng.random_bool(0.5) {
                    m.remove(&k);
                } else {
                    m.insert(k, Value::Null);
                }
            }
        }
    }
}

/// Renders, compares, gates and exports `res` against `orig`; the pages must hold no markup
/// from the file.
fn exercise(res: Results, orig: &Results) {
    let check = |what: &str, html: &str| {
        assert!(
            !html.contains(MARKUP) && !html.contains("<img src=x"),
            "{what}: markup from the file reached the page"
        );
    };
    if let Ok(html) = views::report_page(&res) {
        check("report", &html);
    }
    let _ = views::csv(&res);
    let _ = views::winner_table(&res.at_fewest_threads());
    let inputs = vec![
        Input {
            tag: views::label(0),
            path: "mutated.json".into(),
            results: res.at_fewest_threads(),
        },
        Input {
            tag: views::label(1),
            path: "seed.json".into(),
            results: orig.clone(),
        },
    ];
    if let Ok(html) = views::compare_page(&inputs, Some(MARKUP)) {
        check("compare", &html);
    }
    let _ = views::compare_summary(&inputs);
    for (b, c) in [(&res, orig), (orig, &res)] {
        let gate = views::gate(b, c, 0.05, Allow::default());
        let page = views::gate_page(&inputs[0], &inputs[1], &gate, "5%");
        check("gate", &page);
    }
}

/// `orig` with every row slower than 5% (by 6% to 10x), each interval random (consistent,
/// inverted, a point outside it, very wide, or 1 ns wide at the bottom), and now and then a
/// shape or FLOP count changed.
fn slower_everywhere(orig: &Results, rng: &mut ChaCha8Rng) -> Results {
    let mut c = orig.clone();
    for r in &mut c.results {
        let t = r.time_ns.point * rng.random_range(1.06..10.0);
        let (lo, hi) = (rng.random_range(0.0..2.0), rng.random_range(0.0..2.0));
        r.time_ns = match rng.random_range(0..5) {
            0 => views::Interval {
                point: t,
                lower: t * (1.0 - lo / 2.0),
                upper: t * (1.0 + hi),
            },
            1 => views::Interval {
                point: t,
                lower: t * (1.0 + hi),
                upper: t * (1.0 - lo / 2.0),
            },
            2 => views::Interval {
                point: t,
                lower: r.time_ns.lower,
                upper: r.time_ns.upper,
            },
            3 => views::Interval {
                point: t,
                lower: 1.0,
                upper: t * (1.0 + hi),
            },
            _ => views::Interval {
                point: t,
                lower: t * 0.999,
                upper: t * 1.001,
            },
        };
        match rng.random_range(0..10) {
            0 => r.shape.n += 1,
            1 => r.flops = r.flops / 2 + 1,
            _ => {}
        }
    }
    c
}

/// The gate's rule: a candidate slower than the threshold on every row never passes.
fn gate_rule(orig: &Results, rng: &mut ChaCha8Rng) {
    let cand = slower_everywhere(orig, rng);
    let verdict = views::gate(orig, &cand, 0.05, Allow::default());
    assert!(
        !matches!(verdict, views::Gate::Pass { .. }),
        "the gate passed a candidate slower on every row: {verdict:?}"
    );
    let mut other = cand;
    other.machine.model = "Another CPU".into();
    let allow = Allow {
        cross_machine: true,
        missing: false,
    };
    let verdict = views::gate(orig, &other, 0.05, allow);
    assert!(
        !matches!(verdict, views::Gate::Pass { .. }),
        "the cross-machine gate passed a candidate slower on every row: {verdict:?}"
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let seed_n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0xf11e);
    let mut rng = ChaCha8Rng::seed_from_u64(seed_n);
    let base = seed();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("simdconv-fuzz-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("results.json");
    std::fs::write(&file, base.to_string()).expect("write seed");
    let orig = Results::read(&file).expect("the seed file reads");
    let watch = Arc::new(Mutex::new((Instant::now(), String::new())));
    {
        let watch = watch.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            let Ok((since, case)) = watch.lock().map(|w| w.clone()) else {
                continue;
            };
            if since.elapsed() > SLOW_CASE {
                eprintln!("SLOW case (over {SLOW_CASE:?}, a hang): {case}");
                std::process::exit(1);
            }
        });
    }
    std::panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut cases, mut read_ok) = (0u64, 0u64);
    while Instant::now() < deadline {
        cases += 1;
        let mut v = base.clone();
        let n = rng.random_range(1..5);
        for _ in 0..n {
            mutate(&mut v, &mut rng);
        }
        let text = v.to_string();
        let case = format!("case {cases}: {n} mutations, {} bytes", text.len());
        if let Ok(mut w) = watch.lock() {
            *w = (Instant::now(), case.clone());
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            gate_rule(&orig, &mut rng);
            std::fs::write(&file, &text).expect("write case");
            match Results::read(&file) {
                Ok(res) => {
                    exercise(res, &orig);
                    true
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    false
                }
            }
        }));
        match outcome {
            Ok(ok) => read_ok += u64::from(ok),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let kept = dir.join(format!("panic-{cases}.json"));
                let _ = std::fs::write(&kept, &text);
                eprintln!("PANIC on {case}: {msg}\n  input kept at {}", kept.display());
                std::process::exit(1);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "fuzz_files: {cases} mutated results files in {seconds} s (seed {seed_n}): {read_ok} read and rendered, compared, gated and exported, {} refused with an error, {cases} all-slower candidates failed by the gate, 0 panics, 0 hangs",
        cases - read_ok
    );
}
