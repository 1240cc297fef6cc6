//! The roofline of one ISA: log-log, drawn in log10 space so every decade is labelled once; the
//! measured FMA peak of every ISA (this one bold), Winograd's effective roofs for this ISA, one
//! bandwidth diagonal per memory level ending at this ISA's roof; one point per (layer, variant)
//! of this ISA with a tooltip, and each layer's best point labelled where no point is hidden.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use simdconv::{Algorithm, Isa};

use super::charts::{
    algorithm_color, algorithm_color_of, decade_grid, decade_label, lg, marked, svg_with_tips,
    unit_steps, DrawResult, Tip,
};
use super::page::Svg;
use crate::schema::machine::MachineProfile;
use crate::schema::results::Record;

/// Pixel boxes already taken (points and labels), to place labels where they hide nothing.
struct Taken(Vec<(i32, i32, i32, i32)>);

impl Taken {
    fn free(&self, b: (i32, i32, i32, i32)) -> bool {
        self.0
            .iter()
            .all(|o| b.2 < o.0 || o.2 < b.0 || b.3 < o.1 || o.3 < b.1)
    }
    /// The first of a few positions around `(x, y)` where a `w` x 14 label hides nothing.
    fn place(&mut self, (x, y): (i32, i32), w: i32) -> Option<(i32, i32)> {
        let spots = [
            (9, -16),
            (9, 3),
            (-9 - w, -16),
            (-9 - w, 3),
            (-w / 2, -26),
            (-w / 2, 12),
        ];
        let found = spots
            .iter()
            .map(|&(dx, dy)| (x + dx, y + dy))
            .find(|&(lx, ly)| {
                let b = (lx, ly, lx + w, ly + 14);
                self.free(b)
            })?;
        self.0.push((found.0, found.1, found.0 + w, found.1 + 14));
        Some(found)
    }
}

/// Draws the roofline of `isa` over the records of that ISA.
pub(crate) fn roofline(
    m: &MachineProfile,
    records: &[&Record],
    isa: Isa,
    title: &str,
) -> DrawResult<Svg> {
    let pts: Vec<&Record> = records
        .iter()
        .copied()
        .filter(|r| r.isa() == Some(isa))
        .filter(|r| r.intensity > 0.0 && r.intensity.is_finite() && r.gflops.point > 0.0)
        .collect();
    let peaks: Vec<(&String, f64)> = m
        .peak_gflops
        .iter()
        .filter(|(_, v)| v.is_finite() && **v > 0.0)
        .map(|(k, v)| (k, *v))
        .collect();
    let own = m
        .peak(&m.peak_types, isa.name())
        .filter(|p| p.is_finite() && *p > 0.0);
    let effective: Vec<(Algorithm, f64)> = Algorithm::ALL
        .into_iter()
        .filter(|a| a.multiply_reduction() > 1.0)
        .filter(|a| pts.iter().any(|r| r.algorithm() == Some(*a)))
        .filter_map(|a| Some((a, own? * a.multiply_reduction())))
        .collect();
    let (x0, x1, y0, y1) = frame(&pts, &peaks, &effective);
    svg_with_tips(1000, 620, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 22))
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
            .x_desc("Arithmetic intensity (FLOP per compulsory byte, log)")
            .y_desc("GFLOP/s (log)")
            .label_style(("sans-serif", 14))
            .draw()?;
        decade_grid(&mut chart, (x0, x1), (y0, y1), true)?;
        draw_roofs(&mut chart, m, isa, &effective, (x0, x1, y0))?;
        let mut algs: Vec<&str> = pts.iter().map(|r| r.algorithm.as_str()).collect();
        algs.sort();
        algs.dedup();
        for alg in algs {
            let c = algorithm_color_of(alg);
            let label = if alg.starts_with("winograd") {
                format!("{alg} (effective)")
            } else {
                alg.to_string()
            };
            let xy: Vec<(f64, f64)> = pts
                .iter()
                .filter(|r| r.algorithm == alg)
                .map(|r| (lg(r.intensity), lg(r.gflops.point)))
                .collect();
            marked!(chart, Some(isa), xy, c, Some(label));
        }
        let tips = label_points(&chart, root, &pts, m)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(tips)
    })
}

/// The plot's log10 ranges: every point, every peak and effective roof, with margins.
fn frame(
    pts: &[&Record],
    peaks: &[(&String, f64)],
    effective: &[(Algorithm, f64)],
) -> (f64, f64, f64, f64) {
    let top = peaks
        .iter()
        .map(|p| p.1)
        .chain(effective.iter().map(|e| e.1))
        .chain(pts.iter().map(|r| r.gflops.point))
        .fold(1.0, f64::max);
    let low = pts
        .iter()
        .map(|r| r.gflops.point)
        .chain(peaks.iter().map(|p| p.1))
        .fold(top, f64::min);
    let ai = || pts.iter().map(|r| r.intensity);
    (
        lg(ai().fold(0.1, f64::min)) - 0.5,
        lg(ai().fold(1000.0, f64::max)) + 0.3,
        lg(low) - 0.5,
        lg(top) + 0.35,
    )
}

pub(crate) type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A tooltip for every point; a label with the layer name for each layer's best point, placed
/// where it covers no point and no other label (skipped where no such place is near).
fn label_points(
    chart: &Chart,
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    pts: &[&Record],
    m: &MachineProfile,
) -> DrawResult<Vec<Tip>> {
    let px = |r: &Record| chart.backend_coord(&(lg(r.intensity), lg(r.gflops.point)));
    let mut taken = Taken(
        pts.iter()
            .map(|r| {
                let (x, y) = px(r);
                (x - 6, y - 6, x + 6, y + 6)
            })
            .collect(),
    );
    let mut best: Vec<&Record> = Vec::new();
    for r in pts {
        match best.iter_mut().find(|b| b.layer == r.layer) {
            Some(b) if b.gflops.point < r.gflops.point => *b = r,
            Some(_) => {}
            None => best.push(r),
        }
    }
    best.sort_by(|a, b| b.gflops.point.total_cmp(&a.gflops.point));
    for r in &best {
        let w = r.layer.len() as i32 * 7 + 4;
        if let Some((x, y)) = taken.place(px(r), w) {
            root.draw(&Text::new(
                r.layer.clone(),
                (x, y),
                ("sans-serif", 12).into_font().color(&RGBColor(40, 40, 40)),
            ))?;
        }
    }
    Ok(pts
        .iter()
        .map(|r| {
            let (x, y) = px(r);
            let of_peak = m.peak(&r.types, &r.isa).map_or(String::new(), |p| {
                format!(", {:.2}x {} peak", r.gflops.point / p, r.isa)
            });
            (
                x,
                y,
                format!(
                    "{} / {}: {:.1} GFLOP/s [{:.1}, {:.1}]{of_peak}, AI {:.1}",
                    r.layer, r.variant, r.gflops.point, r.gflops.lower, r.gflops.upper, r.intensity
                ),
            )
        })
        .collect())
}

/// Every ISA's FMA peak (`isa`'s bold), `isa`'s Winograd effective roofs, and one bandwidth
/// diagonal per memory level, rising from the plot's floor to `isa`'s own roof.
fn draw_roofs(
    chart: &mut Chart,
    m: &MachineProfile,
    isa: Isa,
    effective: &[(Algorithm, f64)],
    (x0, x1, y0): (f64, f64, f64),
) -> DrawResult<()> {
    let label_x = x0 + 0.08;
    for (name, &peak) in &m.peak_gflops {
        if !(peak.is_finite() && peak > 0.0) {
            continue;
        }
        let bold = name == isa.name();
        let (style, color) = if bold {
            (BLACK.stroke_width(3), BLACK)
        } else {
            (
                RGBColor(170, 170, 170).stroke_width(1),
                RGBColor(120, 120, 120),
            )
        };
        chart.draw_series(LineSeries::new(vec![(x0, lg(peak)), (x1, lg(peak))], style))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{name} FMA peak {peak:.0}"),
            (label_x, lg(peak) + 0.05),
            ("sans-serif", 13).into_font().color(&color),
        )))?;
    }
    for &(alg, roof) in effective {
        let c = algorithm_color(alg);
        chart.draw_series(LineSeries::new(
            vec![(x0, lg(roof)), (x1, lg(roof))],
            c.stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(
                "{} effective roof {roof:.0} ({isa} peak x{:.2})",
                alg.name(),
                alg.multiply_reduction()
            ),
            (label_x, lg(roof) + 0.05),
            ("sans-serif", 12).into_font().color(&c),
        )))?;
    }
    let Some(own) = m
        .peak(&m.peak_types, isa.name())
        .filter(|p| p.is_finite() && *p > 0.0)
    else {
        return Ok(());
    };
    bandwidth_diagonals(chart, m, own, (x0, x1, y0))
}

/// One bandwidth diagonal per measured memory level (log y = log x + log bw), from the plot's
/// floor (or left edge) up to the roof `ceiling`, labelled with its level and GB/s.
pub(crate) fn bandwidth_diagonals(
    chart: &mut Chart,
    m: &MachineProfile,
    ceiling: f64,
    (x0, x1, y0): (f64, f64, f64),
) -> DrawResult<()> {
    let c = RGBColor(100, 100, 200);
    for b in m
        .bandwidth
        .iter()
        .filter(|b| b.gbs.is_finite() && b.gbs > 0.0)
    {
        let lb = lg(b.gbs);
        let xs = x0.max(y0 - lb);
        let xe = x1.min(lg(ceiling) - lb);
        if xs >= xe {
            continue;
        }
        chart.draw_series(LineSeries::new(
            vec![(xs, xs + lb), (xe, xe + lb)],
            c.stroke_width(1),
        ))?;
        let xl = xs + (xe - xs) * 0.15;
        chart.draw_series(std::iter::once(Text::new(
            format!("{} {:.0} GB/s", b.level, b.gbs),
            (xl, xl + lb + 0.06),
            ("sans-serif", 12).into_font().color(&c),
        )))?;
    }
    Ok(())
}
