//! The HTML report: one self-contained page (inline SVG from plotters, no CDN, no JavaScript),
//! composed of sections over the page kit (`page.rs`, shared with the comparison page): the
//! machine card, a roofline per ISA, speedup charts, accuracy against speed, the building-block
//! claims (`claims.rs`), and a table of every result with the winner per layer highlighted.
//! Charts are drawn in `charts.rs`; ISAs and algorithms are ordered and coloured by enum.

pub mod charts;
pub mod claims;
pub mod page;

use std::path::Path;

use simdconv::{Algorithm, Isa};

pub use page::{esc, STYLE};

use crate::results::{attainable, write_atomic, FileError, Record, Results};
use page::{l, r, Page, Table};

type Rendered = Result<(), Box<dyn std::error::Error>>;

/// Renders the page.
pub fn render(res: &Results) -> Result<String, Box<dyn std::error::Error>> {
    let m = &res.machine;
    let mut page = Page::new(
        &format!("simdconv report: {}", m.model),
        &format!("simdconv: {} suite on {}", res.settings.suite, m.model),
    );
    page.note(&format!(
        "{} results; criterion median with its confidence interval, warm-up {} s, measurement {} s, {} samples; single core, batch 1, f32, NHWC, bias + ReLU fused. GFLOP/s counts direct-equivalent FLOPs for every algorithm, so Winograd figures are <em>effective</em> GFLOP/s.",
        res.results.len(),
        res.settings.warm_up_s,
        res.settings.measurement_s,
        res.settings.sample_size
    ));
    page.heading("Machine");
    page.raw(&page::machine_card(m));
    page.note("Markers: scalar = circle, portable = triangle, avx2 = cross, avx512 = square, neon = ring; colour = algorithm.");
    let view = View::new(res);
    if !view.all.is_empty() {
        rooflines(&mut page, &view)?;
        simd_speedups(&mut page, &view)?;
        algorithm_speedups(&mut page, &view)?;
        accuracy(&mut page, &view)?;
    }
    claims::section(&mut page, res)?;
    if !view.all.is_empty() {
        every_result(&mut page, &view);
    }
    Ok(page.finish())
}

/// The records of a results file, with the layers, ISAs and algorithms they contain, ordered by
/// the catalogue and the kernel crate's enums.
struct View<'a> {
    res: &'a Results,
    all: Vec<&'a Record>,
    layers: Vec<String>,
    isas: Vec<Isa>,
    algorithms: Vec<Algorithm>,
}

impl<'a> View<'a> {
    fn new(res: &'a Results) -> View<'a> {
        let all: Vec<&Record> = res.results.iter().collect();
        let layers = res
            .layers
            .iter()
            .map(|l| l.name.clone())
            .filter(|n| all.iter().any(|r| &r.layer == n))
            .collect();
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
            layers,
            isas,
            algorithms,
        }
    }

    /// The best GFLOP/s of `alg` on `isa` for `layer`.
    fn best(&self, layer: &str, alg: Algorithm, isa: Isa) -> Option<f64> {
        self.all
            .iter()
            .filter(|r| r.layer == layer && r.algorithm() == Some(alg) && r.isa() == Some(isa))
            .map(|r| r.gflops.point)
            .reduce(f64::max)
    }

    /// Grouped speedup bars: per layer that has `base`, one series per `(name, colour, key)`,
    /// each bar `value(layer, key) / base(layer)`.
    fn speedups<K: Copy>(
        &self,
        title: &str,
        base: impl Fn(&str) -> Option<f64>,
        keys: &[(String, plotters::style::RGBColor, K)],
        value: impl Fn(&str, K) -> Option<f64>,
    ) -> Result<Option<String>, Box<dyn std::error::Error>> {
        let ls: Vec<String> = self
            .layers
            .iter()
            .filter(|l| base(l).is_some())
            .cloned()
            .collect();
        let bars: Vec<charts::Series> = keys
            .iter()
            .map(|(name, color, key)| {
                let v = ls
                    .iter()
                    .map(|l| Some(value(l, *key)? / base(l)?))
                    .collect();
                (name.clone(), *color, v)
            })
            .filter(|(_, _, v): &charts::Series| v.iter().any(Option::is_some))
            .collect();
        if ls.is_empty() || bars.is_empty() {
            return Ok(None);
        }
        Ok(Some(charts::grouped_ratio_bars(
            title,
            "speedup (x, log)",
            &ls,
            &bars,
        )?))
    }
}

fn rooflines(page: &mut Page, v: &View) -> Rendered {
    page.heading("Roofline");
    for &isa in &v.isas {
        let title = format!("Roofline, {isa} variants (Winograd: effective GFLOP/s)");
        page.chart(&charts::roofline(&v.res.machine, &v.all, isa, &title)?);
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
    let acc: Vec<&Record> = v
        .all
        .iter()
        .copied()
        .filter(|r| r.shape.r == 3 && r.shape.s == 3 && r.shape.stride == 1 && r.shape.groups == 1)
        .collect();
    if acc.is_empty() {
        return Ok(());
    }
    page.heading("Accuracy against speed");
    page.note("Error is the largest |y - y_ref| over the layer, relative to max(sum |x w| + |b|, its layer mean), against an f64 reference: Winograd trades accuracy for speed, more with the larger tile.");
    page.chart(&charts::accuracy(&acc)?);
    Ok(())
}

fn every_result(page: &mut Page, v: &View) {
    page.heading("Every result");
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
            "scratch (KiB)",
        ],
    );
    for layer in &v.layers {
        let rows: Vec<&&Record> = v.all.iter().filter(|r| &r.layer == layer).collect();
        let best = rows.iter().map(|r| r.gflops.point).fold(0.0, f64::max);
        for rec in rows {
            let att = attainable(&v.res.machine, rec);
            let cells = [
                l(&rec.layer),
                l(&rec.variant),
                r(format!("{:.1}", rec.gflops.point)),
                r(format!("{:.1} – {:.1}", rec.gflops.lower, rec.gflops.upper)),
                r(format!("{:.3}", rec.time_ns.point / 1e6)),
                r(rec
                    .fraction_of_peak
                    .map_or("–".into(), |f| format!("{:.0}%", f * 100.0))),
                r(att.map_or("–".into(), |(a, why)| {
                    format!("{:.0}% ({why})", rec.gflops.point / a * 100.0)
                })),
                r(format!("{:.1}", rec.intensity)),
                r(format!("{:.1e}", rec.max_rel_error)),
                r(format!("{}", rec.scratch_bytes / 1024)),
            ];
            t.row(&cells, rec.gflops.point == best);
        }
    }
    page.raw(&t.finish());
}

/// Renders and writes `dir/index.html` atomically.
pub fn write(res: &Results, dir: &Path) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::Io(dir.display().to_string(), e))?;
    let html = render(res)?;
    let path = dir.join("index.html");
    write_atomic(&path, html.as_bytes())?;
    Ok(path)
}
