//! The "Claims, measured" section: per claim a table (FLOPs, FLOP ratio, time and time ratio per
//! ISA), the share of each step in the block's time, a chart, the block's layers on the roofline,
//! and a one-sentence verdict computed from the numbers.

use std::fmt::Write as _;

use super::{charts, esc};
use crate::results::{attainable, BlockRecord, Record, Results, ShapeRecord, StepRecord};

fn isa_order(isa: &str) -> usize {
    ["scalar", "portable", "avx2", "avx512", "neon"]
        .iter()
        .position(|i| *i == isa)
        .unwrap_or(9)
}

/// The ISAs with best-mode rows, narrowest first.
fn isas(recs: &[&BlockRecord]) -> Vec<String> {
    let mut v: Vec<String> = recs
        .iter()
        .filter(|r| r.mode == "best")
        .map(|r| r.isa.clone())
        .collect();
    v.sort_by_key(|i| isa_order(i));
    v.dedup();
    v
}

fn time(recs: &[&BlockRecord], side: usize, isa: &str, mode: &str) -> Option<f64> {
    recs.iter()
        .find(|r| r.side == side && r.isa == isa && r.mode == mode)
        .map(|r| r.time_ns.point)
}

/// The widest ISA measured (per-step times exist for it).
fn wide(recs: &[&BlockRecord]) -> Option<String> {
    recs.iter()
        .find(|r| !r.steps.is_empty())
        .map(|r| r.isa.clone())
}

/// The sentence for one claim, computed from its records.
pub fn verdict(res: &Results, recs: &[&BlockRecord]) -> String {
    let Some(w) = wide(recs) else {
        return "not measured".into();
    };
    let sides = recs.iter().map(|r| r.side).max().unwrap_or(0) + 1;
    let flops = |s: usize| {
        recs.iter()
            .find(|r| r.side == s)
            .map_or(0.0, |r| r.flops as f64)
    };
    let t = |s: usize, isa: &str| time(recs, s, isa, "best");
    if recs.first().is_some_and(|r| r.scaling) {
        let (Some(t0), Some(tn)) = (t(0, &w), t(sides - 1, &w)) else {
            return "incomplete".into();
        };
        let steps = (sides - 1) as f64;
        let (gf, gt) = (
            (flops(sides - 1) / flops(0)).powf(1.0 / steps),
            (tn / t0).powf(1.0 / steps),
        );
        return format!(
            "FLOPs grew {gf:.2}x per scaling step and time {gt:.2}x with {w} (phi 0 to {}: {:.1}x the FLOPs, {:.1}x the time){}",
            sides - 1,
            flops(sides - 1) / flops(0),
            tn / t0,
            if gt < gf * 0.9 {
                "; the bigger stages use the machine better"
            } else if gt > gf * 1.1 {
                "; time outgrew FLOPs as the working set left the caches"
            } else {
                "; time tracked FLOPs"
            }
        );
    }
    let mut parts = Vec::new();
    for j in 1..sides {
        let (Some(t0), Some(tj)) = (t(0, &w), t(j, &w)) else {
            continue;
        };
        let (rf, rt) = (flops(j) / flops(0), tj / t0);
        let name = recs
            .iter()
            .find(|r| r.side == j)
            .map_or(String::new(), |r| r.name.clone());
        let others: Vec<String> = isas(recs)
            .iter()
            .filter(|i| **i != w)
            .filter_map(|i| {
                // The other ISAs' factor, in the same direction as the headline's.
                let r = t(j, i)? / t(0, i)?;
                Some(format!("{} {:.1}x", i, if rf >= 1.0 { r } else { 1.0 / r }))
            })
            .collect();
        parts.push(if rf >= 1.0 {
            format!(
                "against {name}, the {rf:.1}x FLOP saving became a {rt:.1}x time saving with {w} ({})",
                others.join(", ")
            )
        } else {
            format!(
                "against {name}, it costs {:.2}x the FLOPs and {:.2}x the time with {w} ({})",
                1.0 / rf,
                1.0 / rt,
                others.join(", ")
            )
        });
    }
    // Where the time goes: the design's slowest step, and its place under the roofline.
    if let Some(rec) = recs.iter().find(|r| r.side == 0 && !r.steps.is_empty()) {
        let total: f64 = rec.steps.iter().map(|s| s.time_ns.point).sum();
        if let Some(s) = rec
            .steps
            .iter()
            .max_by(|a, b| a.time_ns.point.total_cmp(&b.time_ns.point))
        {
            let mut line = format!(
                "its {} takes {:.0}% of its time",
                s.name,
                s.time_ns.point / total * 100.0
            );
            if s.flops > 0 {
                let r = step_record(rec, s);
                if let Some((roof, why)) = attainable(&res.machine, &r) {
                    let eff = if r.algorithm.starts_with("winograd") {
                        " effective"
                    } else {
                        ""
                    };
                    let _ = write!(
                        line,
                        " at {:.1}{eff} GFLOP/s ({}), {:.0}% of its {why} roof",
                        r.gflops.point,
                        r.variant,
                        r.gflops.point / roof * 100.0
                    );
                }
            }
            parts.push(line);
        }
    }
    let mut s = parts.join("; ");
    if let Some(c) = s.get(0..1) {
        s = c.to_uppercase() + &s[1..];
    }
    s + "."
}

/// A step as a results record (for the roofline and the attainable roof).
fn step_record(rec: &BlockRecord, s: &StepRecord) -> Record {
    let alg = simdconv::Algorithm::ALL
        .into_iter()
        .map(|a| a.name())
        .find(|a| s.variant.starts_with(&format!("{a}-")))
        .unwrap_or("other");
    Record {
        layer: s.name.clone(),
        variant: s.variant.clone(),
        algorithm: alg.into(),
        isa: rec.isa.clone(),
        tile: String::new(),
        shape: ShapeRecord {
            n: 1,
            h: 0,
            w: 0,
            c: 0,
            k: 0,
            r: 0,
            s: 0,
            stride: 1,
            pad: 0,
            groups: 1,
            p: 0,
            q: 0,
        },
        flops: s.flops,
        bytes: s.bytes,
        intensity: s.flops as f64 / s.bytes.max(1) as f64,
        time_ns: s.time_ns,
        gflops: s.gflops(),
        fraction_of_peak: None,
        scratch_bytes: 0,
        max_rel_error: 0.0,
        tolerance: 0.0,
    }
}

/// Renders the section (empty when the results have no block records).
pub fn section(res: &Results) -> Result<String, Box<dyn std::error::Error>> {
    let mut h = String::new();
    if res.blocks.is_empty() {
        return Ok(h);
    }
    writeln!(h, "<h2>Claims, measured</h2><p class=\"note\">Each block is built from the registered kernels plus max-pool, concatenation and residual add (batch 1). \"best\" picks, per layer and ISA, the fastest variant of that ISA (a short timing pass at plan time); \"fixed-direct\" uses the direct algorithm for every layer it supports. FLOPs count convolutions only. Times are criterion medians.</p>")?;
    let mut ids: Vec<&str> = res.blocks.iter().map(|b| b.claim.as_str()).collect();
    ids.dedup();
    for id in ids {
        let recs: Vec<&BlockRecord> = res.blocks.iter().filter(|b| b.claim == id).collect();
        let title = &recs[0].title;
        let isas = isas(&recs);
        let sides = recs.iter().map(|r| r.side).max().unwrap_or(0) + 1;
        writeln!(
            h,
            "<h3>{}</h3><p><strong>Verdict:</strong> {}</p>",
            esc(title),
            esc(&verdict(res, &recs))
        )?;
        write!(
            h,
            "<table><tr><th>block</th><th>MFLOP</th><th>FLOP ratio</th>"
        )?;
        let fixed: Vec<&&BlockRecord> = recs
            .iter()
            .filter(|r| r.mode != "best" && r.side == 0)
            .collect();
        for isa in &isas {
            write!(h, "<th>{isa} ms</th><th>{isa} time ratio</th>")?;
        }
        for f in &fixed {
            write!(h, "<th>{} {} ms</th>", esc(&f.isa), esc(&f.mode))?;
        }
        writeln!(h, "</tr>")?;
        for side in 0..sides {
            let Some(r0) = recs.iter().find(|r| r.side == side) else {
                continue;
            };
            let f0 = recs
                .iter()
                .find(|r| r.side == 0)
                .map_or(1.0, |r| r.flops as f64);
            write!(
                h,
                "<tr><td class=\"l\">{}</td><td>{:.1}</td><td>{:.2}</td>",
                esc(&r0.name),
                r0.flops as f64 / 1e6,
                r0.flops as f64 / f0
            )?;
            for isa in &isas {
                match (time(&recs, side, isa, "best"), time(&recs, 0, isa, "best")) {
                    (Some(t), Some(t0)) => {
                        write!(h, "<td>{:.3}</td><td>{:.2}</td>", t / 1e6, t / t0)?
                    }
                    _ => write!(h, "<td>–</td><td>–</td>")?,
                }
            }
            for f in &fixed {
                match time(&recs, side, &f.isa, &f.mode) {
                    Some(t) => write!(h, "<td>{:.3}</td>", t / 1e6)?,
                    None => write!(h, "<td>–</td>")?,
                }
            }
            writeln!(h, "</tr>")?;
        }
        writeln!(h, "</table>")?;
        // Step shares.
        let stepped: Vec<&&BlockRecord> = recs.iter().filter(|r| !r.steps.is_empty()).collect();
        if !stepped.is_empty() {
            writeln!(h, "<p class=\"note\">Share of each block's time per step ({}, best variants; per-step criterion medians):</p><table><tr><th>block</th><th>step</th><th>variant</th><th>ms</th><th>share</th><th>GFLOP/s</th><th>% of attainable</th></tr>", esc(&stepped[0].isa))?;
            let mut points = Vec::new();
            for r in &stepped {
                let total: f64 = r.steps.iter().map(|s| s.time_ns.point).sum();
                for s in &r.steps {
                    let rec = step_record(r, s);
                    let att = (s.flops > 0)
                        .then(|| attainable(&res.machine, &rec))
                        .flatten();
                    writeln!(
                        h,
                        "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.3}</td><td>{:.0}%</td><td>{}</td><td>{}</td></tr>",
                        esc(&r.name),
                        esc(&s.name),
                        esc(&s.variant),
                        s.time_ns.point / 1e6,
                        s.time_ns.point / total * 100.0,
                        if s.flops > 0 { format!("{:.1}", rec.gflops.point) } else { "–".into() },
                        att.map_or("–".into(), |(a, why)| format!("{:.0}% ({why})", rec.gflops.point / a * 100.0))
                    )?;
                    if s.flops > 0 {
                        points.push(rec);
                    }
                }
            }
            writeln!(h, "</table>")?;
            let refs: Vec<&Record> = points.iter().collect();
            let svg = charts::roofline(&res.machine, &refs, &stepped[0].isa)?;
            writeln!(
                h,
                "<div class=\"chart\">{}</div>",
                svg.replacen("Roofline,", &format!("{id}: layers on the roofline,"), 1)
            )?;
        }
        // Chart.
        if recs[0].scaling {
            let series: Vec<charts::XySeries> = isas
                .iter()
                .map(|isa| {
                    let pts = (0..sides)
                        .filter_map(|s| {
                            let r = recs
                                .iter()
                                .find(|r| r.side == s && &r.isa == isa && r.mode == "best")?;
                            Some((r.flops as f64 / 1e6, r.time_ns.point / 1e6))
                        })
                        .collect();
                    (isa.clone(), charts::isa_color(isa), pts)
                })
                .collect();
            writeln!(
                h,
                "<div class=\"chart\">{}</div>",
                charts::loglog_lines(
                    "EfficientNet scaling: time against FLOPs, phi = 0..3",
                    "MFLOP (log)",
                    "time, ms (log)",
                    &series
                )?
            )?;
        } else {
            let mut cats = vec!["FLOPs".to_string()];
            cats.extend(isas.iter().cloned());
            let series: Vec<charts::Series> = (1..sides)
                .map(|j| {
                    let name = recs
                        .iter()
                        .find(|r| r.side == j)
                        .map_or(String::new(), |r| r.name.clone());
                    let f = |s: usize| {
                        recs.iter()
                            .find(|r| r.side == s)
                            .map_or(1.0, |r| r.flops as f64)
                    };
                    let mut v = vec![Some(f(j) / f(0))];
                    v.extend(
                        isas.iter()
                            .map(|i| Some(time(&recs, j, i, "best")? / time(&recs, 0, i, "best")?)),
                    );
                    (
                        format!("{name} / {}", recs[0].name),
                        charts::SIDE_COLORS[(j - 1) % charts::SIDE_COLORS.len()],
                        v,
                    )
                })
                .collect();
            writeln!(
                h,
                "<div class=\"chart\">{}</div>",
                charts::grouped_ratio_bars(
                    &format!("{id}: FLOP ratio and time ratio per ISA (baseline / design)"),
                    "ratio (x, log)",
                    &cats,
                    &series
                )?
            )?;
        }
    }
    Ok(h)
}
