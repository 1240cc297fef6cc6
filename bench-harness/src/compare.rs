//! Comparing results across CPUs (and against a baseline): the side-by-side page, the text
//! summary, and the gate's table and page. The gate's decision is `gate.rs`'s.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::report::bars::{self, Scale};
use crate::report::charts;
use maud::html;

use crate::gate::{Gate, GateRow};
use crate::report::page::{l, r, Page, RowClass, Table};
use crate::schema::results::{Record, Results};

/// The label of the `i`-th file: A .. Z, then AA, AB, .. (spreadsheet columns), unique for any
/// number of files.
pub fn label(i: usize) -> String {
    let mut n = i + 1;
    let mut s = Vec::new();
    while n > 0 {
        n -= 1;
        s.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// One input file, labelled for tables and legends.
pub struct Input {
    /// Short label: `A`, `B`, ...
    pub tag: String,
    /// Path as given.
    pub path: String,
    /// Its contents.
    pub results: Results,
}

impl Input {
    /// `A: <model> (<name>)`, the name as given on the command line, or for an absolute path
    /// its last two components (no machine's directory layout on a shared page).
    pub(crate) fn label(&self) -> String {
        format!(
            "{}: {} ({})",
            self.tag,
            self.results.machine.model,
            display_name(&self.path)
        )
    }
    fn record(&self, layer: &str, variant: &str) -> Option<&Record> {
        self.results
            .results
            .iter()
            .find(|r| r.layer == layer && r.variant == variant)
    }
    fn best(&self, layer: &str) -> Option<&Record> {
        self.results
            .results
            .iter()
            .filter(|r| r.layer == layer)
            .max_by(|a, b| a.gflops.point.total_cmp(&b.gflops.point))
    }
    /// FLOP per cycle at the nominal clock, where the clock is known.
    fn flop_per_cycle(&self, r: &Record) -> Option<f64> {
        self.results
            .machine
            .clock_ghz
            .map(|ghz| r.gflops.point / ghz)
    }
}

/// A file name for display: as given when relative, the last two components when absolute.
pub(crate) fn display_name(path: &str) -> String {
    let p = std::path::Path::new(path);
    if !p.is_absolute() {
        return path.to_string();
    }
    let parts: Vec<String> = p
        .components()
        .rev()
        .take(2)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// (layer, variant) keys in the order of the first file that has them.
fn keys(inputs: &[Input]) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for i in inputs {
        for r in &i.results.results {
            if seen.insert((r.layer.clone(), r.variant.clone())) {
                out.push((r.layer.clone(), r.variant.clone()));
            }
        }
    }
    out
}

fn layers(inputs: &[Input]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (l, _) in keys(inputs) {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// The plain-text summary: per layer, the best variant of each CPU with GFLOP/s and fraction of
/// that machine's own peak; then every shared row with the ratio to the first file; then the
/// rows present on some CPUs only.
pub fn summary(inputs: &[Input]) -> String {
    let mut s = String::new();
    for i in inputs {
        let m = &i.results.machine;
        let _ = writeln!(s, "{}\n   peaks GFLOP/s: {}", i.label(), m.peaks_text(0));
    }
    let _ = writeln!(
        s,
        "\nbest variant per layer (GFLOP/s, % of that machine's peak for the ISA):"
    );
    for l in layers(inputs) {
        let mut line = format!("{l:<22}");
        for i in inputs {
            match i.best(&l) {
                Some(r) => {
                    let _ = write!(
                        line,
                        " | {}: {:<26} {:7.1} ({:>3.0}%)",
                        i.tag,
                        r.variant,
                        r.gflops.point,
                        r.fraction_of_peak.unwrap_or(0.0) * 100.0
                    );
                }
                None => {
                    let _ = write!(line, " | {}: {:<26} {:>7} {:>6}", i.tag, "-", "-", "");
                }
            }
        }
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(
        s,
        "\nshared rows (GFLOP/s [interval], ratio to {}):",
        inputs[0].tag
    );
    let mut only = Vec::new();
    for (l, v) in keys(inputs) {
        let present: Vec<(&Input, &Record)> = inputs
            .iter()
            .filter_map(|i| i.record(&l, &v).map(|r| (i, r)))
            .collect();
        if present.len() < inputs.len() {
            let tags: Vec<&str> = present.iter().map(|(i, _)| i.tag.as_str()).collect();
            only.push(format!("{l}/{v}: only on {}", tags.join(", ")));
            continue;
        }
        let base = present[0].1.gflops.point;
        let mut line = format!("{:<48}", format!("{l}/{v}"));
        for (i, r) in &present {
            let _ = write!(
                line,
                " | {} {:7.1} [{:.1}, {:.1}] x{:.2} {:>3.0}%",
                i.tag,
                r.gflops.point,
                r.gflops.lower,
                r.gflops.upper,
                r.gflops.point / base,
                r.fraction_of_peak.unwrap_or(0.0) * 100.0
            );
        }
        let _ = writeln!(s, "{line}");
    }
    if !only.is_empty() {
        let _ = writeln!(s, "\nrows present on some CPUs only:");
        for o in only {
            let _ = writeln!(s, "  {o}");
        }
    }
    s
}

type Rendered = Result<(), Box<dyn std::error::Error>>;

/// The comparison page: the machines, the best variant per layer per CPU, every variant per
/// layer, fractions of each machine's own peak, and every row as text.
pub fn render(inputs: &[Input], note: Option<&str>) -> Result<String, Box<dyn std::error::Error>> {
    let mut page = Page::new(
        "simdconv comparison",
        &format!("simdconv: {} result files compared", inputs.len()),
    );
    if let Some(n) = note {
        page.note(html! { strong { (n) } });
    }
    page.note(html! {
        "Raw GFLOP/s depend on the machine; the fair cross-CPU number is the fraction of "
        em { "each machine's own" }
        " measured peak for the ISA. Intervals are criterion's. FLOP/cycle uses each machine's nominal clock where known."
    });
    machines(&mut page, inputs);
    best_per_layer(&mut page, inputs)?;
    every_variant(&mut page, inputs)?;
    fractions(&mut page, inputs)?;
    page.heading("Every row");
    page.add(html! { pre { (summary(inputs)) } });
    Ok(page.finish())
}

/// Colour of the n-th file's series.
fn cpu_color(n: usize) -> plotters::style::RGBColor {
    charts::CPU_COLORS[n % charts::CPU_COLORS.len()]
}

fn machines(page: &mut Page, inputs: &[Input]) {
    page.heading("Machines");
    let mut t = Table::new(
        "card",
        &[
            "file",
            "model",
            "flags",
            "peak GFLOP/s",
            "read GB/s",
            "suite",
        ],
    );
    for i in inputs {
        let m = &i.results.machine;
        let settings = &i.results.settings;
        let suite = match &settings.filter {
            Some(f) => format!("{} (filter {f})", settings.suite),
            None => settings.suite.to_string(),
        };
        t.row(
            &[
                l(format!("{}: {}", i.tag, display_name(&i.path))),
                l(&m.model),
                l(m.flags.join(" ")),
                l(m.peaks_text(0)),
                l(m.bandwidth_text(0)),
                l(suite),
            ],
            false,
        );
    }
    page.add(t.finish());
}

fn best_per_layer(page: &mut Page, inputs: &[Input]) -> Rendered {
    page.heading("Best variant per layer");
    page.text("Per file: the fastest variant, its GFLOP/s, its fraction of that machine's own peak for the ISA, and FLOP per cycle at the nominal clock. Amber rows: the CPUs' fastest algorithms differ.");
    let mut headers = vec!["layer".to_string()];
    headers.extend(inputs.iter().map(|i| format!("{}: best variant", i.tag)));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new("", &headers);
    let ls = layers(inputs);
    for layer in &ls {
        let mut cells = vec![l(layer)];
        cells.extend(inputs.iter().map(|i| match i.best(layer) {
            Some(rec) => l(format!(
                "{} {:.1} GFLOP/s, {} of peak, {} FLOP/cycle",
                rec.variant,
                rec.gflops.point,
                rec.fraction_of_peak
                    .map_or("–".into(), |f| format!("{:.0}%", f * 100.0)),
                i.flop_per_cycle(rec)
                    .map_or("–".into(), |f| format!("{f:.1}"))
            )),
            None => l("–"),
        }));
        let mut algorithms: Vec<&str> = inputs
            .iter()
            .filter_map(|i| i.best(layer).map(|r| r.algorithm.as_str()))
            .collect();
        algorithms.sort();
        algorithms.dedup();
        t.row_class(&cells, (algorithms.len() > 1).then_some(RowClass::Tie));
    }
    page.add(t.finish());
    let series: Vec<bars::Series> = inputs
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let v = ls.iter().map(|l| i.best(l).map(|r| r.gflops)).collect();
            (i.label(), cpu_color(n), v)
        })
        .collect();
    page.chart(&bars::hbars(
        "Best variant per layer, per CPU",
        "GFLOP/s (log)",
        &ls,
        &series,
        Scale::Value,
    )?);
    Ok(())
}

fn every_variant(page: &mut Page, inputs: &[Input]) -> Rendered {
    page.heading("Per layer, every variant");
    for layer in &layers(inputs) {
        let mut vs: Vec<String> = Vec::new();
        for i in inputs {
            for rec in i.results.results.iter().filter(|r| &r.layer == layer) {
                if !vs.contains(&rec.variant) {
                    vs.push(rec.variant.clone());
                }
            }
        }
        let series: Vec<bars::Series> = inputs
            .iter()
            .enumerate()
            .map(|(n, i)| {
                let v = vs
                    .iter()
                    .map(|v| i.record(layer, v).map(|r| r.gflops))
                    .collect();
                (i.label(), cpu_color(n), v)
            })
            .collect();
        page.chart(&bars::hbars(
            &format!("{layer}: GFLOP/s per variant, per CPU"),
            "GFLOP/s (log)",
            &vs,
            &series,
            Scale::Value,
        )?);
    }
    Ok(())
}

/// File A's fraction of its own peak against each other file's, per shared row.
fn fractions(page: &mut Page, inputs: &[Input]) -> Rendered {
    if inputs.len() < 2 {
        return Ok(());
    }
    page.heading("Fraction of each machine's own peak");
    for other in &inputs[1..] {
        let pts: Vec<(String, f64, f64)> = keys(inputs)
            .iter()
            .filter_map(|(l, v)| {
                let a = inputs[0].record(l, v)?;
                let b = other.record(l, v)?.fraction_of_peak?;
                Some((a.algorithm.to_string(), a.fraction_of_peak?, b))
            })
            .collect();
        if !pts.is_empty() {
            page.chart(&charts::fraction_scatter(
                &inputs[0].label(),
                &other.label(),
                &pts,
            )?);
        }
    }
    Ok(())
}

/// The gate's regressions as an aligned text table with units.
pub(crate) fn gate_table(rows: &[GateRow]) -> String {
    let head = ["layer/variant", "baseline", "candidate", "slower by"].map(String::from);
    let all: Vec<[String; 4]> = std::iter::once(head)
        .chain(rows.iter().map(GateRow::cells))
        .collect();
    let w: Vec<usize> = (0..4)
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in &all {
        let _ = writeln!(
            s,
            "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        );
    }
    s
}

/// The gate's verdict as a page: the decision, then the regressed rows with units.
pub fn gate_page(base: &Input, cand: &Input, gate: &Gate, threshold: &str) -> String {
    let mut page = Page::new("simdconv regression gate", "simdconv: regression gate");
    page.note(html! {
        "Baseline " (base.label()) ", candidate " (cand.label())
        "; a row regresses when it is slower by more than " (threshold) " " em { "and" }
        " the two intervals do not overlap."
    });
    match gate {
        Gate::Pass { compared, missing } => {
            page.heading(&format!("Pass: {compared} rows compared, none regressed"));
            if !missing.is_empty() {
                page.text(&format!("Not in the candidate: {}", missing.join(", ")));
            }
        }
        Gate::Regressed { rows, compared } => {
            page.heading(&format!("Regression: {} of {compared} rows", rows.len()));
            let mut t = Table::new("", &["layer/variant", "baseline", "candidate", "slower by"]);
            for row in rows {
                let [k, b, c, d] = row.cells();
                t.row(&[l(k), r(b), r(c), r(d)], false);
            }
            page.add(t.finish());
        }
        Gate::Missing { missing, compared } => {
            page.heading(&format!(
                "Fail: {} baseline rows missing from the candidate ({compared} compared)",
                missing.len()
            ));
            page.text(&missing.join(", "));
        }
        Gate::Invalid { problems } => {
            page.heading("Refused: the files cannot be gated");
            page.text(&problems.join("; "));
        }
        Gate::DifferentMachines { base, cand } => {
            page.heading("Refused: different machines");
            page.note(html! { "baseline " (base) br; "candidate " (cand) });
        }
    }
    page.finish()
}
