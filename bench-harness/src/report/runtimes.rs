//! The "Against onnxruntime" section (when `runtimes.json` lies beside the results): per layer,
//! our fastest f32 and int8 variants against the runtime's convolution node on the same layer,
//! one thread each.

use maud::html;

use plotters::style::RGBColor;

use super::bars::{self, Scale};
use super::page::{l, r, Page, Table};
use crate::schema::results::{Interval, Results};
use crate::schema::runtimes::Runtimes;

/// Our fastest one-thread time (ns) and variant on `layer` in `dtype` (`f32` from the records,
/// `int8` from the low-precision ones).
fn ours<'a>(res: &'a Results, layer: &str, dtype: &str) -> Option<(f64, &'a str)> {
    let best = |it: &mut dyn Iterator<Item = (f64, &'a str)>| it.min_by(|a, b| a.0.total_cmp(&b.0));
    if dtype == "f32" {
        best(
            &mut res
                .results
                .iter()
                .filter(|x| x.layer == layer && x.threads == 1)
                .map(|x| (x.time_ns.point, x.variant.as_str())),
        )
    } else {
        best(
            &mut res
                .precision
                .iter()
                .filter(|p| p.layer == layer && p.threads == 1 && p.family() == dtype)
                .map(|p| (p.time_ns.point, p.variant.as_str())),
        )
    }
}

/// Renders the section.
pub(crate) fn section(
    page: &mut Page,
    res: &Results,
    rt: &Runtimes,
) -> Result<(), Box<dyn std::error::Error>> {
    page.heading(&format!("Against {} {}", rt.runtime, rt.version));
    page.note(html! {
        "The same convolution as a one-node ONNX model (" code { "Conv" } " in f32, "
        code { "QLinearConv" } " in int8: u8 activations, s8 weights per output channel), run by "
        (rt.runtime) " on " (rt.threads) " thread(s), pinned like this run, timed by its own profiler: "
        "the convolution node's median (the layout reorders the runtime adds around it, NCHWc in f32 "
        "and NHWC in int8, are counted in \"all nodes\"; the whole call in \"call\"). Ours: the "
        "fastest variant's criterion median. Ratio: runtime node time over ours, above 1x ours is "
        "faster. The runtime gives medians without intervals, and its file is measured after the run, "
        "not interleaved with it: differences within a few percent are not a verdict."
    });
    let mut tab = Table::new(
        "",
        &[
            "layer",
            "type",
            "ours",
            "ms",
            "runtime kernel",
            "node ms",
            "all nodes ms",
            "call ms",
            "runtime / ours",
        ],
    );
    let mut layers: Vec<&str> = Vec::new();
    for x in &res.results {
        if !layers.contains(&x.layer.as_str()) {
            layers.push(&x.layer);
        }
    }
    // Per type, per layer: runtime node time over ours (a point: the runtime has no interval).
    let mut ratios: Vec<(&str, Vec<Option<Interval>>)> = vec![("f32", vec![]), ("int8", vec![])];
    for layer in &layers {
        for (dtype, v) in &mut ratios {
            let r = rt
                .get(layer, dtype)
                .and_then(|e| e.node_ns)
                .zip(ours(res, layer, dtype));
            v.push(r.map(|(n, (t, _))| Interval::exact(n / t)));
        }
    }
    for &layer in &layers {
        for dtype in ["f32", "int8"] {
            let (Some(e), Some((t, v))) = (rt.get(layer, dtype), ours(res, layer, dtype)) else {
                continue;
            };
            let ms = |ns: Option<f64>| ns.map_or("–".into(), |n| format!("{:.3}", n / 1e6));
            let ratio = e.node_ns.map(|n| n / t);
            tab.row(
                &[
                    l(layer),
                    l(dtype),
                    l(v),
                    r(format!("{:.3}", t / 1e6)),
                    l(e.kernels.join(", ")),
                    r(ms(e.node_ns)),
                    r(ms(e.nodes_ns)),
                    r(ms(Some(e.call_ns))),
                    r(ratio.map_or("–".into(), |x| format!("{x:.2}x"))),
                ],
                ratio.is_some_and(|x| x > 1.05),
            );
        }
    }
    page.add(tab.finish());
    let colors = [RGBColor(40, 100, 200), RGBColor(200, 60, 60)];
    let series: Vec<bars::Series> = ratios
        .into_iter()
        .zip(colors)
        .filter(|((_, v), _)| v.iter().any(Option::is_some))
        .map(|((d, v), c)| (format!("{d}: {} / ours", rt.runtime), c, v))
        .collect();
    if !series.is_empty() {
        let names: Vec<String> = layers.iter().map(|l| l.to_string()).collect();
        page.chart(&bars::hbars(
            &format!("{} against our fastest, per layer", rt.runtime),
            "runtime node time / our time (log; right of 1x ours is faster)",
            &names,
            &series,
            Scale::Ratio,
        )?);
    }
    Ok(())
}
