//! The "What int8 buys" section: per layer, the best int8 variant against the best f32 variant
//! of the same run (time ratio with its interval, a tie where the interval holds 1), with the
//! accuracy it costs; and a chart of each int8 ISA's best against the best f32.

use maud::html;
use plotters::style::RGBColor;

use super::bars::{self, Scale};
use super::page::{l, r, Page, Table};
use crate::schema::precision::PrecisionRecord;
use crate::schema::results::Results;

/// Per layer (in the run's order), its int8 records.
fn by_layer(res: &Results) -> Vec<(&str, Vec<&PrecisionRecord>)> {
    let mut out: Vec<(&str, Vec<&PrecisionRecord>)> = Vec::new();
    for p in &res.precision {
        match out.iter_mut().find(|(l, _)| *l == p.layer) {
            Some((_, v)) => v.push(p),
            None => out.push((&p.layer, vec![p])),
        }
    }
    out
}

fn fastest<'a>(v: impl Iterator<Item = &'a PrecisionRecord>) -> Option<&'a PrecisionRecord> {
    v.min_by(|a, b| a.time_ns.point.total_cmp(&b.time_ns.point))
}

const ISA_COLORS: [(&str, RGBColor); 4] = [
    ("scalar", RGBColor(150, 150, 150)),
    ("avx2", RGBColor(230, 140, 20)),
    ("avxvnni", RGBColor(200, 60, 60)),
    ("avx512vnni", RGBColor(40, 100, 200)),
];

/// Renders the section when the run measured int8.
pub(crate) fn section(page: &mut Page, res: &Results) -> Result<(), Box<dyn std::error::Error>> {
    let layers = by_layer(res);
    if layers.is_empty() {
        return Ok(());
    }
    page.heading("What int8 buys");
    page.note(html! {
        "Each layer's f32 data quantized as a post-training quantizer would (activations per tensor "
        "with a zero point, weights per output channel, the output over the f32 reference's range), "
        "run by the u8s8u8 variants with ReLU fused, against the fastest f32 variant of this run on "
        "the same layer (any algorithm, Winograd included). Speedup is f32 time over int8 time, its "
        "interval from the two medians' intervals; a tie where it holds 1x. Errors: the dequantized "
        "output against the f32 reference, as a fraction of the reference's output range (one int8 "
        "step is 1/255 = 0.0039 of it). The int8 peak is this ISA's dot-product step (" code { "vpdpbusd" } ", or "
        code { "vpmaddwd" } " + " code { "vpaddd" } " on AVX2) as a 4x3 register tile with its broadcasts, one core; the kernels run beside it at other moments, so a few percent above 100% is the ceilings' own spread."
    });
    let mut tab = Table::new(
        "",
        &[
            "layer",
            "best f32",
            "ms",
            "best int8",
            "ms",
            "GOP/s",
            "of int8 peak",
            "f32 / int8",
            "verdict",
            "max err",
            "RMS err",
        ],
    );
    for (layer, recs) in &layers {
        let Some(b) = fastest(recs.iter().copied()) else {
            continue;
        };
        let f32_ms = b.speedup.map_or("–".into(), |s| {
            format!("{:.3}", s.point * b.time_ns.point / 1e6)
        });
        let speed = b.speedup.map_or("–".into(), |s| {
            format!("{:.2}x [{:.2}, {:.2}]", s.point, s.lower, s.upper)
        });
        tab.row(
            &[
                l(*layer),
                l(b.best_f32.clone().unwrap_or_else(|| "–".into())),
                r(f32_ms),
                l(&b.variant),
                r(format!("{:.3}", b.time_ns.point / 1e6)),
                r(format!("{:.0}", b.gops.point)),
                r(b.fraction_of_peak
                    .map_or("–".into(), |f| format!("{:.0}%", f * 100.0))),
                r(speed),
                l(b.verdict()),
                r(format!("{:.4}", b.max_error)),
                r(format!("{:.4}", b.rms_error)),
            ],
            b.verdict() == "int8 faster",
        );
    }
    page.add(tab.finish());
    let names: Vec<String> = layers.iter().map(|(l, _)| l.to_string()).collect();
    let series: Vec<bars::Series> = ISA_COLORS
        .iter()
        .map(|(isa, color)| {
            let v = layers
                .iter()
                .map(|(_, recs)| fastest(recs.iter().copied().filter(|p| p.isa == *isa))?.speedup)
                .collect();
            (format!("int8 {isa}"), *color, v)
        })
        .filter(|(_, _, v): &bars::Series| v.iter().any(Option::is_some))
        .collect();
    if !series.is_empty() {
        page.chart(&bars::hbars(
            "int8 against the best f32, per layer",
            "f32 time / int8 time (log; right of 1x int8 is faster)",
            &names,
            &series,
            Scale::Ratio,
        )?);
    }
    Ok(())
}
