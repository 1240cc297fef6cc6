//! `results.csv`: one row per (layer, variant) result, for spreadsheets and pandas. The columns
//! are [`COLUMNS`], documented in reports/README.md; numbers are plain decimals, absent values
//! empty, text fields quoted where they hold a comma, a quote or a line break (RFC 4180).

use std::fmt::Write as _;

use crate::answer::{layer_order, verdict, Standing};
use crate::roof::attainable;
use crate::schema::results::Results;

/// The header row.
pub(crate) const COLUMNS: [&str; 41] = [
    "layer",
    "variant",
    "algorithm",
    "isa",
    "tile",
    "types",
    "n",
    "h",
    "w",
    "c",
    "k",
    "r",
    "s",
    "stride_h",
    "stride_w",
    "pad_top",
    "pad_left",
    "pad_bottom",
    "pad_right",
    "dilation_h",
    "dilation_w",
    "groups",
    "flops",
    "bytes",
    "intensity",
    "time_ms",
    "time_ms_lower",
    "time_ms_upper",
    "gflops",
    "gflops_lower",
    "gflops_upper",
    "fraction_of_isa_peak",
    "roof_gflops",
    "roof_limit",
    "fraction_of_roof",
    "max_rel_error",
    "tolerance",
    "within_tolerance",
    "scratch_bytes",
    "verdict",
    "threads",
];

/// A text cell: quoted where it holds a separator, a quote or a line break, and prefixed with
/// `'` where it starts like a formula (`=`, `+`, `-`, `@`, tab, CR), as OWASP recommends
/// against CSV injection, so a spreadsheet shows the name instead of evaluating it.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// The CSV text. `verdict` is `win` for a layer's clear winner, `tie` for every variant tied
/// for first, empty otherwise.
pub fn csv(res: &Results) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for threads in res.thread_counts() {
        let view = res.at_threads(threads);
        rows(&view, threads, &mut out);
    }
    out
}

/// The rows of one thread count's view; `verdict` compares records of that count only.
fn rows(res: &Results, threads: usize, out: &mut String) {
    for layer in layer_order(res) {
        let recs: Vec<_> = res.layer_records(layer).collect();
        let v = verdict(&recs);
        for rec in recs {
            let tag = match v.as_ref().and_then(|v| v.standing(rec)) {
                Some(Standing::Win) => "win",
                Some(Standing::Tie) => "tie",
                None => "",
            };
            let roof = attainable(&res.machine, rec);
            let s = &rec.shape;
            let t = rec.time_ns.scaled(1e6);
            let cells = [
                field(&rec.layer),
                field(&rec.variant),
                field(&rec.algorithm),
                field(&rec.isa),
                field(&rec.tile),
                field(&rec.types),
                s.n.to_string(),
                s.h.to_string(),
                s.w.to_string(),
                s.c.to_string(),
                s.k.to_string(),
                s.r.to_string(),
                s.s.to_string(),
                s.stride_h.to_string(),
                s.stride_w.to_string(),
                s.pad_top.to_string(),
                s.pad_left.to_string(),
                s.pad_bottom.to_string(),
                s.pad_right.to_string(),
                s.dilation_h.to_string(),
                s.dilation_w.to_string(),
                s.groups.to_string(),
                rec.flops.to_string(),
                rec.bytes.to_string(),
                rec.intensity.to_string(),
                t.point.to_string(),
                t.lower.to_string(),
                t.upper.to_string(),
                rec.gflops.point.to_string(),
                rec.gflops.lower.to_string(),
                rec.gflops.upper.to_string(),
                opt(rec.fraction_of_peak),
                opt(roof.as_ref().map(|r| r.0)),
                field(roof.as_ref().map_or("", |r| r.1.as_str())),
                opt(roof.as_ref().map(|r| rec.gflops.point / r.0)),
                rec.max_rel_error.to_string(),
                rec.tolerance.to_string(),
                rec.within_tolerance().to_string(),
                rec.scratch_bytes.to_string(),
                tag.to_string(),
                threads.to_string(),
            ];
            let _ = writeln!(out, "{}", cells.join(","));
        }
    }
}
