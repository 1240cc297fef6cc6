//! The Winograd accuracy/speed front. Per 3x3 layer with Winograd rows, on the ISA where its
//! Winograd rows ran fastest: each algorithm's fastest variant, its error as a multiple of
//! direct's error on the same layer and ISA, and its (effective) GFLOP/s. A point that no other
//! matches or beats on both (lower error and higher speed) is on the front: the choices a user
//! trading accuracy for speed should pick from.

use std::collections::BTreeMap;

use maud::html;
use plotters::prelude::*;
use simdconv::Algorithm;

use super::charts::{self, algorithm_color_of, lg, svg_with_tips, DrawResult};
use super::page::{l, r, Page, RowClass, Table};
use crate::schema::results::Record;

/// One algorithm's fastest variant on a layer.
pub(crate) struct Point<'a> {
    /// The algorithm's fastest row.
    pub record: &'a Record,
    /// Error / direct's error on the same layer and ISA (+inf when not finite).
    pub vs_direct: f64,
    /// No other point matches or beats it on both error and speed.
    pub on_front: bool,
}

/// A layer's points on one ISA, fastest first.
pub(crate) struct Front<'a> {
    /// Layer name.
    pub layer: &'a str,
    /// ISA name.
    pub isa: &'a str,
    /// One per algorithm measured on the layer and ISA.
    pub points: Vec<Point<'a>>,
}

/// The fronts of every layer that has a direct row with a non-zero finite error and at least two
/// Winograd algorithms on one ISA.
pub(crate) fn fronts<'a>(records: &[&'a Record]) -> Vec<Front<'a>> {
    let mut by: BTreeMap<(&str, &str), BTreeMap<&str, &'a Record>> = BTreeMap::new();
    for &rec in records {
        let fastest = by
            .entry((rec.layer.as_str(), rec.isa.as_str()))
            .or_default()
            .entry(rec.algorithm.as_str())
            .or_insert(rec);
        if rec.gflops.point > fastest.gflops.point {
            *fastest = rec;
        }
    }
    let wino = |a: &str| matches!(Algorithm::from_name(a), Some(Algorithm::Winograd(_)));
    let mut best: BTreeMap<&str, Front<'a>> = BTreeMap::new();
    for ((layer, isa), algs) in by {
        if algs.keys().filter(|a| wino(a)).count() < 2 {
            continue;
        }
        let Some(direct) = algs.get(Algorithm::Direct.name()) else {
            continue;
        };
        let base = direct.max_rel_error;
        if !(base.is_finite() && base > 0.0) {
            continue;
        }
        let mut points: Vec<Point> = algs
            .values()
            .map(|&rec| Point {
                record: rec,
                vs_direct: if rec.max_rel_error.is_finite() {
                    rec.max_rel_error / base
                } else {
                    f64::INFINITY
                },
                on_front: false,
            })
            .collect();
        for i in 0..points.len() {
            let (e, g) = (points[i].vs_direct, points[i].record.gflops.point);
            points[i].on_front = e.is_finite()
                && !points.iter().enumerate().any(|(j, q)| {
                    let (qe, qg) = (q.vs_direct, q.record.gflops.point);
                    j != i && qe <= e && qg >= g && (qe < e || qg > g)
                });
        }
        points.sort_by(|a, b| b.record.gflops.point.total_cmp(&a.record.gflops.point));
        let speed = |f: &Front| {
            f.points
                .iter()
                .filter(|p| wino(&p.record.algorithm))
                .map(|p| p.record.gflops.point)
                .fold(0.0, f64::max)
        };
        let f = Front { layer, isa, points };
        match best.get(layer) {
            Some(b) if speed(b) >= speed(&f) => {}
            _ => {
                best.insert(layer, f);
            }
        }
    }
    best.into_values().collect()
}

/// The section: a chart per layer and one table.
pub(crate) fn section(page: &mut Page, records: &[&Record]) -> DrawResult<()> {
    let fronts = fronts(records);
    if fronts.is_empty() {
        return Ok(());
    }
    page.heading("Winograd: accuracy against speed");
    page.note(html! {
        "Per 3x3 layer, on the ISA where its Winograd variants ran fastest: each algorithm's fastest variant, its largest error against the f64 reference as a multiple of direct's on the same layer and ISA (log), and its GFLOP/s (Winograd: effective). "
        "The line joins the front: points that no other algorithm matches or beats on both error and speed. "
        "The tile size sets the speed; the interpolation points set the error at no cost in speed ("
        code { "f4-half" } ": {0, -1, 1, 1/2, -2}; " code { "f6" } ": {0, ±1, ±2, ±1/2}; "
        code { "f6-int" } ": {0, ±1, ±2, ±3})."
    });
    let mut t = Table::new(
        "",
        &[
            "layer",
            "ISA",
            "variant",
            "error",
            "x direct",
            "GFLOP/s [interval]",
            "on the front",
        ],
    );
    for f in &fronts {
        page.chart(&chart(f)?);
        for p in &f.points {
            let rec = p.record;
            t.row_class(
                &[
                    l(f.layer),
                    l(f.isa),
                    l(&rec.variant),
                    r(format!("{:.2e}", rec.max_rel_error)),
                    r(format!("{:.1}", p.vs_direct)),
                    r(format!(
                        "{:.1} [{:.1}, {:.1}]",
                        rec.gflops.point, rec.gflops.lower, rec.gflops.upper
                    )),
                    l(if p.on_front { "yes" } else { "" }),
                ],
                p.on_front.then_some(RowClass::Win),
            );
        }
    }
    page.add(t.finish());
    Ok(())
}

fn chart(f: &Front) -> DrawResult<super::page::Svg> {
    let finite: Vec<&Point> = f
        .points
        .iter()
        .filter(|p| p.vs_direct.is_finite())
        .collect();
    let x0 = finite.iter().map(|p| lg(p.vs_direct)).fold(0.0, f64::min) - 0.3;
    let x1 = finite.iter().map(|p| lg(p.vs_direct)).fold(1.0, f64::max) + 0.5;
    let y1 = finite
        .iter()
        .map(|p| p.record.gflops.upper)
        .filter(|g| g.is_finite())
        .fold(1.0, f64::max)
        * 1.15;
    let title = format!("{} on {}: error against speed", f.layer, f.isa);
    svg_with_tips(760, 420, |root| {
        let mut c = ChartBuilder::on(root)
            .caption(&title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0f64..y1)?;
        c.configure_mesh()
            .disable_mesh()
            .x_desc("max error / direct's (log)")
            .y_desc("GFLOP/s (Winograd: effective)")
            .x_labels(charts::unit_steps(x0, x1))
            .x_label_formatter(&charts::decade_label)
            .label_style(("sans-serif", 13))
            .draw()?;
        // Decades of the error axis only: the speed axis is linear.
        let grid = RGBColor(230, 230, 230);
        for d in (x0.ceil() as i32)..=(x1.floor() as i32) {
            let d = f64::from(d);
            c.draw_series(LineSeries::new(vec![(d, 0.0), (d, y1)], grid))?;
        }
        let mut front: Vec<(f64, f64)> = finite
            .iter()
            .filter(|p| p.on_front)
            .map(|p| (lg(p.vs_direct), p.record.gflops.point))
            .collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0));
        c.draw_series(LineSeries::new(front, BLACK.stroke_width(2)))?;
        let mut tips = Vec::new();
        for p in &finite {
            let rec = p.record;
            let xy = (lg(p.vs_direct), rec.gflops.point);
            let col = algorithm_color_of(&rec.algorithm);
            // The interval as a vertical bar, the point filled when on the front.
            c.draw_series(LineSeries::new(
                vec![
                    (xy.0, rec.gflops.lower.clamp(0.0, y1)),
                    (xy.0, rec.gflops.upper.clamp(0.0, y1)),
                ],
                col.stroke_width(2),
            ))?;
            let style = if p.on_front {
                col.filled()
            } else {
                col.stroke_width(2)
            };
            c.draw_series(std::iter::once(Circle::new(xy, 6, style)))?;
            c.draw_series(std::iter::once(Text::new(
                rec.algorithm.to_string(),
                (xy.0 + 0.03 * (x1 - x0), xy.1),
                ("sans-serif", 13).into_font().color(&col),
            )))?;
            let (x, y) = c.backend_coord(&xy);
            tips.push((
                x,
                y,
                format!(
                    "{}: error {:.2e} = {:.1}x direct's, {:.1} GFLOP/s [{:.1}, {:.1}]",
                    rec.variant,
                    rec.max_rel_error,
                    p.vs_direct,
                    rec.gflops.point,
                    rec.gflops.lower,
                    rec.gflops.upper
                ),
            ));
        }
        Ok(tips)
    })
}
