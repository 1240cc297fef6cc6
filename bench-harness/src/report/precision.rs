//! The "What int8 and bf16 buy" section: per layer and family, the best low-precision variant
//! against the best f32 variant of the same run (time ratio with its interval, a tie where the
//! interval holds 1), with the accuracy it costs; and a chart of each ISA's best against the best
//! f32.

use maud::html;
use plotters::style::RGBColor;

use super::bars::{self, Scale};
use super::lowp_roofline;
use super::page::{l, r, Page, Table};
use crate::schema::precision::PrecisionRecord;
use crate::schema::results::{Interval, Results};

/// Per layer (in the run's order), its one-thread low-precision records.
fn by_layer(res: &Results) -> Vec<(&str, Vec<&PrecisionRecord>)> {
    let mut out: Vec<(&str, Vec<&PrecisionRecord>)> = Vec::new();
    for p in res.precision.iter().filter(|p| p.threads == 1) {
        match out.iter_mut().find(|(l, _)| *l == p.layer) {
            Some((_, v)) => v.push(p),
            None => out.push((&p.layer, vec![p])),
        }
    }
    out
}

/// The families present, in a fixed order.
fn families(res: &Results) -> Vec<&'static str> {
    ["int8", "bf16"]
        .into_iter()
        .filter(|f| res.precision.iter().any(|p| p.family() == *f))
        .collect()
}

fn fastest<'a>(v: impl Iterator<Item = &'a PrecisionRecord>) -> Option<&'a PrecisionRecord> {
    v.min_by(|a, b| a.time_ns.point.total_cmp(&b.time_ns.point))
}

const ISA_COLORS: [(&str, RGBColor); 5] = [
    ("scalar", RGBColor(150, 150, 150)),
    ("avx2", RGBColor(230, 140, 20)),
    ("avxvnni", RGBColor(200, 60, 60)),
    ("avx512vnni", RGBColor(40, 100, 200)),
    ("avx512bf16", RGBColor(40, 160, 90)),
];

/// Renders the section when the run measured int8 or bf16.
pub(crate) fn section(page: &mut Page, res: &Results) -> Result<(), Box<dyn std::error::Error>> {
    let layers = by_layer(res);
    if layers.is_empty() {
        return Ok(());
    }
    let fams = families(res);
    let verb = if fams.len() > 1 { "buy" } else { "buys" };
    page.heading(&format!("What {} {verb}", fams.join(" and ")));
    page.note(html! {
        "int8: each layer's f32 data quantized as a post-training quantizer would (activations per tensor "
        "with a zero point, weights per output channel, the output over the f32 reference's range), "
        "run by the u8s8u8 variants with ReLU fused, against the fastest f32 variant of this run on "
        "the same layer (any algorithm, Winograd included), and against the fastest f32 variant without Winograd (the same multiplies as the low-precision direct). Speedup is f32 time over int8 time, its "
        "interval from the two medians' intervals; a tie where it holds 1x. Errors: the dequantized "
        "output against the f32 reference, as a fraction of the reference's output range (one int8 "
        "step is 1/255 = 0.0039 of it). The int8 peak is this ISA's dot-product step (" code { "vpdpbusd" } ", or "
        code { "vpmaddwd" } " + " code { "vpaddd" } " on AVX2) as a 4x3 register tile with its broadcasts, one core; the kernels run beside it at other moments, so a few percent above 100% is the ceilings' own spread."
    });
    page.note(html! {
        "bf16: input and weights rounded to bf16 (ties to even), bias, accumulation and output in f32 "
        "(the bf16bf16f32 variants, " code { "vdpbf16ps" } " on AVX512_BF16, against the same f32 reference); "
        "the bf16 peak is " code { "vdpbf16ps" } "'s step measured the same way. The errors are the "
        "rounding of the inputs (2^-9 relative each), not the kernels'. The roofline below counts "
        "each variant's compulsory bytes in its own element sizes."
    });
    let mut tab = Table::new(
        "",
        &[
            "layer",
            "best f32",
            "ms",
            "best int8 / bf16",
            "ms",
            "GOP/s",
            "of its peak",
            "f32 / low",
            "f32 w/o Winograd / low",
            "verdict",
            "max err",
            "RMS err",
        ],
    );
    for ((layer, recs), fam) in layers.iter().flat_map(|l| fams.iter().map(move |f| (l, f))) {
        let Some(b) = fastest(recs.iter().copied().filter(|p| p.family() == *fam)) else {
            continue;
        };
        let f32_ms = b.speedup.map_or("–".into(), |s| {
            format!("{:.3}", s.point * b.time_ns.point / 1e6)
        });
        let show = |s: Option<Interval>| {
            s.map_or("–".into(), |s| {
                format!("{:.2}x [{:.2}, {:.2}]", s.point, s.lower, s.upper)
            })
        };
        let (speed, plain) = (show(b.speedup), show(b.speedup_plain));
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
                r(plain),
                l(b.verdict()),
                r(format!("{:.4}", b.max_error)),
                r(format!("{:.4}", b.rms_error)),
            ],
            b.wins(),
        );
    }
    page.add(tab.finish());
    let best: Vec<&PrecisionRecord> = layers
        .iter()
        .flat_map(|(_, recs)| {
            fams.iter()
                .filter_map(|f| fastest(recs.iter().copied().filter(|p| p.family() == *f)))
        })
        .collect();
    page.chart(&lowp_roofline::chart(res, &best)?);
    let names: Vec<String> = layers.iter().map(|(l, _)| l.to_string()).collect();
    let series: Vec<bars::Series> = fams
        .iter()
        .flat_map(|f| ISA_COLORS.iter().map(move |c| (f, c)))
        .map(|(fam, (isa, color))| {
            let of = |p: &&PrecisionRecord| p.isa == *isa && p.family() == *fam;
            let v = layers
                .iter()
                .map(|(_, recs)| fastest(recs.iter().copied().filter(of))?.speedup)
                .collect();
            (format!("{fam} {isa}"), *color, v)
        })
        .filter(|(_, _, v): &bars::Series| v.iter().any(Option::is_some))
        .collect();
    if !series.is_empty() {
        page.chart(&bars::hbars(
            "Low precision against the best f32, per layer",
            "f32 time / low-precision time (log; right of 1x it is faster)",
            &names,
            &series,
            Scale::Ratio,
        )?);
    }
    Ok(())
}
