//! Horizontal grouped bars with the category names readable on the left: ratios grow from 1x
//! (right for faster, left for slower) on a log2 axis; values grow from the axis floor on a log10
//! axis. Each bar carries its value as a label and, where it has one, its interval as a whisker.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{decade_label, lg, svg_with_tips, unit_steps, DrawResult};
use crate::results::Interval;

/// A named series of optional intervals, one per category.
pub type Series = (String, RGBColor, Vec<Option<Interval>>);

/// What the bars measure.
#[derive(Clone, Copy, PartialEq)]
pub enum Scale {
    /// Ratios: bars from 1x, log2 axis labelled `0.5x 1x 2x ...`.
    Ratio,
    /// Positive values: bars from the floor, log10 axis labelled by decade.
    Value,
}

impl Scale {
    fn to_axis(self, v: f64) -> f64 {
        match self {
            Scale::Ratio => lg(v) / std::f64::consts::LOG10_2,
            Scale::Value => lg(v),
        }
    }
    fn tick(self, v: &f64) -> String {
        match self {
            Scale::Value => decade_label(v),
            Scale::Ratio => {
                let r = v.round();
                if (v - r).abs() > 1e-6 {
                    String::new()
                } else if r >= 0.0 {
                    format!("{}x", 2f64.powi(r as i32))
                } else {
                    format!("1/{}x", 2f64.powi(-r as i32))
                }
            }
        }
    }
    fn value_label(self, v: f64) -> String {
        match self {
            Scale::Ratio => format!("{v:.2}x"),
            Scale::Value if v >= 100.0 => format!("{v:.0}"),
            Scale::Value => format!("{v:.1}"),
        }
    }
}

/// Draws the bars: one group per category (top to bottom), one bar per series.
pub fn hbars(
    title: &str,
    x_desc: &str,
    categories: &[String],
    series: &[Series],
    scale: Scale,
) -> DrawResult<String> {
    let n = categories.len().max(1);
    let k = series.len().max(1);
    let vals = || series.iter().flat_map(|s| s.2.iter().flatten());
    let lo = vals()
        .map(|i| scale.to_axis(i.lower.min(i.point)))
        .fold(if scale == Scale::Ratio { 0.0 } else { f64::MAX }, f64::min);
    let hi = vals()
        .map(|i| scale.to_axis(i.upper.max(i.point)))
        .fold(if scale == Scale::Ratio { 0.0 } else { f64::MIN }, f64::max);
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.12).max(0.3);
    let (x0, x1) = (lo - pad, hi + pad * 1.6);
    let origin = if scale == Scale::Ratio { 0.0 } else { x0 };
    let name_px = categories.iter().map(|c| c.len()).max().unwrap_or(4) as u32 * 7 + 16;
    let row_px = 13 * k as u32 + 10;
    let legend_px = 22 * k.div_ceil(3) as u32 + 8;
    let height = 90 + legend_px + row_px * n as u32;
    svg_with_tips(1000, height, |whole| {
        let (root, legend) = whole.split_vertically(height - legend_px);
        let root = &root;
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(name_px.min(320))
            .build_cartesian_2d(x0..x1, 0f64..n as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_x_mesh()
            .y_labels(0)
            .x_labels(unit_steps(x0, x1))
            .x_label_formatter(&|v| scale.tick(v))
            .x_desc(x_desc)
            .label_style(("sans-serif", 13))
            .draw()?;
        let grid = RGBColor(230, 230, 230);
        for d in (x0.ceil() as i32)..=(x1.floor() as i32) {
            let d = f64::from(d);
            chart.draw_series(LineSeries::new(vec![(d, 0.0), (d, n as f64)], grid))?;
        }
        let name_style = ("sans-serif", 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, c) in categories.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(x0, n as f64 - i as f64 - 0.5));
            root.draw(&Text::new(c.clone(), (px - 6, py), name_style.clone()))?;
        }
        let slot = 0.84 / k as f64;
        let mut tips = Vec::new();
        for (j, (name, color, v)) in series.iter().enumerate() {
            for (i, val) in v.iter().enumerate() {
                let Some(val) = val else { continue };
                // Only the series present in this category take slots, centred in it.
                let present = |s: &Series| s.2.get(i).is_some_and(Option::is_some);
                let here = series.iter().filter(|s| present(s)).count();
                let rank = series[..j].iter().filter(|s| present(s)).count();
                let top = n as f64 - i as f64 - 0.5 + here as f64 * slot / 2.0 - rank as f64 * slot;
                let (yb, yc) = (top - slot * 0.9, top - slot * 0.45);
                let x = scale.to_axis(val.point);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(origin, yb), (x, top)],
                    color.filled(),
                )))?;
                let (wl, wu) = (scale.to_axis(val.lower), scale.to_axis(val.upper));
                if wu > wl {
                    let w = RGBColor(40, 40, 40).stroke_width(1);
                    chart.draw_series(LineSeries::new(vec![(wl, yc), (wu, yc)], w))?;
                    for e in [wl, wu] {
                        let d = slot * 0.3;
                        chart.draw_series(LineSeries::new(vec![(e, yc - d), (e, yc + d)], w))?;
                    }
                }
                let right = x >= origin;
                let end = if right { x.max(wu) } else { x.min(wl) };
                let (px, py) = chart.backend_coord(&(end, yc));
                let anchor = if right { HPos::Left } else { HPos::Right };
                root.draw(&Text::new(
                    scale.value_label(val.point),
                    (if right { px + 4 } else { px - 4 }, py),
                    ("sans-serif", 11)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(anchor, VPos::Center)),
                ))?;
                let (tx, ty) = chart.backend_coord(&(x, yc));
                tips.push((
                    tx,
                    ty,
                    format!(
                        "{} / {name}: {} [{}, {}]",
                        categories.get(i).map_or("", String::as_str),
                        scale.value_label(val.point),
                        scale.value_label(val.lower),
                        scale.value_label(val.upper)
                    ),
                ));
            }
        }
        if scale == Scale::Ratio {
            chart.draw_series(LineSeries::new(
                vec![(0.0, 0.0), (0.0, n as f64)],
                BLACK.stroke_width(2),
            ))?;
        }
        for (j, (name, color, _)) in series.iter().enumerate() {
            let (col, row) = ((j % 3) as i32, (j / 3) as i32);
            let (x, y) = (name_px.min(320) as i32 + 20 + col * 280, 8 + row * 22);
            legend.draw(&Rectangle::new(
                [(x, y - 6), (x + 12, y + 6)],
                color.filled(),
            ))?;
            legend.draw(&Text::new(
                name.clone(),
                (x + 18, y),
                ("sans-serif", 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(tips)
    })
}
