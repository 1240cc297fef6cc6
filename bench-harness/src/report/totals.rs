//! The "Network totals" section: per network and batch, the convolution time under each way of
//! choosing a variant per layer, and where the time goes against where the FLOPs go.

use maud::html;

use super::page::{l, r, Page, Table};
use crate::schema::results::Results;
use crate::totals::totals;

/// Renders the section when the run has measured layers.
pub(crate) fn section(page: &mut Page, res: &Results) {
    let all = totals(res);
    if all.is_empty() {
        return;
    }
    page.heading("Network totals");
    page.note(html! {
        "Per network, the sum over its layers of each layer's median time times its count (how "
        "often the network runs it: benchdnn's " code { "*N" } ", 1 where the source gives none), "
        "with the variant per layer chosen by: the fastest measured (" em { "best per layer" }
        ", the bound), " code { "ConvPlan::auto" } ", and other libraries' rules re-implemented "
        "over this suite's variants at the widest ISA measured. A choice whose variant was not "
        "measured in this run has no total (the layers it leaves out are counted in the last column)."
    });
    for t in &all {
        let bound = t.strategies[0].total_ns;
        page.subheading(&format!(
            "{}, batch {}: {} layers ({} with repeats)",
            t.network, t.batch, t.layers, t.weighted_layers
        ));
        let mut tab = Table::new("", &["choice", "total, ms", "x bound", "layers left out"]);
        for s in &t.strategies {
            // A total that leaves layers out is no network time: no figure to compare.
            let (total, ratio) = if s.missing > 0 {
                ("–".to_string(), "–".to_string())
            } else {
                (
                    format!("{:.3}", s.total_ns / 1e6),
                    format!("{:.2}x", s.total_ns / bound),
                )
            };
            tab.row(
                &[l(&s.label), r(total), r(ratio), r(s.missing.to_string())],
                false,
            );
        }
        page.add(tab.finish());
        let mut top = Table::new(
            "",
            &[
                "most time",
                "count",
                "share of time",
                "share of FLOPs",
                "fastest",
            ],
        );
        for x in &t.top {
            top.row(
                &[
                    l(&x.layer),
                    r(x.count.to_string()),
                    r(format!("{:.1}%", x.share * 100.0)),
                    r(format!("{:.1}%", x.flop_share * 100.0)),
                    l(format!("{} ({})", x.winner, x.algorithm)),
                ],
                false,
            );
        }
        page.add(top.finish());
    }
}
