//! The charts, drawn with plotters into SVG strings (no fonts needed, no JavaScript).

use plotters::coord::combinators::LogCoord;
use plotters::coord::Shift;
use plotters::prelude::*;

use simdconv::{Algorithm, Isa};

use crate::machine::MachineProfile;
use crate::results::Record;

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Series colours for files / CPUs on the comparison page (distinct from the ISA colours).
pub const CPU_COLORS: [RGBColor; 5] = [
    RGBColor(230, 120, 20),
    RGBColor(60, 60, 160),
    RGBColor(0, 140, 120),
    RGBColor(170, 60, 150),
    RGBColor(120, 110, 20),
];

/// Grey for names this build does not know (a results file from a newer build).
const UNKNOWN: RGBColor = RGBColor(90, 90, 90);

/// Colour of an algorithm (stable across charts).
pub fn algorithm_color(alg: Algorithm) -> RGBColor {
    match alg {
        Algorithm::Direct => RGBColor(31, 119, 180),
        Algorithm::Im2col => RGBColor(255, 127, 14),
        Algorithm::Winograd(simdconv::WinogradTile::F2x2_3x3) => RGBColor(44, 160, 44),
        Algorithm::Winograd(simdconv::WinogradTile::F4x4_3x3) => RGBColor(214, 39, 40),
        Algorithm::Depthwise => RGBColor(148, 103, 189),
        Algorithm::Pointwise => RGBColor(140, 86, 75),
    }
}

/// Colour of an algorithm given by name (grey when unknown).
pub fn algorithm_color_of(name: &str) -> RGBColor {
    Algorithm::from_name(name).map_or(UNKNOWN, algorithm_color)
}

/// Colour of an ISA (stable across charts).
pub fn isa_color(isa: Isa) -> RGBColor {
    match isa {
        Isa::Scalar => RGBColor(127, 127, 127),
        Isa::Portable => RGBColor(23, 190, 207),
        Isa::Avx2 => RGBColor(31, 119, 180),
        Isa::Avx512 => RGBColor(214, 39, 40),
        Isa::Neon => RGBColor(44, 160, 44),
    }
}

/// Colour of an ISA given by name (grey when unknown).
pub fn isa_color_of(name: &str) -> RGBColor {
    Isa::from_name(name).map_or(UNKNOWN, isa_color)
}

/// Draws points with the ISA's marker (scalar circle, portable triangle, avx2 cross, avx512
/// square, neon and unknown ring); evaluates to the series annotation so a legend entry can be
/// attached.
macro_rules! marked {
    ($chart:expr, $isa:expr, $pts:expr, $c:expr) => {{
        let c: RGBColor = $c;
        let pts: Vec<(f64, f64)> = $pts;
        let isa: Option<Isa> = $isa;
        match isa {
            Some(Isa::Scalar) => {
                $chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled())))?
            }
            Some(Isa::Portable) => $chart.draw_series(
                pts.into_iter()
                    .map(|p| TriangleMarker::new(p, 5, c.filled())),
            )?,
            Some(Isa::Avx2) => {
                $chart.draw_series(pts.into_iter().map(|p| Cross::new(p, 5, c.stroke_width(2))))?
            }
            Some(Isa::Avx512) => $chart
                .draw_series(pts.into_iter().map(|p| {
                    EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], c.filled())
                }))?,
            Some(Isa::Neon) | None => $chart.draw_series(
                pts.into_iter()
                    .map(|p| Circle::new(p, 5, c.stroke_width(2))),
            )?,
        }
    }};
}

fn svg(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> DrawResult<()>,
) -> DrawResult<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(out)
}

/// A roofline for one ISA: log-log, the measured compute roof of every ISA (this one bold) and a
/// bandwidth roof per memory level, one point per (variant, layer) of this ISA.
pub fn roofline(
    m: &MachineProfile,
    records: &[&Record],
    isa: Isa,
    title: &str,
) -> DrawResult<String> {
    let pts: Vec<&&Record> = records.iter().filter(|r| r.isa() == Some(isa)).collect();
    let max_peak = m.peak_gflops.values().cloned().fold(1.0, f64::max);
    let ai = pts.iter().map(|r| r.intensity);
    let x0 = ai.clone().fold(0.1f64, f64::min) / 2.0;
    let x1 = ai.fold(1000.0f64, f64::max) * 2.0;
    let min_peak = m.peak_gflops.values().cloned().fold(f64::MAX, f64::min);
    let y0 = pts.iter().map(|r| r.gflops.point).fold(min_peak, f64::min) / 3.0;
    let y1 = max_peak * 3.0;
    svg(1000, 620, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("Arithmetic intensity (FLOP per compulsory byte)")
            .y_desc("GFLOP/s")
            .label_style(("sans-serif", 14))
            .draw()?;
        draw_roofs(&mut chart, m, isa, (x0, x1, y0, max_peak))?;
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
                .map(|r| (r.intensity, r.gflops.point.max(y0)))
                .collect();
            marked!(chart, Some(isa), xy, c)
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

type LogLog<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<LogCoord<f64>, LogCoord<f64>>>;

/// The roofline's roofs: every ISA's FMA peak (`isa`'s bold) and one bandwidth diagonal per
/// memory level, within the plot `(x0, x1, y0, max_peak)`.
fn draw_roofs(
    chart: &mut LogLog,
    m: &MachineProfile,
    isa: Isa,
    (x0, x1, y0, max_peak): (f64, f64, f64, f64),
) -> DrawResult<()> {
    for (name, &peak) in &m.peak_gflops {
        let bold = name == isa.name();
        let style = if bold {
            BLACK.stroke_width(3)
        } else {
            RGBColor(160, 160, 160).stroke_width(1)
        };
        chart.draw_series(LineSeries::new(vec![(x0, peak), (x1, peak)], style))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{name} FMA peak {peak:.0}"),
            (x1 / 60.0, peak * 1.08),
            ("sans-serif", 13).into_font().color(if bold {
                &BLACK
            } else {
                &RGBColor(120, 120, 120)
            }),
        )))?;
    }
    for (i, b) in m.bandwidth.iter().enumerate() {
        // GFLOP/s = AI * GB/s, up to the highest roof.
        let xe = max_peak / b.gbs;
        let c = RGBColor(100, 100, 200);
        // Start where the diagonal enters the plot, so nothing is clipped (which would bend it).
        let xs = x0.max(y0 / b.gbs);
        chart.draw_series(LineSeries::new(
            vec![(xs, xs * b.gbs), (xe.min(x1), (xe.min(x1)) * b.gbs)],
            c.stroke_width(1),
        ))?;
        let xl = (xs * 1.5 * 2f64.powi(i as i32)).min(xe / 2.0);
        chart.draw_series(std::iter::once(Text::new(
            format!("{} {:.0} GB/s", b.level, b.gbs),
            (xl, xl * b.gbs * 1.15),
            ("sans-serif", 12).into_font().color(&c),
        )))?;
    }
    Ok(())
}

/// Grouped bars of ratios on a log axis with a line at 1: one group per layer, one bar per series.
pub fn grouped_ratio_bars(
    title: &str,
    y_desc: &str,
    layers: &[String],
    series: &[Series],
) -> DrawResult<String> {
    bars(title, y_desc, layers, series, true)
}

/// A named series of optional values, one per x category.
pub type Series = (String, RGBColor, Vec<Option<f64>>);

/// Grouped bars of values on a log axis: one group per category, one bar per series.
pub fn grouped_bars(
    title: &str,
    y_desc: &str,
    labels: &[String],
    series: &[Series],
) -> DrawResult<String> {
    bars(title, y_desc, labels, series, false)
}

fn bars(
    title: &str,
    y_desc: &str,
    layers: &[String],
    series: &[Series],
    unit_line: bool,
) -> DrawResult<String> {
    let n = layers.len().max(1);
    let (ymin, ymax) = bar_range(series, unit_line);
    let width = (160 + 60 * n as u32).max(700);
    // Category names that do not fit side by side become numbers, with a key under the chart.
    let fits = layers
        .iter()
        .all(|l| l.len() as u32 * 7 < (width - 160) / n as u32);
    let names: Vec<String> = if fits {
        layers.to_vec()
    } else {
        (1..=n).map(|i| i.to_string()).collect()
    };
    let svg_text = svg(width, 560, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (ymin..ymax).log_scale())?;
        let names = names.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&move |x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                    names[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", 13))
            .y_desc(y_desc)
            .draw()?;
        if unit_line {
            chart.draw_series(LineSeries::new(
                vec![(-0.5, 1.0), (n as f64 - 0.5, 1.0)],
                BLACK.stroke_width(1),
            ))?;
        }
        let k = series.len().max(1) as f64;
        let w = 0.8 / k;
        for (j, (name, color, v)) in series.iter().enumerate() {
            let c = *color;
            chart
                .draw_series(v.iter().enumerate().filter_map(|(i, val)| {
                    val.map(|val| {
                        let x = i as f64 - 0.4 + j as f64 * w;
                        Rectangle::new([(x, ymin), (x + w * 0.9, val.max(ymin))], c.filled())
                    })
                }))?
                .label(name.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })?;
    if fits {
        return Ok(svg_text);
    }
    let key: Vec<String> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{} = {}", i + 1, super::esc(l)))
        .collect();
    Ok(format!(
        "{svg_text}<p class=\"note\">{}</p>",
        key.join(", ")
    ))
}

/// The log y range of a bar chart: headroom above for the legend; with a line at 1, the range
/// includes 1.
fn bar_range(series: &[Series], unit_line: bool) -> (f64, f64) {
    let vals: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().flatten().cloned())
        .collect();
    let ymax = vals.iter().cloned().fold(2.0, f64::max) * 3.0;
    let ymin = vals
        .iter()
        .cloned()
        .fold(if unit_line { 0.5 } else { f64::MAX }, f64::min)
        .min(ymax / 10.0)
        * 0.7;
    (ymin, ymax)
}

/// Accuracy against speed: error (log) against GFLOP/s, one point per (variant, layer).
pub fn accuracy(records: &[&Record]) -> DrawResult<String> {
    let floor = 1e-9;
    let xmax = records.iter().map(|r| r.gflops.point).fold(1.0, f64::max) * 1.2;
    let ymax = records.iter().map(|r| r.max_rel_error).fold(1e-6, f64::max) * 5.0;
    svg(1000, 560, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Accuracy against speed, 3x3 stride-1 layers",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..xmax, (floor..ymax).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("GFLOP/s (Winograd: effective)")
            .y_desc("max error / term magnitude")
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .label_style(("sans-serif", 14))
            .draw()?;
        let mut algs: Vec<&str> = records.iter().map(|r| r.algorithm.as_str()).collect();
        algs.sort();
        algs.dedup();
        for alg in algs {
            let c = algorithm_color_of(alg);
            let mut isas: Vec<&str> = records
                .iter()
                .filter(|r| r.algorithm == alg)
                .map(|r| r.isa.as_str())
                .collect();
            isas.sort();
            isas.dedup();
            for (i, isa) in isas.iter().enumerate() {
                let xy: Vec<(f64, f64)> = records
                    .iter()
                    .filter(|r| r.algorithm == alg && r.isa == *isa)
                    .map(|r| (r.gflops.point, r.max_rel_error.max(floor)))
                    .collect();
                let anno = marked!(chart, Isa::from_name(isa), xy, c);
                if i == 0 {
                    anno.label(alg.to_string()).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled())
                    });
                }
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// Fraction of each machine's own peak, file A (x) against file B (y), one point per shared
/// (layer, variant), coloured by algorithm; the diagonal marks equal efficiency.
pub fn fraction_scatter(a: &str, b: &str, pts: &[(String, f64, f64)]) -> DrawResult<String> {
    let top = pts.iter().map(|p| p.1.max(p.2)).fold(0.1, f64::max) * 1.1;
    svg(820, 760, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Fraction of own peak: A against B", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..top, 0f64..top)?;
        chart
            .configure_mesh()
            .x_desc(format!("fraction of peak, {a}"))
            .y_desc(format!("fraction of peak, {b}"))
            .label_style(("sans-serif", 13))
            .draw()?;
        chart.draw_series(LineSeries::new(
            vec![(0.0, 0.0), (top, top)],
            BLACK.stroke_width(1),
        ))?;
        let mut algs: Vec<&str> = pts.iter().map(|p| p.0.as_str()).collect();
        algs.sort();
        algs.dedup();
        for alg in algs {
            let c = algorithm_color_of(alg);
            chart
                .draw_series(
                    pts.iter()
                        .filter(|p| p.0 == alg)
                        .map(|p| Circle::new((p.1, p.2), 5, c.filled())),
                )?
                .label(alg.to_string())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// Colours for the comparison sides of a claim.
pub const SIDE_COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

/// A named series of (x, y) points.
pub type XySeries = (String, RGBColor, Vec<(f64, f64)>);

/// Lines with markers on log-log axes, one per series (x, y points).
pub fn loglog_lines(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[XySeries],
) -> DrawResult<String> {
    let pts: Vec<(f64, f64)> = series.iter().flat_map(|s| s.2.iter().cloned()).collect();
    let fx = |f: fn(f64, f64) -> f64, init: f64| pts.iter().map(|p| p.0).fold(init, f);
    let fy = |f: fn(f64, f64) -> f64, init: f64| pts.iter().map(|p| p.1).fold(init, f);
    let (x0, x1) = (fx(f64::min, f64::MAX) / 1.5, fx(f64::max, 1e-9) * 1.5);
    let (y0, y1) = (fy(f64::min, f64::MAX) / 1.5, fy(f64::max, 1e-9) * 3.0);
    svg(900, 560, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style(("sans-serif", 13))
            .draw()?;
        for (name, c, p) in series {
            let c = *c;
            chart
                .draw_series(LineSeries::new(p.clone(), c.stroke_width(2)))?
                .label(name.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
            chart.draw_series(p.iter().map(|&q| Circle::new(q, 4, c.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}
