//! The scaling section: how each algorithm's fastest variant speeds up with threads (speedup and
//! parallel efficiency with intervals, set against the ceilings measured with as many threads),
//! which variant wins at each thread count, and time per image against batch size.

use std::collections::BTreeMap;

use super::bars::{self, Scale, Series};
use super::charts::CPU_COLORS;
use super::page::{l, r, Page, RowClass, Table};
use crate::answer;
use crate::roof::attainable;
use crate::schema::results::{Interval, Record, Results};

type Rendered = Result<(), Box<dyn std::error::Error>>;

/// Parallel efficiency from which a row is marked as scaling well, and below which it is marked
/// as falling short.
const GOOD: f64 = 0.90;
const POOR: f64 = 0.75;

/// Renders the section when the run measured more than one thread count or a batch above 1.
pub(crate) fn section(page: &mut Page, res: &Results) -> Rendered {
    let threads = res.thread_counts();
    let batched = res.layers.iter().any(|l| l.batch() > 1);
    if threads.len() < 2 && !batched {
        return Ok(());
    }
    page.heading("Scaling: threads and batch");
    if threads.len() >= 2 {
        ceilings(page, res, &threads);
        speedups(page, res, &threads)?;
        winners(page, res, &threads);
    }
    if batched {
        batches(page, res, &threads);
    }
    Ok(())
}

/// The fastest record on `layer` at `threads` (of `algorithm`, when given), by median.
fn fastest<'a>(
    res: &'a Results,
    layer: &str,
    algorithm: Option<&str>,
    threads: usize,
) -> Option<&'a Record> {
    let records: Vec<&Record> = res.results.iter().filter(|x| x.layer == layer).collect();
    answer::best(&records, |x| {
        x.threads == threads && algorithm.is_none_or(|a| x.algorithm == a)
    })
}

/// The algorithms measured on `layer`, in the order they first appear.
fn algorithms<'a>(res: &'a Results, layer: &'a str) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for x in res.layer_records(layer) {
        if !v.contains(&x.algorithm.as_str()) {
            v.push(&x.algorithm);
        }
    }
    v
}

fn ceilings(page: &mut Page, res: &Results, threads: &[usize]) {
    page.subheading("Ceilings with N threads");
    let one = res.machine.at_threads(1);
    let levels: Vec<String> = one.bandwidth.iter().map(|b| b.level.clone()).collect();
    let mut head = vec!["threads".to_string()];
    head.extend(one.peak_gflops.keys().map(|k| format!("{k} peak")));
    head.extend(levels.iter().map(|l| format!("{l} read")));
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let mut t = Table::new("", &head);
    for &n in threads {
        if n > 1 && !res.machine.threads.iter().any(|c| c.threads == n) {
            continue;
        }
        let m = res.machine.at_threads(n);
        let mut cells = vec![r(n.to_string())];
        for (isa, base) in &one.peak_gflops {
            cells.push(r(m
                .peak(&m.peak_types, isa)
                .map_or("–".into(), |p| format!("{p:.1} ({:.2}x)", p / base))));
        }
        for level in &levels {
            let get = |m: &crate::schema::machine::MachineProfile| {
                m.bandwidth
                    .iter()
                    .find(|b| &b.level == level)
                    .map(|b| b.gbs)
            };
            cells.push(r(match (get(&m), get(&one)) {
                (Some(g), Some(b)) => format!("{g:.1} ({:.2}x)", g / b),
                _ => "–".into(),
            }));
        }
        t.row(&cells, false);
    }
    page.text("GFLOP/s and GB/s with every thread running the probe at once (its ratio to one thread in brackets); private levels (L1, L2) with a working set per thread, shared ones (L3, DRAM) with the one-thread set divided among them. A level that gains less than the thread count is where a bandwidth-bound kernel stops scaling.");
    page.add(t.finish());
}

fn speedups(page: &mut Page, res: &Results, threads: &[usize]) -> Rendered {
    let base = threads[0];
    let more: Vec<usize> = threads[1..].to_vec();
    page.subheading("Speedup and parallel efficiency per layer and algorithm");
    page.text(&format!(
        "Per layer and algorithm, its fastest variant at each thread count (criterion medians). Speedup = time on {base} thread{} / time on N threads, its interval from the intervals' far ends; efficiency = speedup / (N / {base}). The roof is the attainable one with N-thread ceilings. Green: efficiency at least {:.0}%; red: below {:.0}%, or slower than on {base}.",
        if base == 1 { "" } else { "s" },
        GOOD * 100.0,
        POOR * 100.0
    ));
    let mut head = vec![
        "layer".to_string(),
        "algorithm".to_string(),
        format!("GFLOP/s on {base}"),
    ];
    for n in &more {
        head.push(format!("GFLOP/s on {n}"));
        head.push(format!("speedup {n} [interval]"));
        head.push(format!("efficiency {n}"));
        head.push(format!("% of {n}-thread roof"));
    }
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let mut t = Table::new("", &head);
    // The chart: per layer, the speedup of the algorithm fastest at the most threads.
    let mut categories = Vec::new();
    let mut series: Vec<Series> = more
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                format!("{n} threads"),
                CPU_COLORS[i % CPU_COLORS.len()],
                Vec::new(),
            )
        })
        .collect();
    for layer in &res.layers {
        let name = layer.name.as_str();
        let top = *threads.last().expect("two thread counts");
        let best_alg = fastest(res, name, None, top).map(|x| x.algorithm.clone());
        for alg in algorithms(res, name) {
            let Some(b) = fastest(res, name, Some(alg), base) else {
                continue;
            };
            let mut cells = vec![l(name), l(alg), r(format!("{:.1}", b.gflops.point))];
            let mut worst: Option<f64> = None;
            let mut slower = false;
            for (i, &n) in more.iter().enumerate() {
                let m = res.machine.at_threads(n);
                match fastest(res, name, Some(alg), n) {
                    Some(x) => {
                        let s = b.time_ns.ratio(&x.time_ns);
                        let eff = s.point / (n as f64 / base as f64);
                        worst = Some(worst.map_or(eff, |w: f64| w.min(eff)));
                        slower |= s.point < 1.0;
                        let roof = attainable(&m, x).map_or("–".into(), |(g, _)| {
                            format!("{:.0}%", 100.0 * x.gflops.point / g)
                        });
                        cells.push(r(format!("{:.1}", x.gflops.point)));
                        cells.push(r(format!(
                            "{:.2}x [{:.2}, {:.2}]",
                            s.point, s.lower, s.upper
                        )));
                        cells.push(r(format!("{:.0}%", eff * 100.0)));
                        cells.push(r(roof));
                        if best_alg.as_deref() == Some(alg) {
                            series[i].2.push(Some(s));
                        }
                    }
                    None => {
                        cells.extend((0..4).map(|_| r("–")));
                        if best_alg.as_deref() == Some(alg) {
                            series[i].2.push(None);
                        }
                    }
                }
            }
            if best_alg.as_deref() == Some(alg) {
                categories.push(format!("{name} ({alg})"));
            }
            let class = match worst {
                Some(w) if slower || w < POOR => Some(RowClass::Fail),
                Some(w) if w >= GOOD => Some(RowClass::Win),
                _ => None,
            };
            t.row_class(&cells, class);
        }
    }
    if !categories.is_empty() {
        page.chart(&bars::hbars(
            "Speedup over one thread, fastest algorithm at the most threads",
            "speedup (log; right of 1x is faster)",
            &categories,
            &series,
            Scale::Ratio,
        )?);
    }
    page.add(t.finish());
    Ok(())
}

fn winners(page: &mut Page, res: &Results, threads: &[usize]) {
    page.subheading("Winner per thread count");
    page.text("The winner can change with threads: a bandwidth-bound Winograd transform or depthwise kernel scales worse than a compute-bound direct kernel. Amber: the winning algorithm differs between thread counts.");
    let views: Vec<Results> = threads.iter().map(|&n| res.at_threads(n)).collect();
    let verdicts: Vec<Vec<answer::Verdict>> = views.iter().map(answer::verdicts).collect();
    let mut head = vec!["layer".to_string()];
    head.extend(threads.iter().map(|n| format!("winner on {n}")));
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let mut t = Table::new("", &head);
    for layer in &res.layers {
        let picks: Vec<Option<&answer::Verdict>> = verdicts
            .iter()
            .map(|vs| vs.iter().find(|v| v.layer == layer.name))
            .collect();
        let mut cells = vec![l(layer.name.as_str())];
        let mut algs = Vec::new();
        for p in &picks {
            cells.push(l(match p {
                Some(v) => {
                    algs.push(v.winner.algorithm.clone());
                    let tied = if v.tied.is_empty() {
                        String::new()
                    } else {
                        format!(" (tied with {})", v.tied.len())
                    };
                    format!(
                        "{} {:.1} GFLOP/s{tied}",
                        v.winner.variant, v.winner.gflops.point
                    )
                }
                None => "–".into(),
            }));
        }
        algs.dedup();
        let class = (algs.len() > 1).then_some(RowClass::Tie);
        t.row_class(&cells, class);
    }
    page.add(t.finish());
}

fn batches(page: &mut Page, res: &Results, threads: &[usize]) {
    page.subheading("Time per image against batch");
    page.text("Per layer and batch size, the fastest variant's time divided by the batch (criterion medians with intervals), and that against batch 1's time per image: below 1.00 a batch amortises what one image pays alone (weights streamed from memory, per-call set-up, thread hand-off); above 1.00 the batch's activations outgrow a cache that one image's fit in (criterion re-runs a layer on the same buffers, so a batch-1 run reads a warm cache).");
    let mut groups: BTreeMap<(usize, String), Vec<(usize, String)>> = BTreeMap::new();
    for (i, layer) in res.layers.iter().enumerate() {
        let base = layer.base_name().to_string();
        let first = res
            .layers
            .iter()
            .position(|l| l.base_name() == base)
            .unwrap_or(i);
        groups
            .entry((first, base))
            .or_default()
            .push((layer.batch(), layer.name.clone()));
    }
    let mut t = Table::new(
        "",
        &[
            "layer",
            "threads",
            "batch",
            "fastest",
            "time per image, ms [interval]",
            "vs batch 1",
        ],
    );
    for ((_, base), mut members) in groups {
        members.sort();
        for &n in threads {
            let per_image = |name: &str, batch: usize| -> Option<(Interval, String)> {
                fastest(res, name, None, n)
                    .map(|x| (x.time_ns.scaled(batch as f64), x.variant.clone()))
            };
            let one = members
                .iter()
                .find(|(b, _)| *b == 1)
                .and_then(|(b, name)| per_image(name, *b));
            for (batch, name) in &members {
                let Some((ti, variant)) = per_image(name, *batch) else {
                    continue;
                };
                let vs = one.as_ref().map(|(o, _)| ti.ratio(o));
                let class = vs.map(|v| {
                    if v.upper < 1.0 {
                        RowClass::Win
                    } else if v.lower > 1.0 {
                        RowClass::Fail
                    } else {
                        RowClass::Tie
                    }
                });
                t.row_class(
                    &[
                        l(base.as_str()),
                        r(n.to_string()),
                        r(batch.to_string()),
                        l(variant),
                        r(format!(
                            "{:.3} [{:.3}, {:.3}]",
                            ti.point / 1e6,
                            ti.lower / 1e6,
                            ti.upper / 1e6
                        )),
                        r(vs.map_or("–".into(), |v| {
                            format!("{:.2} [{:.2}, {:.2}]", v.point, v.lower, v.upper)
                        })),
                    ],
                    if *batch == 1 { None } else { class },
                );
            }
        }
    }
    page.add(t.finish());
}
