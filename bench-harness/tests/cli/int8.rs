//! `run --dtype f32,int8,bf16`: the int8 and bf16 rows are measured beside the f32 ones, recorded
//! apart with their speed against the best f32 and their accuracy, and shown on the page and the
//! console.

use super::{bench, fresh, stderr};
use simdconv_bench::schema::results::Results;

#[test]
fn run_dtype_int8_records_speed_and_accuracy() {
    let out = fresh("int8").join("out");
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--isa",
        "scalar",
        "--filter",
        "smoke_1x1_14/.*-(pointwise|direct)-scalar",
        "--dtype",
        "f32,int8,bf16",
        "--threads",
        "1,2",
        "--measurement-time",
        "0.02",
        "--warm-up-time",
        "0.01",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = Results::read(&out.join("results.json")).unwrap();
    // f32 rows stay f32 only; the others are apart, one per int8 and bf16 scalar row and thread
    // count (the two-thread one set against the two-thread f32 rows, with no one-core roof).
    assert!(r.results.iter().all(|x| x.types == "f32"));
    let two: Vec<_> = r.precision.iter().filter(|p| p.threads == 2).collect();
    assert_eq!(two.len(), 4);
    assert!(two
        .iter()
        .all(|p| p.fraction_of_peak.is_none() && p.speedup.is_some()));
    let names: Vec<&str> = r
        .precision
        .iter()
        .filter(|p| p.threads == 1)
        .map(|p| p.variant.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "u8s8u8-direct-scalar-2x4",
            "u8s8u8-pointwise-scalar-2x4",
            "bf16bf16f32-direct-scalar-2x4",
            "bf16bf16f32-pointwise-scalar-2x4"
        ]
    );
    for p in r.precision.iter().filter(|p| p.family() == "bf16") {
        assert!(p.fraction_of_peak.is_none() || p.threads == 1);
        // Inputs rounded to 8 significant bits: errors of order 2^-9 of the terms, well under
        // an int8 step, and not zero.
        assert!(p.max_error > 0.0 && p.max_error < 0.01, "{p:?}");
        assert!(p.rms_error < p.max_error, "{p:?}");
    }
    for p in r.precision.iter().filter(|p| p.family() == "int8") {
        let s = p.speedup.expect("the f32 rows of the layer were measured");
        assert!(s.lower <= s.point && s.point <= s.upper, "{s:?}");
        assert!(p.best_f32.as_deref().is_some_and(|v| v.starts_with("f32-")));
        // 8-bit activations, weights and output: a few steps (1/255 each) of the range at most.
        assert!(
            p.max_error > 0.0 && p.max_error < 0.03,
            "max error {}",
            p.max_error
        );
        assert!(
            p.rms_error < p.max_error,
            "rms {} max {}",
            p.rms_error,
            p.max_error
        );
    }
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("What int8 and bf16 buy") && page.contains("u8s8u8-"));
    assert!(page.contains("bf16bf16f32-") && page.contains("Low-precision roofline"));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("what low precision buys") && text.contains("f32/bf16"),
        "{text}"
    );
}

#[test]
fn run_dtype_refuses_unknown_types() {
    let o = bench(&["run", "--dtype", "f16"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown element type \"f16\""),
        "{}",
        stderr(&o)
    );
}
