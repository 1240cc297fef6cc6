//! Horizontal grouped bars with the category names readable on the left: ratios grow from 1x
//! (right for faster, left for slower) on a log2 axis; values grow from the axis floor on a log10
//! axis. Each bar carries its value as a label and, where it has one, its interval as a whisker.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{decade_label, lg, svg_with_tips, unit_steps, DrawResult, Tip};
use super::page::Svg;
use crate::schema::results::Interval;

/// A named series of optional intervals, one per category.
pub(crate) type Series = (String, RGBColor, Vec<Option<Interval>>);

/// What the bars measure.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Scale {
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

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// The x range of the axis (in axis units) over every interval, with room for the labels.
fn x_range(series: &[Series], scale: Scale) -> (f64, f64) {
    let vals = || series.iter().flat_map(|s| s.2.iter().flatten());
    let start = if scale == Scale::Ratio { 0.0 } else { f64::MAX };
    let lo = vals()
        .map(|i| scale.to_axis(i.lower.min(i.point)))
        .fold(start, f64::min);
    let start = if scale == Scale::Ratio { 0.0 } else { f64::MIN };
    let hi = vals()
        .map(|i| scale.to_axis(i.upper.max(i.point)))
        .fold(start, f64::max);
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.12).max(0.3);
    (lo - pad, hi + pad * 1.6)
}

/// Draws the bars: one group per category (top to bottom), one bar per series.
pub(crate) fn hbars(
    title: &str,
    x_desc: &str,
    categories: &[String],
    series: &[Series],
    scale: Scale,
) -> DrawResult<Svg> {
    let n = categories.len().max(1);
    let k = series.len().max(1);
    let (x0, x1) = x_range(series, scale);
    let name_px = (categories.iter().map(|c| c.len()).max().unwrap_or(4) as u32 * 7 + 16).min(320);
    let legend_px = 22 * k.div_ceil(3) as u32 + 8;
    let height = 90 + legend_px + (13 * k as u32 + 10) * n as u32;
    svg_with_tips(1000, height, |whole| {
        let (root, legend) = whole.split_vertically(height - legend_px);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(name_px)
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
        for d in (x0.ceil() as i32)..=(x1.floor() as i32) {
            let d = f64::from(d);
            let grid = RGBColor(230, 230, 230);
            chart.draw_series(LineSeries::new(vec![(d, 0.0), (d, n as f64)], grid))?;
        }
        for (i, c) in categories.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(x0, n as f64 - i as f64 - 0.5));
            root.draw(&Text::new(
                c.clone(),
                (px - 6, py),
                anchored(13, HPos::Right),
            ))?;
        }
        let mut tips = Vec::new();
        let slot = 0.84 / k as f64;
        for (i, cat) in categories.iter().enumerate() {
            // Only the series present in this category take slots, centred in it.
            let here: Vec<(&Series, Interval)> = series
                .iter()
                .filter_map(|s| Some((s, (*s.2.get(i)?)?)))
                .collect();
            let top = n as f64 - i as f64 - 0.5 + here.len() as f64 * slot / 2.0;
            for (rank, (s, val)) in here.iter().enumerate() {
                let y = (top - (rank as f64 + 0.9) * slot, top - rank as f64 * slot);
                let bar = Bar {
                    scale,
                    origin: if scale == Scale::Ratio { 0.0 } else { x0 },
                    y,
                };
                tips.push(bar.draw(&mut chart, &root, s.1, *val, &format!("{cat} / {}", s.0))?);
            }
        }
        if scale == Scale::Ratio {
            let one = vec![(0.0, 0.0), (0.0, n as f64)];
            chart.draw_series(LineSeries::new(one, BLACK.stroke_width(2)))?;
        }
        draw_legend(&legend, series, name_px as i32 + 20)?;
        Ok(tips)
    })
}

/// Text of `size` px anchored horizontally at `h`, centred vertically.
fn anchored(size: u32, h: HPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(h, VPos::Center))
}

/// One bar's geometry: its scale, where it grows from, and its vertical extent.
struct Bar {
    scale: Scale,
    origin: f64,
    y: (f64, f64),
}

impl Bar {
    /// Draws the bar, its whisker and its value label; returns its tooltip.
    fn draw(
        &self,
        chart: &mut Chart,
        root: &Area,
        color: RGBColor,
        val: Interval,
        name: &str,
    ) -> DrawResult<Tip> {
        let (yb, top) = self.y;
        let yc = (yb + top) / 2.0;
        let x = self.scale.to_axis(val.point);
        let rect = Rectangle::new([(self.origin, yb), (x, top)], color.filled());
        chart.draw_series(std::iter::once(rect))?;
        let (wl, wu) = (self.scale.to_axis(val.lower), self.scale.to_axis(val.upper));
        if wu > wl {
            let w = RGBColor(40, 40, 40).stroke_width(1);
            let d = (top - yb) / 3.0;
            chart.draw_series(LineSeries::new(vec![(wl, yc), (wu, yc)], w))?;
            for e in [wl, wu] {
                chart.draw_series(LineSeries::new(vec![(e, yc - d), (e, yc + d)], w))?;
            }
        }
        let right = x >= self.origin;
        let (px, py) = chart.backend_coord(&(if right { x.max(wu) } else { x.min(wl) }, yc));
        let (lx, anchor) = if right {
            (px + 4, HPos::Left)
        } else {
            (px - 4, HPos::Right)
        };
        let label = self.scale.value_label(val.point);
        root.draw(&Text::new(label.clone(), (lx, py), anchored(11, anchor)))?;
        let (tx, ty) = chart.backend_coord(&(x, yc));
        let (lo, hi) = (
            self.scale.value_label(val.lower),
            self.scale.value_label(val.upper),
        );
        Ok((tx, ty, format!("{name}: {label} [{lo}, {hi}]")))
    }
}

/// The series' colour swatches and names, three per row, from `x` px.
fn draw_legend(area: &Area, series: &[Series], x: i32) -> DrawResult<()> {
    for (j, (name, color, _)) in series.iter().enumerate() {
        let (x, y) = (x + (j % 3) as i32 * 280, 8 + (j / 3) as i32 * 22);
        area.draw(&Rectangle::new(
            [(x, y - 6), (x + 12, y + 6)],
            color.filled(),
        ))?;
        area.draw(&Text::new(
            name.clone(),
            (x + 18, y),
            anchored(13, HPos::Left),
        ))?;
    }
    Ok(())
}
