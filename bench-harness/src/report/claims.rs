//! The "Claims, measured" section: per claim a table (FLOPs, FLOP ratio, time and time ratio per
//! ISA), the share of each step in the block's time, a chart, the block's layers on the roofline,
//! and a one-sentence verdict computed from the numbers.

use std::fmt::Write as _;

use simdconv::Isa;

use super::bars::{self, Scale};
use super::charts;
use maud::{html, Markup};

use super::page::{l, r, Page, Table};
use crate::roof::attainable;
use crate::schema::results::{
    BlockMode, BlockRecord, Interval, Record, Results, ShapeRecord, StepRecord,
};

/// Position of an ISA in `Isa::ALL` (unknown names last).
fn isa_order(isa: &str) -> usize {
    Isa::from_name(isa).map_or(Isa::ALL.len(), |i| i as usize)
}

/// The ISAs with best-mode rows, narrowest first.
fn isas(recs: &[&BlockRecord]) -> Vec<String> {
    let mut v: Vec<String> = recs
        .iter()
        .filter(|r| r.mode == BlockMode::Best)
        .map(|r| r.isa.clone())
        .collect();
    v.sort_by_key(|i| isa_order(i));
    v.dedup();
    v
}

fn time(recs: &[&BlockRecord], side: usize, isa: &str, mode: &BlockMode) -> Option<f64> {
    recs.iter()
        .find(|r| r.side == side && r.isa == isa && &r.mode == mode)
        .map(|r| r.time_ns.point)
}

/// The widest ISA measured (per-step times exist for it).
fn wide(recs: &[&BlockRecord]) -> Option<String> {
    recs.iter()
        .find(|r| !r.steps.is_empty())
        .map(|r| r.isa.clone())
}

/// The sentence for one claim, computed from its records.
pub(crate) fn verdict(res: &Results, recs: &[&BlockRecord]) -> String {
    let Some(w) = wide(recs) else {
        return "not measured".into();
    };
    if recs.first().is_some_and(|r| r.scaling) {
        return scaling_verdict(recs, &w);
    }
    let mut parts: Vec<String> = (1..sides(recs))
        .filter_map(|j| side_verdict(recs, &w, j))
        .collect();
    parts.extend(slowest_step(res, recs));
    let mut s = parts.join("; ");
    if let Some(c) = s.get(0..1) {
        s = c.to_uppercase() + &s[1..];
    }
    s + "."
}

fn flops(recs: &[&BlockRecord], side: usize) -> f64 {
    recs.iter()
        .find(|r| r.side == side)
        .map_or(0.0, |r| r.flops as f64)
}

/// A scaling series: FLOP growth against time growth per step, on the widest ISA `w`.
fn scaling_verdict(recs: &[&BlockRecord], w: &str) -> String {
    let last = sides(recs) - 1;
    let (Some(t0), Some(tn)) = (
        time(recs, 0, w, &BlockMode::Best),
        time(recs, last, w, &BlockMode::Best),
    ) else {
        return "incomplete".into();
    };
    let steps = last as f64;
    let (rf, rt) = (flops(recs, last) / flops(recs, 0), tn / t0);
    let (gf, gt) = (rf.powf(1.0 / steps), rt.powf(1.0 / steps));
    let how = if gt < gf * 0.9 {
        "; the bigger stages use the machine better"
    } else if gt > gf * 1.1 {
        "; time outgrew FLOPs as the working set left the caches"
    } else {
        "; time tracked FLOPs"
    };
    format!(
        "FLOPs grew {gf:.2}x per scaling step and time {gt:.2}x with {w} (phi 0 to {last}: {rf:.1}x the FLOPs, {rt:.1}x the time){how}."
    )
}

/// Side `j` against the design (side 0): FLOP ratio and time ratio on `w`, then the others.
fn side_verdict(recs: &[&BlockRecord], w: &str, j: usize) -> Option<String> {
    let t = |s: usize, isa: &str| time(recs, s, isa, &BlockMode::Best);
    let (t0, tj) = (t(0, w)?, t(j, w)?);
    let (rf, rt) = (flops(recs, j) / flops(recs, 0), tj / t0);
    let name = recs
        .iter()
        .find(|r| r.side == j)
        .map_or(String::new(), |r| r.name.clone());
    let others: Vec<String> = isas(recs)
        .iter()
        .filter(|i| i.as_str() != w)
        .filter_map(|i| {
            // The other ISAs' factor, in the same direction as the headline's.
            let r = t(j, i)? / t(0, i)?;
            Some(format!("{} {:.1}x", i, if rf >= 1.0 { r } else { 1.0 / r }))
        })
        .collect();
    Some(if rf >= 1.0 {
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
    })
}

/// Where the design's time goes: its slowest step, and its place under the roofline.
fn slowest_step(res: &Results, recs: &[&BlockRecord]) -> Option<String> {
    let rec = recs.iter().find(|r| r.side == 0 && !r.steps.is_empty())?;
    let total: f64 = rec.steps.iter().map(|s| s.time_ns.point).sum();
    let s = rec
        .steps
        .iter()
        .max_by(|a, b| a.time_ns.point.total_cmp(&b.time_ns.point))?;
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
    Some(line)
}

/// A step as a results record (for the roofline and the attainable roof).
fn step_record(rec: &BlockRecord, s: &StepRecord) -> Record {
    let v = simdconv::variants().iter().find(|v| v.name() == s.variant);
    Record {
        layer: s.name.clone(),
        variant: s.variant.clone(),
        algorithm: v.map_or("other".into(), |v| v.algorithm().into()),
        isa: rec.isa.as_str().into(),
        tile: v.map_or("".into(), |v| v.tile().into()),
        types: simdconv::Types::F32.name(),
        shape: ShapeRecord {
            n: 1,
            h: 0,
            w: 0,
            c: 0,
            k: 0,
            r: 0,
            s: 0,
            stride_h: 1,
            stride_w: 1,
            pad_top: 0,
            pad_left: 0,
            pad_bottom: 0,
            pad_right: 0,
            dilation_h: 1,
            dilation_w: 1,
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
        threads: 1,
    }
}

type Rendered = Result<(), Box<dyn std::error::Error>>;

/// Renders the section (nothing when the results have no block records).
pub(crate) fn section(page: &mut Page, res: &Results) -> Rendered {
    if res.blocks.is_empty() {
        return Ok(());
    }
    page.heading("Claims, measured");
    page.text("Each block is built from the registered kernels plus max-pool, concatenation and residual add (batch 1). \"best\" picks, per layer and ISA, the fastest variant of that ISA (a short timing pass at plan time); \"fixed-direct\" uses the direct algorithm for every layer it supports. FLOPs count convolutions only. Times are criterion medians.");
    let mut ids: Vec<&str> = res.blocks.iter().map(|b| b.claim.as_str()).collect();
    ids.dedup();
    for id in ids {
        let recs: Vec<&BlockRecord> = res.blocks.iter().filter(|b| b.claim == id).collect();
        page.subheading(&recs[0].title);
        page.add(html! { p { strong { "Verdict:" } " " (verdict(res, &recs)) } });
        page.add(times_table(&recs));
        step_shares(page, res, id, &recs)?;
        if recs[0].scaling {
            scaling_chart(page, &recs)?;
        } else {
            ratio_chart(page, id, &recs)?;
        }
    }
    Ok(())
}

fn sides(recs: &[&BlockRecord]) -> usize {
    recs.iter().map(|r| r.side).max().unwrap_or(0) + 1
}

/// FLOPs, FLOP ratio, and per ISA the time and time ratio of every side; fixed-mode times.
fn times_table(recs: &[&BlockRecord]) -> Markup {
    let isas = isas(recs);
    let fixed: Vec<&&BlockRecord> = recs
        .iter()
        .filter(|r| r.mode != BlockMode::Best && r.side == 0)
        .collect();
    let mut headers = vec!["block".to_string(), "MFLOP".into(), "FLOP ratio".into()];
    for isa in &isas {
        headers.push(format!("{isa} ms"));
        headers.push(format!("{isa} time ratio"));
    }
    headers.extend(fixed.iter().map(|f| format!("{} {} ms", f.isa, f.mode)));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new("", &headers);
    let f0 = recs
        .iter()
        .find(|r| r.side == 0)
        .map_or(1.0, |r| r.flops as f64);
    let dash = || r("–");
    for side in 0..sides(recs) {
        let Some(r0) = recs.iter().find(|r| r.side == side) else {
            continue;
        };
        let mut cells = vec![
            l(&r0.name),
            r(format!("{:.1}", r0.flops as f64 / 1e6)),
            r(format!("{:.2}", r0.flops as f64 / f0)),
        ];
        for isa in &isas {
            match (
                time(recs, side, isa, &BlockMode::Best),
                time(recs, 0, isa, &BlockMode::Best),
            ) {
                (Some(t), Some(t0)) => {
                    cells.push(r(format!("{:.3}", t / 1e6)));
                    cells.push(r(format!("{:.2}", t / t0)));
                }
                _ => cells.extend([dash(), dash()]),
            }
        }
        for f in &fixed {
            cells.push(
                time(recs, side, &f.isa, &f.mode).map_or(dash(), |t| r(format!("{:.3}", t / 1e6))),
            );
        }
        t.row(&cells, false);
    }
    t.finish()
}

/// The share of each block's time per step (widest ISA), and the steps on the roofline.
fn step_shares(page: &mut Page, res: &Results, id: &str, recs: &[&BlockRecord]) -> Rendered {
    let stepped: Vec<&&BlockRecord> = recs.iter().filter(|r| !r.steps.is_empty()).collect();
    let Some(first) = stepped.first() else {
        return Ok(());
    };
    page.text(&format!(
        "Share of each block's time per step ({}, best variants; per-step criterion medians):",
        first.isa
    ));
    let mut t = Table::new(
        "",
        &[
            "block",
            "step",
            "variant",
            "ms",
            "share",
            "GFLOP/s",
            "% of attainable",
        ],
    );
    let mut points = Vec::new();
    for rec in &stepped {
        let total: f64 = rec.steps.iter().map(|s| s.time_ns.point).sum();
        for s in &rec.steps {
            let sr = step_record(rec, s);
            let att = (s.flops > 0)
                .then(|| attainable(&res.machine, &sr))
                .flatten();
            t.row(
                &[
                    l(&rec.name),
                    l(&s.name),
                    l(&s.variant),
                    r(format!("{:.3}", s.time_ns.point / 1e6)),
                    r(format!("{:.0}%", s.time_ns.point / total * 100.0)),
                    r(if s.flops > 0 {
                        format!("{:.1}", sr.gflops.point)
                    } else {
                        "–".into()
                    }),
                    r(att.map_or("–".into(), |(a, why)| {
                        format!("{:.0}% ({why})", sr.gflops.point / a * 100.0)
                    })),
                ],
                false,
            );
            if s.flops > 0 {
                points.push(sr);
            }
        }
    }
    page.add(t.finish());
    if let Some(isa) = Isa::from_name(&first.isa) {
        let refs: Vec<&Record> = points.iter().collect();
        let title =
            format!("{id}: layers on the roofline, {isa} variants (Winograd: effective GFLOP/s)");
        page.chart(&super::roofline::roofline(
            &res.machine,
            &refs,
            isa,
            &title,
        )?);
    }
    Ok(())
}

/// A scaling series: time against FLOPs per ISA.
fn scaling_chart(page: &mut Page, recs: &[&BlockRecord]) -> Rendered {
    let series: Vec<charts::XySeries> = isas(recs)
        .iter()
        .map(|isa| {
            let pts = (0..sides(recs))
                .filter_map(|s| {
                    let r = recs
                        .iter()
                        .find(|r| r.side == s && &r.isa == isa && r.mode == BlockMode::Best)?;
                    Some((r.flops as f64 / 1e6, r.time_ns.point / 1e6))
                })
                .collect();
            (isa.clone(), charts::isa_color_of(isa), pts)
        })
        .collect();
    page.chart(&charts::loglog_lines(
        "EfficientNet scaling: time against FLOPs, phi = 0..3",
        "MFLOP (log)",
        "time, ms (log)",
        &series,
    )?);
    Ok(())
}

/// Per alternative side: its FLOP ratio and time ratio per ISA against side 0.
fn ratio_chart(page: &mut Page, id: &str, recs: &[&BlockRecord]) -> Rendered {
    let isas = isas(recs);
    let mut cats = vec!["FLOPs".to_string()];
    cats.extend(isas.iter().cloned());
    let f = |s: usize| {
        recs.iter()
            .find(|r| r.side == s)
            .map_or(1.0, |r| r.flops as f64)
    };
    let series: Vec<bars::Series> = (1..sides(recs))
        .map(|j| {
            let name = recs
                .iter()
                .find(|r| r.side == j)
                .map_or(String::new(), |r| r.name.clone());
            let mut v = vec![Some(Interval::exact(f(j) / f(0)))];
            v.extend(isas.iter().map(|i| {
                let t = |side: usize| {
                    recs.iter()
                        .find(|r| r.side == side && &r.isa == i && r.mode == BlockMode::Best)
                        .map(|r| r.time_ns)
                };
                Some(t(j)?.ratio(&t(0)?))
            }));
            (
                format!("{name} / {}", recs[0].name),
                charts::SIDE_COLORS[(j - 1) % charts::SIDE_COLORS.len()],
                v,
            )
        })
        .collect();
    page.chart(&bars::hbars(
        &format!("{id}: FLOP ratio and time ratio per ISA (baseline / design)"),
        "ratio (log)",
        &cats,
        &series,
        Scale::Ratio,
    )?);
    Ok(())
}
