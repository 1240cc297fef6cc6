//! The HTML report: one self-contained page (inline SVG from plotters, no CDN, no JavaScript)
//! with the machine card, a roofline per ISA, speedup charts, accuracy against speed, and a
//! table of every result with the winner per layer highlighted.

pub mod charts;
pub mod claims;

use std::fmt::Write as _;
use std::path::Path;

use crate::results::{attainable, write_atomic, FileError, Record, Results};

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Shared page style (also used by the comparison page).
pub const STYLE: &str = "body{font-family:sans-serif;margin:24px;max-width:1400px;color:#222}
h1{font-size:26px}h2{font-size:21px;margin-top:36px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f0f0f0}td.l{text-align:left}tr.win td{background:#e6f4e6;font-weight:bold}
.card td{text-align:left}.chart{margin:12px 0}.note{color:#555;font-size:14px;max-width:1000px}";

/// Renders the page.
pub fn render(res: &Results) -> Result<String, Box<dyn std::error::Error>> {
    let m = &res.machine;
    let mut h = String::new();
    writeln!(h, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>simdconv report: {}</title><style>{STYLE}</style></head><body>", esc(&m.model))?;
    writeln!(
        h,
        "<h1>simdconv: {} suite on {}</h1>",
        esc(&res.settings.suite),
        esc(&m.model)
    )?;
    writeln!(
        h,
        "<p class=\"note\">{} results; criterion median with its confidence interval, warm-up {} s, measurement {} s, {} samples; single core, batch 1, f32, NHWC, bias + ReLU fused. GFLOP/s counts direct-equivalent FLOPs for every algorithm, so Winograd figures are <em>effective</em> GFLOP/s.</p>",
        res.results.len(),
        res.settings.warm_up_s,
        res.settings.measurement_s,
        res.settings.sample_size
    )?;
    // Machine card.
    writeln!(h, "<h2>Machine</h2><table class=\"card\">")?;
    let caches: Vec<String> = m
        .caches
        .iter()
        .map(|c| format!("L{} {} {} KiB", c.level, c.kind, c.size / 1024))
        .collect();
    let peaks: Vec<String> = m
        .peak_gflops
        .iter()
        .map(|(k, v)| format!("{k} {v:.1}"))
        .collect();
    let bws: Vec<String> = m
        .bandwidth
        .iter()
        .map(|b| format!("{} {:.1} GB/s ({} KiB)", b.level, b.gbs, b.bytes / 1024))
        .collect();
    for (k, v) in [
        ("model", format!("{} ({})", m.model, m.vendor)),
        ("arch, flags", format!("{}: {}", m.arch, m.flags.join(" "))),
        (
            "cores",
            format!(
                "{} logical, {} physical",
                m.logical_cores,
                m.physical_cores.map_or("?".into(), |p| p.to_string())
            ),
        ),
        ("caches", caches.join(", ")),
        (
            "nominal clock",
            m.clock_ghz
                .map_or("unknown".into(), |g| format!("{g:.2} GHz")),
        ),
        (
            "os, rustc, git",
            format!("{}; {}; {}", m.os, m.rustc, m.git_revision),
        ),
        ("build target features", m.build_target_features.join(" ")),
        ("measured FMA peak, GFLOP/s (1 core)", peaks.join(", ")),
        ("measured read bandwidth (1 core)", bws.join(", ")),
    ] {
        writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v))?;
    }
    writeln!(h, "</table>")?;
    writeln!(h, "<p class=\"note\">Markers: scalar = circle, portable = triangle, avx2 = cross, avx512 = square, neon = ring; colour = algorithm.</p>")?;

    let all: Vec<&Record> = res.results.iter().collect();
    let mut isas: Vec<&str> = all.iter().map(|r| r.isa.as_str()).collect();
    isas.sort();
    isas.dedup();
    let heading = |h: &mut String, text: &str| -> std::fmt::Result {
        if all.is_empty() {
            Ok(())
        } else {
            writeln!(h, "<h2>{text}</h2>")
        }
    };
    heading(&mut h, "Roofline")?;
    for isa in &isas {
        writeln!(
            h,
            "<div class=\"chart\">{}</div>",
            charts::roofline(m, &all, isa)?
        )?;
    }

    let layers: Vec<String> = res
        .layers
        .iter()
        .map(|l| l.name.clone())
        .filter(|n| all.iter().any(|r| &r.layer == n))
        .collect();
    let best_of = |layer: &str, alg: &str, isa: &str| {
        all.iter()
            .filter(|r| r.layer == layer && r.algorithm == alg && r.isa == isa)
            .map(|r| r.gflops.point)
            .fold(None, |a: Option<f64>, g| Some(a.map_or(g, |a| a.max(g))))
    };
    heading(&mut h, "What SIMD buys: each ISA over scalar")?;
    let mut algs: Vec<&str> = all.iter().map(|r| r.algorithm.as_str()).collect();
    algs.sort();
    algs.dedup();
    for alg in &algs {
        let ls: Vec<String> = layers
            .iter()
            .filter(|l| best_of(l, alg, "scalar").is_some())
            .cloned()
            .collect();
        let series: Vec<_> = isas
            .iter()
            .filter(|&&i| i != "scalar")
            .map(|isa| {
                let v = ls
                    .iter()
                    .map(|l| Some(best_of(l, alg, isa)? / best_of(l, alg, "scalar")?))
                    .collect();
                (isa.to_string(), charts::isa_color(isa), v)
            })
            .filter(|(_, _, v): &(String, _, Vec<Option<f64>>)| v.iter().any(Option::is_some))
            .collect();
        if !ls.is_empty() && !series.is_empty() {
            let svg = charts::grouped_ratio_bars(
                &format!("{alg}: speedup over scalar {alg}"),
                "speedup (x, log)",
                &ls,
                &series,
            )?;
            writeln!(h, "<div class=\"chart\">{svg}</div>")?;
        }
    }
    heading(
        &mut h,
        "Which algorithm wins: each algorithm over direct, per ISA",
    )?;
    for isa in &isas {
        let ls: Vec<String> = layers
            .iter()
            .filter(|l| best_of(l, "direct", isa).is_some())
            .cloned()
            .collect();
        let series: Vec<_> = algs
            .iter()
            .filter(|&&a| a != "direct")
            .map(|alg| {
                let v = ls
                    .iter()
                    .map(|l| Some(best_of(l, alg, isa)? / best_of(l, "direct", isa)?))
                    .collect();
                (alg.to_string(), charts::algorithm_color(alg), v)
            })
            .filter(|(_, _, v): &(String, _, Vec<Option<f64>>)| v.iter().any(Option::is_some))
            .collect();
        if !ls.is_empty() && !series.is_empty() {
            let svg = charts::grouped_ratio_bars(
                &format!("{isa}: speedup over direct {isa}"),
                "speedup (x, log)",
                &ls,
                &series,
            )?;
            writeln!(h, "<div class=\"chart\">{svg}</div>")?;
        }
    }
    let acc: Vec<&Record> = all
        .iter()
        .copied()
        .filter(|r| r.shape.r == 3 && r.shape.s == 3 && r.shape.stride == 1 && r.shape.groups == 1)
        .collect();
    if !acc.is_empty() {
        writeln!(h, "<h2>Accuracy against speed</h2><p class=\"note\">Error is the largest |y - y_ref| over the layer, relative to max(sum |x w| + |b|, its layer mean), against an f64 reference: Winograd trades accuracy for speed, more with the larger tile.</p>")?;
        writeln!(h, "<div class=\"chart\">{}</div>", charts::accuracy(&acc)?)?;
    }
    h.push_str(&claims::section(res)?);
    // Table.
    if !res.results.is_empty() {
        writeln!(h, "<h2>Every result</h2><table><tr><th>layer</th><th>variant</th><th>GFLOP/s</th><th>interval</th><th>time (ms)</th><th>% of ISA peak</th><th>% of attainable (roof)</th><th>AI</th><th>max error</th><th>scratch (KiB)</th></tr>")?;
        for l in &layers {
            let rows: Vec<&&Record> = all.iter().filter(|r| &r.layer == l).collect();
            let best = rows.iter().map(|r| r.gflops.point).fold(0.0, f64::max);
            for r in rows {
                let win = r.gflops.point == best;
                let att = attainable(m, r);
                writeln!(
                h,
                "<tr{}><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.1}</td><td>{:.1} – {:.1}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1e}</td><td>{}</td></tr>",
                if win { " class=\"win\"" } else { "" },
                esc(&r.layer),
                esc(&r.variant),
                r.gflops.point,
                r.gflops.lower,
                r.gflops.upper,
                r.time_ns.point / 1e6,
                r.fraction_of_peak.map_or("–".into(), |f| format!("{:.0}%", f * 100.0)),
                att.map_or("–".into(), |(a, why)| format!("{:.0}% ({})", r.gflops.point / a * 100.0, why)),
                r.intensity,
                r.max_rel_error,
                r.scratch_bytes / 1024
            )?;
            }
        }
        writeln!(h, "</table>")?;
    }
    writeln!(h, "</body></html>")?;
    Ok(h)
}

/// Renders and writes `dir/index.html` atomically.
pub fn write(res: &Results, dir: &Path) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::Io(dir.display().to_string(), e))?;
    let html = render(res)?;
    let path = dir.join("index.html");
    write_atomic(&path, html.as_bytes())?;
    Ok(path)
}
