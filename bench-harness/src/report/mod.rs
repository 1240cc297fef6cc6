//! The HTML report: one self-contained page (inline SVG from plotters, no CDN, no JavaScript;
//! tooltips are SVG `<title>`s), composed of sections over the page kit (`page.rs`, shared with
//! the comparison page). The answer comes first: the winner per layer (ties where intervals
//! overlap), the best per ISA and per algorithm, and where the winning algorithm changes
//! (crossovers); then the machine, a roofline per ISA, speedup charts, accuracy against the
//! tolerance, the building-block claims (`claims.rs`) and every result.

mod answers;
pub(crate) mod bars;
pub(crate) mod charts;
pub(crate) mod claims;
mod lowp_roofline;
pub(crate) mod page;
pub(crate) mod pareto;
mod precision;
pub(crate) mod roofline;
mod runtimes;
pub(crate) mod scaling;
mod totals;
pub(crate) mod tuning;

use std::path::Path;

use simdconv::{Algorithm, Isa};

pub(crate) use page::Svg;

use maud::{html, Markup};

use crate::answer::{self, Standing, Verdict};
use crate::files::write_pair;
use crate::roof::{above_roof, attainable};
use crate::schema::results::{utc, FileError, Interval, Record, Results};
use crate::schema::runtimes::Runtimes;
use answers::{auto_picks, best_per_algorithm, best_per_isa, crossovers, winners};
use bars::Scale;
use page::{l, r, Page, RowClass, Table};

type Rendered = Result<(), Box<dyn std::error::Error>>;

/// Renders the page. Every section but the scaling one reads the run at its lowest thread count
/// (one thread, unless only parallel runs were measured).
pub fn render(full: &Results) -> Result<String, Box<dyn std::error::Error>> {
    render_with(full, None)
}

/// [`render`] with a runtime reference (`runtimes.json`), whose section follows the
/// low-precision one.
pub(crate) fn render_with(
    full: &Results,
    rt: Option<&Runtimes>,
) -> Result<String, Box<dyn std::error::Error>> {
    let threads = full.thread_counts();
    let one = full.at_fewest_threads();
    let res = &one;
    let m = &res.machine;
    let mut page = Page::new(
        &format!("simdconv report: {}", m.model),
        &format!("simdconv: {} suite on {}", res.settings.suite, m.model),
    );
    page.note(provenance(res));
    // Every reason to doubt the ceilings (and with them every "% of peak"), first.
    for w in full.machine.warnings() {
        page.warning(&format!("Ceilings may not hold: {w}."));
    }
    let st = &res.settings;
    page.note(html! {
        (res.results.len()) " results"
        @match threads.as_slice() {
            [] | [1] => { " on one thread" }
            [t] => { " on " (t) " threads" }
            [t, ..] => {
                " on " (t) " thread" (if *t == 1 { "" } else { "s" })
                " in the sections before " em { "Scaling" } ", which has the runs on "
                (threads[1..].iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "))
            }
        }
        "; criterion median with its confidence interval, warm-up " (st.warm_up_s)
        " s, measurement " (st.measurement_s) " s, " (st.sample_size)
        " samples; f32, NHWC, bias + ReLU fused; layers named " code { "_bN" }
        " run N images per call. GFLOP/s counts direct-equivalent FLOPs for every algorithm, so Winograd figures are "
        em { "effective" }
        " GFLOP/s, set against an effective roof (the ISA peak times its multiply reduction). Hover a point or a bar for its numbers."
    });
    let view = View::new(res);
    if !view.all.is_empty() {
        winners(&mut page, &view);
        best_per_isa(&mut page, &view);
        best_per_algorithm(&mut page, &view);
        crossovers(&mut page, res);
        auto_picks(&mut page, res);
    }
    coverage(&mut page, res);
    totals::section(&mut page, res);
    precision::section(&mut page, res)?;
    if let Some(rt) = rt {
        runtimes::section(&mut page, res, rt)?;
    }
    page.heading("Machine");
    page.add(page::machine_card(m));
    if !view.all.is_empty() {
        rooflines(&mut page, &view)?;
        simd_speedups(&mut page, &view)?;
        algorithm_speedups(&mut page, &view)?;
        accuracy(&mut page, &view)?;
        pareto::section(&mut page, &view.all)?;
    }
    if res.blocks.is_empty() {
        page.heading("Claims, measured");
        page.note(html! {
            "This run did not measure the building-block claims (1x1 bottlenecks, Inception, depthwise separable, inverted residuals, EfficientNet scaling). "
            code { "simdconv-bench run --suite blocks" }
            " measures them alone (about 10 minutes on 2 cores), " code { "--suite full" }
            " with every layer; " code { "--append" } " merges them into this results file."
        });
    } else {
        claims::section(&mut page, res)?;
    }
    scaling::section(&mut page, full)?;
    if !view.all.is_empty() {
        every_result(&mut page, &view);
    }
    Ok(page.finish())
}

/// The layers no SIMD variant computed, with the reason: a user's model can hold layers the
/// catalogue lacks, and a gap must be visible, not a missing row.
fn coverage(page: &mut Page, res: &Results) {
    if res.coverage.is_empty() {
        return;
    }
    page.heading("Coverage");
    page.note(html! {
        (res.coverage.len()) " layer(s) of this run had no SIMD variant on this machine: "
        "they ran on the scalar or portable variants only, or not at all (no row below)."
    });
    let mut t = Table::new("", &["layer", "why"]);
    for g in &res.coverage {
        t.row(&[page::l(&g.layer), page::l(&g.reason)], false);
    }
    page.add(t.finish());
}

/// When, with what and from which code: run date, duration, command, revision, pinning.
fn provenance(res: &Results) -> Markup {
    let s = &res.settings;
    let when = match s.started_unix {
        Some(t0) if t0 <= res.created_unix => format!(
            "Measured {} to {} ({} min)",
            utc(t0),
            utc(res.created_unix),
            (res.created_unix - t0).div_ceil(60)
        ),
        _ => format!("Measured until {}", utc(res.created_unix)),
    };
    let pin = match (
        s.pinned(res.machine.logical_cores),
        s.cpus_allowed.as_deref(),
    ) {
        (Some(true), Some(l)) => format!("pinned to CPU {l}"),
        (Some(false), Some(l)) => format!("not pinned (CPUs {l})"),
        _ => "pinning unknown".into(),
    };
    let rev = &res.machine.git_revision;
    html! {
        (when)
        @if let Some(c) = &s.command { " with " code { (c) } }
        "; binary built from revision " code { (rev) }
        @if rev.ends_with("-dirty") { " (" strong { "built from uncommitted changes" } ")" }
        "; " (pin) "."
    }
}

/// The records of a results file, with the layers, ISAs and algorithms they contain, ordered by
/// the catalogue and the kernel crate's enums.
struct View<'a> {
    res: &'a Results,
    all: Vec<&'a Record>,
    layers: Vec<&'a str>,
    isas: Vec<Isa>,
    algorithms: Vec<Algorithm>,
}

impl<'a> View<'a> {
    fn new(res: &'a Results) -> View<'a> {
        let all: Vec<&Record> = res.results.iter().collect();
        let isas = Isa::ALL
            .into_iter()
            .filter(|i| all.iter().any(|r| r.isa() == Some(*i)))
            .collect();
        let algorithms = Algorithm::ALL
            .into_iter()
            .filter(|a| all.iter().any(|r| r.algorithm() == Some(*a)))
            .collect();
        View {
            res,
            all,
            layers: answer::layer_order(res),
            isas,
            algorithms,
        }
    }

    fn of_layer(&self, layer: &str) -> Vec<&'a Record> {
        self.all
            .iter()
            .copied()
            .filter(|r| r.layer == layer)
            .collect()
    }

    /// The best record of `alg` on `isa` for `layer`.
    fn best(&self, layer: &str, alg: Algorithm, isa: Isa) -> Option<&'a Record> {
        answer::best(&self.of_layer(layer), |r| {
            r.algorithm() == Some(alg) && r.isa() == Some(isa)
        })
    }

    /// Speedup bars from 1x: per layer that has `base`, one series per `(name, colour, key)`,
    /// each bar `value(layer, key) / base(layer)` with its interval.
    fn speedups<K: Copy>(
        &self,
        title: &str,
        base: impl Fn(&str) -> Option<&'a Record>,
        keys: &[(String, plotters::style::RGBColor, K)],
        value: impl Fn(&str, K) -> Option<&'a Record>,
    ) -> Result<Option<Svg>, Box<dyn std::error::Error>> {
        let ls: Vec<String> = self
            .layers
            .iter()
            .filter(|l| base(l).is_some())
            .map(|l| l.to_string())
            .collect();
        let series: Vec<bars::Series> = keys
            .iter()
            .map(|(name, color, key)| {
                let v = ls
                    .iter()
                    .map(|l| Some(value(l, *key)?.gflops.ratio(&base(l)?.gflops)))
                    .collect();
                (name.clone(), *color, v)
            })
            .filter(|(_, _, v): &bars::Series| v.iter().any(Option::is_some))
            .collect();
        if ls.is_empty() || series.is_empty() {
            return Ok(None);
        }
        Ok(Some(bars::hbars(
            title,
            "speedup (log; right of 1x is faster)",
            &ls,
            &series,
            Scale::Ratio,
        )?))
    }
}

fn iv(i: &Interval) -> String {
    format!("{:.1} – {:.1}", i.lower, i.upper)
}

/// A colour mixed 70% towards white (a readable cell background).
fn light(c: plotters::style::RGBColor) -> plotters::style::RGBColor {
    let mix = |v: u8| (f64::from(v) * 0.3 + 255.0 * 0.7) as u8;
    plotters::style::RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

fn rooflines(page: &mut Page, v: &View) -> Rendered {
    page.heading("Roofline");
    page.text("Markers: scalar = circle, portable = triangle, avx2 = cross, avx512 = square, neon = ring; colour = algorithm. Each layer's best point on the ISA is labelled where the label hides no point; hover any point for layer, variant and GFLOP/s.");
    for &isa in &v.isas {
        let title = format!("Roofline, {isa} variants (Winograd: effective GFLOP/s)");
        page.chart(&roofline::roofline(&v.res.machine, &v.all, isa, &title)?);
    }
    Ok(())
}

fn simd_speedups(page: &mut Page, v: &View) -> Rendered {
    page.heading("What SIMD buys: each ISA over scalar");
    let keys: Vec<_> = v
        .isas
        .iter()
        .filter(|&&i| i != Isa::Scalar)
        .map(|&isa| (isa.name().to_string(), charts::isa_color(isa), isa))
        .collect();
    for &alg in &v.algorithms {
        let title = format!("{alg}: speedup over scalar {alg}", alg = alg.name());
        let base = |l: &str| v.best(l, alg, Isa::Scalar);
        if let Some(svg) = v.speedups(&title, base, &keys, |l, isa| v.best(l, alg, isa))? {
            page.chart(&svg);
        }
    }
    Ok(())
}

fn algorithm_speedups(page: &mut Page, v: &View) -> Rendered {
    page.heading("Which algorithm wins: each algorithm over direct, per ISA");
    page.text("Depthwise layers have no direct variant to compare with; their winners are in the table at the top.");
    let keys: Vec<_> = v
        .algorithms
        .iter()
        .filter(|&&a| a != Algorithm::Direct)
        .map(|&alg| (alg.name().to_string(), charts::algorithm_color(alg), alg))
        .collect();
    for &isa in &v.isas {
        let title = format!("{isa}: speedup over direct {isa}");
        let base = |l: &str| v.best(l, Algorithm::Direct, isa);
        if let Some(svg) = v.speedups(&title, base, &keys, |l, alg| v.best(l, alg, isa))? {
            page.chart(&svg);
        }
    }
    Ok(())
}

fn accuracy(page: &mut Page, v: &View) -> Rendered {
    page.heading("Accuracy against speed");
    let fails = v.all.iter().filter(|r| !r.within_tolerance()).count();
    page.note(html! {
        "Error is the largest |y - y_ref| over the layer, relative to max(sum |x w| + |b|, its layer mean), against an f64 reference, drawn as a fraction of the variant's documented tolerance (Winograd's is larger: it trades accuracy for speed, more with the larger tile). "
        @if fails == 0 {
            "All " (v.all.len()) " results are within tolerance."
        } @else {
            strong { (fails) " of " (v.all.len()) " results are over tolerance" } " (red rows below)."
        }
    });
    page.chart(&charts::accuracy(&v.all)?);
    Ok(())
}

fn every_result(page: &mut Page, v: &View) {
    page.heading("Every result");
    let above: Vec<String> = v
        .all
        .iter()
        .filter(|r| above_roof(&v.res.machine, r).is_some())
        .map(|r| r.key())
        .collect();
    if !above.is_empty() {
        page.warning(&format!(
            "{} result(s) sit above their own roof by more than the roof's measured spread, even at the low end of their interval (marked ABOVE ROOF): the roof was measured low (a busy machine) or the code runs wider than its ISA's name says. {}",
            above.len(),
            above.join(", ")
        ));
    }
    let mut t = Table::new(
        "",
        &[
            "layer",
            "variant",
            "GFLOP/s",
            "interval",
            "time (ms)",
            "% of ISA peak",
            "% of attainable (roof)",
            "AI",
            "max error",
            "tolerance",
            "scratch (KiB)",
        ],
    );
    for &layer in &v.layers {
        let rows = v.of_layer(layer);
        let verdict: Option<Verdict> = answer::verdict(&rows);
        for rec in rows {
            let att = attainable(&v.res.machine, rec);
            let cells = [
                l(&rec.layer),
                l(&rec.variant),
                r(format!("{:.1}", rec.gflops.point)),
                r(iv(&rec.gflops)),
                r(format!("{:.3}", rec.time_ns.point / 1e6)),
                r(rec
                    .fraction_of_peak
                    .map_or("–".into(), |f| format!("{:.0}%", f * 100.0))),
                r(att.map_or("–".into(), |(a, why)| {
                    let flag = if above_roof(&v.res.machine, rec).is_some() {
                        " ABOVE ROOF"
                    } else {
                        ""
                    };
                    format!("{:.0}% ({why}){flag}", rec.gflops.point / a * 100.0)
                })),
                r(format!("{:.1}", rec.intensity)),
                r(format!("{:.1e}", rec.max_rel_error)),
                r(if rec.within_tolerance() {
                    format!("{:.1e} pass", rec.tolerance)
                } else {
                    format!("{:.1e} FAIL", rec.tolerance)
                }),
                r(format!("{}", rec.scratch_bytes / 1024)),
            ];
            let class = if !rec.within_tolerance() {
                Some(RowClass::Fail)
            } else {
                match verdict.as_ref().and_then(|v| v.standing(rec)) {
                    Some(Standing::Win) => Some(RowClass::Win),
                    Some(Standing::Tie) => Some(RowClass::Tie),
                    None => None,
                }
            };
            t.row_class(&cells, class);
        }
    }
    page.add(t.finish());
}

/// The page and the CSV one run publishes (beside `results.json`), as written.
pub(crate) struct Published {
    /// `index.html`.
    pub html: std::path::PathBuf,
    /// `results.csv`.
    pub csv: std::path::PathBuf,
}

/// Renders the page and the CSV and replaces them in `dir` together with `results.json` (when
/// `with_json`), as one journalled set: a killed writer never leaves a page that disagrees with
/// the results beside it. A runtime reference (`runtimes.json`) in `runtimes_dir` (the results
/// file's folder) adds its section.
pub(crate) fn publish(
    res: &Results,
    dir: &Path,
    runtimes_dir: &Path,
    with_json: bool,
) -> Result<Published, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::Io(dir.display().to_string(), e))?;
    let rt = Runtimes::read_beside(runtimes_dir)?;
    let html = render_with(res, rt.as_ref())?;
    let csv = crate::export::csv(res);
    let (jp, hp, cp) = (
        dir.join("results.json"),
        dir.join("index.html"),
        dir.join("results.csv"),
    );
    let json = with_json.then(|| res.to_json(&jp)).transpose()?;
    let mut files: Vec<(&Path, &[u8])> = vec![(&hp, html.as_bytes()), (&cp, csv.as_bytes())];
    if let Some(j) = &json {
        files.insert(0, (&jp, j.as_bytes()));
    }
    write_pair(&files)?;
    Ok(Published { html: hp, csv: cp })
}
