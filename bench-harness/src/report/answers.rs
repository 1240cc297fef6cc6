//! The page's answer sections: the winner per layer (ties named), the best per ISA and per
//! algorithm, the crossovers, and what `ConvPlan::auto` picked.

use super::*;

/// What `ConvPlan::auto` picked per layer, from where, and its regret against the fastest
/// measured variant.
pub(super) fn auto_picks(page: &mut Page, res: &Results) {
    page.heading("What auto picked");
    if res.auto.is_empty() {
        page.note(html! {
            "This results file holds no picks of " code { "ConvPlan::auto" }
            " (written before auto existed)."
        });
        return;
    }
    let summary = crate::autopick::console_line(&res.auto);
    page.note(html! {
        (summary)
        ". Regret = time of auto's pick / time of the fastest variant, both measured in this run (criterion's medians; "
        em { "tied" } ": their intervals overlap). With a tuning map of this machine ("
        code { "simdconv-bench tune" } "; " code { "run --tuning FILE" } ", "
        code { "SIMDCONV_TUNING" } " or " code { "tuning.json" } " beside "
        code { "results.json" }
        ") auto follows the nearest measured layers; without one, the cost model."
    });
    let mut t = Table::new(
        "",
        &["layer", "auto picked", "from", "fastest measured", "regret"],
    );
    let verdicts = answer::verdicts(res);
    for p in &res.auto {
        let verdict = verdicts.iter().find(|v| v.layer == p.layer);
        let fastest = verdict.map_or(String::new(), |v| v.winner.variant.clone());
        // Tied: the pick's interval overlaps the fastest one's (the run cannot tell them apart).
        let tied = verdict.is_some_and(|v| v.leaders().any(|r| r.variant == p.variant));
        let class = match p.regret {
            Some(g) if g <= 1.0 => Some(RowClass::Win),
            Some(_) if tied => Some(RowClass::Tie),
            Some(g) if g > 1.10 => Some(RowClass::Fail),
            _ => None,
        };
        let regret = match p.regret {
            Some(g) if tied && g > 1.0 => format!("{g:.3} (tied)"),
            Some(g) => format!("{g:.3}"),
            None => "not measured".into(),
        };
        t.row_class(
            &[
                l(p.layer.clone()),
                l(p.variant.clone()),
                l(p.source.name()),
                l(fastest),
                r(regret),
            ],
            class,
        );
    }
    page.add(t.finish());
}

pub(super) fn winners(page: &mut Page, v: &View) {
    page.heading("Winner per layer");
    page.note(html! {
        "The fastest variant per layer by criterion's median. Where another variant's interval overlaps the winner's, the measurement cannot separate them: the row says "
        em { "tie" }
        " and names every tied variant. The runner-up is the fastest variant clearly slower than the winner; the margin is winner / runner-up."
    });
    let mut t = Table::new(
        "",
        &[
            "layer",
            "shape",
            "winner",
            "GFLOP/s",
            "interval",
            "% of its roof",
            "runner-up",
            "margin",
        ],
    );
    for verdict in answer::verdicts(v.res) {
        let w = verdict.winner;
        let roof = verdict
            .roof_fraction(&v.res.machine)
            .map_or("–".into(), |(f, why)| {
                format!("{:.0}% ({why})", f * 100.0)
            });
        let cells = [
            l(verdict.layer),
            l(w.shape.to_string()),
            l(verdict.headline()),
            r(format!("{:.1}", w.gflops.point)),
            r(iv(&w.gflops)),
            r(roof),
            l(verdict.runner_up.map_or("–", |r| r.variant.as_str())),
            r(verdict.margin().map_or("–".into(), |m| {
                format!("{:.2}x [{:.2}, {:.2}]", m.point, m.lower, m.upper)
            })),
        ];
        let class = if verdict.is_tie() {
            RowClass::Tie
        } else {
            RowClass::Win
        };
        t.row_class(&cells, Some(class));
    }
    page.add(t.finish());
}

pub(super) fn best_per_isa(page: &mut Page, v: &View) {
    page.subheading("What SIMD buys: the best variant of each ISA");
    let keys: Vec<(String, Isa)> = v
        .isas
        .iter()
        .map(|&i| (format!("{i} GFLOP/s (x scalar)"), i))
        .collect();
    best_table(page, v, &keys, |r, i| r.isa() == Some(i), Isa::Scalar);
}

pub(super) fn best_per_algorithm(page: &mut Page, v: &View) {
    page.subheading("What the algorithm buys: the best variant of each algorithm (any ISA)");
    let keys: Vec<(String, Algorithm)> = v
        .algorithms
        .iter()
        .map(|&a| (format!("{} GFLOP/s (x direct)", a.name()), a))
        .collect();
    best_table(
        page,
        v,
        &keys,
        |r, a| r.algorithm() == Some(a),
        Algorithm::Direct,
    );
    page.text("Depthwise layers (groups = channels) run only the depthwise algorithm here: direct and im2col refuse groups > 1.");
}

/// Per layer, the best record of each key (an ISA or an algorithm), with its speed over the
/// best record of the `base` key where the layer has one.
pub(super) fn best_table<K: Copy>(
    page: &mut Page,
    v: &View,
    keys: &[(String, K)],
    is: impl Fn(&Record, K) -> bool,
    base: K,
) {
    let mut headers = vec!["layer"];
    headers.extend(keys.iter().map(|k| k.0.as_str()));
    let mut t = Table::new("", &headers);
    for &layer in &v.layers {
        let recs = v.of_layer(layer);
        let base = answer::best(&recs, |r| is(r, base));
        let mut cells = vec![l(layer)];
        cells.extend(keys.iter().map(|&(_, k)| {
            r(
                answer::best(&recs, |r| is(r, k)).map_or("–".into(), |b| match base {
                    Some(s) => format!(
                        "{:.1} ({:.2}x)",
                        b.gflops.point,
                        b.gflops.point / s.gflops.point
                    ),
                    None => format!("{:.1}", b.gflops.point),
                }),
            )
        }));
        t.row(&cells, false);
    }
    page.add(t.finish());
}

/// Per (kernel, stride) group of layers: the winning algorithm at each (input size, channels).
pub(super) fn crossovers(page: &mut Page, res: &Results) {
    let groups = answer::crossovers(res);
    if groups.is_empty() {
        return;
    }
    page.heading("Crossovers: where the winning algorithm changes");
    page.note(html! {
        "For layers that share a kernel size and stride: the winning algorithm (its best variant on any ISA) at each input size (columns) and input channel count (rows), with its margin over the next algorithm; "
        em { "tie" }
        " where their intervals overlap. Cells are coloured by the winner."
    });
    for g in groups {
        page.subheading(&format!("{0}x{0}, stride {1}", g.kernel, g.stride));
        let mut headers = vec!["channels \\ input size".to_string()];
        headers.extend(g.spatial.iter().map(|h| format!("{h}x{h}")));
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut t = Table::new("", &headers);
        for &c in g.channels.iter().rev() {
            let cells: Vec<_> = g
                .spatial
                .iter()
                .map(|&h| {
                    let v = g.at(h, c)?;
                    let alg = v.winner.algorithm.as_str();
                    let text = if v.is_tie() {
                        let names: Vec<&str> = v.leaders().map(|t| t.algorithm.as_str()).collect();
                        format!("tie: {} ({})", names.join(" / "), v.layer)
                    } else {
                        let m = v
                            .margin()
                            .map_or(String::new(), |m| format!(" {:.2}x", m.point));
                        format!("{alg}{m} ({})", v.layer)
                    };
                    Some((text, light(charts::algorithm_color_of(alg))))
                })
                .collect();
            t.swatch_row(&c.to_string(), &cells);
        }
        page.add(t.finish());
    }
}
