//! The charts, drawn with plotters into SVG strings (no fonts needed, no JavaScript).

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use simdconv::{Algorithm, Isa, WinogradTile};

use super::page::Svg;
use crate::schema::results::Record;

/// A chart or an error from plotters.
pub(crate) type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Series colours for files / CPUs on the comparison page (distinct from the ISA colours).
pub(crate) const CPU_COLORS: [RGBColor; 5] = [
    RGBColor(230, 120, 20),
    RGBColor(60, 60, 160),
    RGBColor(0, 140, 120),
    RGBColor(170, 60, 150),
    RGBColor(120, 110, 20),
];

/// Grey for names this build does not know (a results file from a newer build).
const UNKNOWN: RGBColor = RGBColor(90, 90, 90);

/// Colour of an algorithm (stable across charts).
pub(crate) fn algorithm_color(alg: Algorithm) -> RGBColor {
    match alg {
        Algorithm::Direct => RGBColor(31, 119, 180),
        Algorithm::Im2col => RGBColor(255, 127, 14),
        Algorithm::Winograd(t) => match t {
            WinogradTile::F2x2_3x3 => RGBColor(44, 160, 44),
            WinogradTile::F4x4_3x3 => RGBColor(214, 39, 40),
            WinogradTile::F4x4_3x3Half => RGBColor(255, 152, 150),
            WinogradTile::F6x6_3x3 => RGBColor(23, 190, 207),
            WinogradTile::F6x6_3x3Integer => RGBColor(188, 189, 34),
        },
        Algorithm::Depthwise => RGBColor(148, 103, 189),
        Algorithm::Pointwise => RGBColor(140, 86, 75),
    }
}

/// Colour of an algorithm given by name (grey when unknown).
pub(crate) fn algorithm_color_of(name: &str) -> RGBColor {
    Algorithm::from_name(name).map_or(UNKNOWN, algorithm_color)
}

/// Colour of an ISA (stable across charts).
pub(crate) fn isa_color(isa: Isa) -> RGBColor {
    match isa {
        Isa::Scalar => RGBColor(127, 127, 127),
        Isa::Portable => RGBColor(23, 190, 207),
        Isa::Avx2 => RGBColor(31, 119, 180),
        Isa::Avx512 => RGBColor(214, 39, 40),
        Isa::Neon => RGBColor(44, 160, 44),
    }
}

/// Colour of an ISA given by name (grey when unknown).
pub(crate) fn isa_color_of(name: &str) -> RGBColor {
    Isa::from_name(name).map_or(UNKNOWN, isa_color)
}

/// Draws points with the ISA's marker (scalar circle, portable triangle, avx2 cross, avx512
/// square, neon and unknown ring) and, given a label, a legend entry showing that marker.
macro_rules! marked {
    ($chart:expr, $isa:expr, $pts:expr, $c:expr, $label:expr) => {{
        let c: RGBColor = $c;
        let pts: Vec<(f64, f64)> = $pts;
        let isa: Option<Isa> = $isa;
        let label: Option<String> = $label;
        match isa {
            Some(Isa::Scalar) => {
                let a =
                    $chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled())))?;
                if let Some(l) = label {
                    a.label(l)
                        .legend(move |(x, y)| Circle::new((x + 5, y), 4, c.filled()));
                }
            }
            Some(Isa::Portable) => {
                let a = $chart.draw_series(
                    pts.into_iter()
                        .map(|p| TriangleMarker::new(p, 5, c.filled())),
                )?;
                if let Some(l) = label {
                    a.label(l)
                        .legend(move |(x, y)| TriangleMarker::new((x + 5, y), 5, c.filled()));
                }
            }
            Some(Isa::Avx2) => {
                let a = $chart
                    .draw_series(pts.into_iter().map(|p| Cross::new(p, 5, c.stroke_width(2))))?;
                if let Some(l) = label {
                    a.label(l)
                        .legend(move |(x, y)| Cross::new((x + 5, y), 5, c.stroke_width(2)));
                }
            }
            Some(Isa::Avx512) => {
                let a = $chart.draw_series(pts.into_iter().map(|p| {
                    EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], c.filled())
                }))?;
                if let Some(l) = label {
                    a.label(l).legend(move |(x, y)| {
                        Rectangle::new([(x + 1, y - 4), (x + 9, y + 4)], c.filled())
                    });
                }
            }
            Some(Isa::Neon) | None => {
                let a = $chart.draw_series(
                    pts.into_iter()
                        .map(|p| Circle::new(p, 5, c.stroke_width(2))),
                )?;
                if let Some(l) = label {
                    a.label(l)
                        .legend(move |(x, y)| Circle::new((x + 5, y), 5, c.stroke_width(2)));
                }
            }
        }
    }};
}
pub(crate) use marked;

/// Renders a chart into an SVG string.
pub(crate) fn svg(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> DrawResult<()>,
) -> DrawResult<Svg> {
    svg_with_tips(w, h, |root| draw(root).map(|()| Vec::new()))
}

/// A hover target: pixel position and the text shown as its tooltip.
pub(crate) type Tip = (i32, i32, String);

/// Renders a chart whose drawing returns hover targets; each becomes an invisible square over
/// its point holding an SVG `<title>` (the browser's tooltip; no JavaScript).
pub(crate) fn svg_with_tips(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> DrawResult<Vec<Tip>>,
) -> DrawResult<Svg> {
    let mut out = String::new();
    let tips;
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        tips = draw(&root)?;
        root.present()?;
    }
    if tips.is_empty() {
        return Ok(Svg::rendered(out));
    }
    let overlay = maud::html! {
        g.tips {
            @for (x, y, text) in &tips {
                rect x=(x - 6) y=(y - 6) width="12" height="12" fill="#000" fill-opacity="0" {
                    title { (text) }
                }
            }
        }
    }
    .into_string();
    match out.rfind("</svg>") {
        Some(i) => out.insert_str(i, &overlay),
        None => out.push_str(&overlay),
    }
    Ok(Svg::rendered(out))
}

/// The bounds of a log axis over `values`: the smallest divided by `below`, the largest times
/// `above`, through the same clamp as [`lg`]; (1, 10) when no value is positive and finite. An
/// axis from `f64::MAX` down to a tiny bound (no points) made plotters' tick search spin.
pub(crate) fn log_bounds(values: impl Iterator<Item = f64>, below: f64, above: f64) -> (f64, f64) {
    let ok: Vec<f64> = values.filter(|v| v.is_finite() && *v > 0.0).collect();
    if ok.is_empty() {
        return (1.0, 10.0);
    }
    let lo = 10f64.powf(lg(ok.iter().copied().fold(f64::MAX, f64::min) / below));
    let hi = 10f64.powf(lg(ok.iter().copied().fold(0.0, f64::max) * above));
    if lo < hi {
        (lo, hi)
    } else {
        (lo, lo * 10.0)
    }
}

/// `log10` of a value clamped into [1e-12, 1e12], so an axis bound is always finite.
pub(crate) fn lg(v: f64) -> f64 {
    if v.is_nan() {
        return -12.0;
    }
    v.clamp(1e-12, 1e12).log10()
}

/// Tick label of a log10 axis: the value at whole decades (`0.01`, `1`, `1000`), nothing
/// between them, so every decade is labelled once.
pub(crate) fn decade_label(v: &f64) -> String {
    let r = v.round();
    if (v - r).abs() > 1e-6 {
        return String::new();
    }
    let x = 10f64.powi(r as i32);
    if r >= 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// How many key points a linear axis over `[lo, hi]` needs so that its step is at most 1 (every
/// whole number is a key point).
pub(crate) fn unit_steps(lo: f64, hi: f64) -> usize {
    ((hi - lo).abs() * 2.0 + 3.0).min(200.0) as usize
}

/// Light grid lines at whole numbers of a log10 axis: horizontal ones, and vertical ones when
/// `vertical` (the x axis is log10 too).
pub(crate) fn decade_grid<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    vertical: bool,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let grid = RGBColor(230, 230, 230);
    if vertical {
        for d in (x0.ceil() as i32)..=(x1.floor() as i32) {
            let d = f64::from(d);
            chart.draw_series(LineSeries::new(vec![(d, y0), (d, y1)], grid))?;
        }
    }
    for d in (y0.ceil() as i32)..=(y1.floor() as i32) {
        let d = f64::from(d);
        chart.draw_series(LineSeries::new(vec![(x0, d), (x1, d)], grid))?;
    }
    Ok(())
}

/// Accuracy against speed: error as a fraction of its tolerance (log) against GFLOP/s, one
/// point per (variant, layer), the tolerance as a red line at 1; points over it get a red ring;
/// each algorithm's legend entry counts its passes.
pub(crate) fn accuracy(records: &[&Record]) -> DrawResult<Svg> {
    let ratio = |r: &Record| {
        if r.max_rel_error.is_finite() {
            r.max_rel_error / r.tolerance
        } else {
            1e6
        }
    };
    let xmax = records
        .iter()
        .map(|r| r.gflops.point)
        .filter(|g| g.is_finite())
        .fold(1.0, f64::max)
        * 1.15;
    let y0 = records.iter().map(|r| lg(ratio(r))).fold(-3.0, f64::min) - 0.3;
    // Headroom above the tolerance line holds the legend clear of the points.
    let y1 = records.iter().map(|r| lg(ratio(r))).fold(0.0, f64::max) + 1.6;
    svg_with_tips(1000, 560, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Accuracy against speed: error over tolerance",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..xmax, y0..y1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("GFLOP/s (Winograd: effective)")
            .y_desc("max error / tolerance (log)")
            .y_labels(unit_steps(y0, y1))
            .y_label_formatter(&decade_label)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 14))
            .draw()?;
        decade_grid(&mut chart, (0.0, xmax), (y0, y1), false)?;
        let red = RGBColor(200, 0, 0);
        chart.draw_series(LineSeries::new(
            vec![(0.0, 0.0), (xmax, 0.0)],
            red.stroke_width(2),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            "tolerance: a point above this line fails",
            (xmax * 0.02, 0.08),
            ("sans-serif", 13).into_font().color(&red),
        )))?;
        let tips = accuracy_points(&mut chart, records, xmax, &ratio)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(tips)
    })
}

/// The accuracy chart's points, per algorithm and ISA, failed ones ringed in red; returns the
/// tooltips.
fn accuracy_points(
    chart: &mut ChartContext<SVGBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    records: &[&Record],
    xmax: f64,
    ratio: &dyn Fn(&Record) -> f64,
) -> DrawResult<Vec<Tip>> {
    let red = RGBColor(200, 0, 0);
    let mut algs: Vec<&str> = records.iter().map(|r| r.algorithm.as_str()).collect();
    algs.sort();
    algs.dedup();
    let mut tips = Vec::new();
    for alg in algs {
        let c = algorithm_color_of(alg);
        let of_alg: Vec<&&Record> = records.iter().filter(|r| r.algorithm == alg).collect();
        let pass = of_alg.iter().filter(|r| r.within_tolerance()).count();
        let mut isas: Vec<&str> = of_alg.iter().map(|r| r.isa.as_str()).collect();
        isas.sort();
        isas.dedup();
        for (i, isa) in isas.iter().enumerate() {
            let xy: Vec<(f64, f64)> = of_alg
                .iter()
                .filter(|r| r.isa == *isa)
                .map(|r| (r.gflops.point.clamp(0.0, xmax), lg(ratio(r))))
                .collect();
            let label =
                (i == 0).then(|| format!("{alg}: {pass}/{} within tolerance", of_alg.len()));
            marked!(chart, Isa::from_name(isa), xy, c, label);
        }
        for r in &of_alg {
            let p = (r.gflops.point.clamp(0.0, xmax), lg(ratio(r)));
            if !r.within_tolerance() {
                chart.draw_series(std::iter::once(Circle::new(p, 9, red.stroke_width(2))))?;
            }
            let (x, y) = chart.backend_coord(&p);
            tips.push((
                x,
                y,
                format!(
                    "{} / {}: error {:.2e}, tolerance {:.2e} ({}), {:.1} GFLOP/s",
                    r.layer,
                    r.variant,
                    r.max_rel_error,
                    r.tolerance,
                    if r.within_tolerance() { "pass" } else { "FAIL" },
                    r.gflops.point
                ),
            ));
        }
    }
    Ok(tips)
}

/// Fraction of each machine's own peak, file A (x) against file B (y), one point per shared
/// (layer, variant), coloured by algorithm; the diagonal marks equal efficiency.
pub(crate) fn fraction_scatter(a: &str, b: &str, pts: &[(String, f64, f64)]) -> DrawResult<Svg> {
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
pub(crate) const SIDE_COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

/// A named series of (x, y) points.
pub(crate) type XySeries = (String, RGBColor, Vec<(f64, f64)>);

/// Lines with markers on log-log axes, one per series (x, y points).
pub(crate) fn loglog_lines(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[XySeries],
) -> DrawResult<Svg> {
    let pts: Vec<(f64, f64)> = series.iter().flat_map(|s| s.2.iter().cloned()).collect();
    let (x0, x1) = log_bounds(pts.iter().map(|p| p.0), 1.5, 1.5);
    let (y0, y1) = log_bounds(pts.iter().map(|p| p.1), 1.5, 3.0);
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
