//! The low-precision roofline: each layer's fastest int8 and bf16 variant (one thread) at its
//! arithmetic intensity counted in its own element sizes (int8: u8 activations in and out, s8
//! weights, i32 bias; bf16: bf16 activations in and weights, f32 out and bias), under the measured
//! dot-product peaks (int8 per ISA, bf16) and the widest f32 FMA peak for reference, with one
//! bandwidth diagonal per memory level. Log-log, drawn in log10 space like the f32 rooflines.

use plotters::prelude::*;

use super::charts::{decade_grid, decade_label, lg, svg_with_tips, unit_steps, DrawResult, Tip};
use super::page::Svg;
use super::roofline::bandwidth_diagonals;
use crate::schema::precision::PrecisionRecord;
use crate::schema::results::Results;

/// Bytes per element of (input, weights, output, bias) in a family.
fn element_bytes(family: &str) -> [u64; 4] {
    match family {
        "bf16" => [2, 2, 4, 4],
        _ => [1, 1, 1, 4],
    }
}

/// Operations and compulsory bytes (every input, weight, bias and output element once, in the
/// family's sizes) of `p`'s layer; `None` when the results do not hold its shape.
pub(crate) fn work(res: &Results, p: &PrecisionRecord) -> Option<(u64, u64)> {
    let layer = res.layers.iter().find(|l| l.name == p.layer)?;
    let s = layer.shape.shape().ok()?;
    let [bi, bw, bo, bb] = element_bytes(p.family());
    let bytes = s.input_len() as u64 * bi
        + s.weights_len() as u64 * bw
        + s.output_len() as u64 * bo
        + s.k() as u64 * bb;
    Some((s.flops(), bytes))
}

const FAMILY_COLORS: [(&str, RGBColor); 2] = [
    ("int8", RGBColor(40, 100, 200)),
    ("bf16", RGBColor(40, 160, 90)),
];

/// Draws the chart over `best` (one record per layer and family).
pub(crate) fn chart(res: &Results, best: &[&PrecisionRecord]) -> DrawResult<Svg> {
    let m = &res.machine;
    let pts: Vec<(&PrecisionRecord, f64, f64)> = best
        .iter()
        .filter_map(|p| {
            let (ops, bytes) = work(res, p)?;
            let ai = ops as f64 / bytes.max(1) as f64;
            (p.gops.point > 0.0 && ai.is_finite()).then_some((*p, ai, p.gops.point))
        })
        .collect();
    let mut roofs: Vec<(String, f64, RGBColor)> = Vec::new();
    for (isa, &g) in &m.int8_peak_gops {
        roofs.push((format!("int8 {isa} peak {g:.0}"), g, FAMILY_COLORS[0].1));
    }
    for (isa, &g) in &m.bf16_peak_gflops {
        roofs.push((format!("bf16 {isa} peak {g:.0}"), g, FAMILY_COLORS[1].1));
    }
    if let Some((isa, &g)) = m
        .peak_gflops
        .iter()
        .filter(|(_, g)| g.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
    {
        roofs.push((
            format!("f32 {isa} FMA peak {g:.0}"),
            g,
            RGBColor(130, 130, 130),
        ));
    }
    roofs.retain(|r| r.1.is_finite() && r.1 > 0.0);
    let top = roofs
        .iter()
        .map(|r| r.1)
        .chain(pts.iter().map(|p| p.2))
        .fold(1.0, f64::max);
    let low = pts.iter().map(|p| p.2).fold(top, f64::min);
    let (x0, x1) = (
        lg(pts.iter().map(|p| p.1).fold(1.0, f64::min)) - 0.5,
        lg(pts.iter().map(|p| p.1).fold(100.0, f64::max)) + 0.3,
    );
    let (y0, y1) = (lg(low) - 0.5, lg(top) + 0.35);
    svg_with_tips(1000, 560, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Low-precision roofline (one core)", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(unit_steps(x0, x1))
            .y_labels(unit_steps(y0, y1))
            .x_label_formatter(&decade_label)
            .y_label_formatter(&decade_label)
            .x_desc("Operations per compulsory byte, in the variant's element sizes (log)")
            .y_desc("G op/s (2 per multiply-add, log)")
            .label_style(("sans-serif", 14))
            .draw()?;
        decade_grid(&mut chart, (x0, x1), (y0, y1), true)?;
        for (label, g, c) in &roofs {
            chart.draw_series(LineSeries::new(
                vec![(x0, lg(*g)), (x1, lg(*g))],
                c.stroke_width(2),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                label.clone(),
                (x0 + 0.08, lg(*g) + 0.05),
                ("sans-serif", 13).into_font().color(c),
            )))?;
        }
        let ceiling = roofs.iter().map(|r| r.1).fold(0.0, f64::max);
        bandwidth_diagonals(&mut chart, m, ceiling, (x0, x1, y0))?;
        for (fam, c) in FAMILY_COLORS {
            let xy: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| p.0.family() == fam)
                .map(|p| (lg(p.1), lg(p.2)))
                .collect();
            if xy.is_empty() {
                continue;
            }
            chart
                .draw_series(xy.into_iter().map(|p| Circle::new(p, 5, c.filled())))?
                .label(format!("{fam}: fastest per layer"))
                .legend(move |(x, y)| Circle::new((x + 5, y), 5, c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        let tips: Vec<Tip> = pts
            .iter()
            .map(|(p, ai, g)| {
                let (x, y) = chart.backend_coord(&(lg(*ai), lg(*g)));
                (
                    x,
                    y,
                    format!(
                        "{} / {}: {g:.0} G op/s, {ai:.1} op/byte",
                        p.layer, p.variant
                    ),
                )
            })
            .collect();
        Ok(tips)
    })
}
