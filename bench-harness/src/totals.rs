//! Per-network totals: for each network (or the run's layers, where they name none) and batch
//! size, the convolution time of the whole network under each way of choosing a variant per
//! layer — the fastest measured (the bound), `ConvPlan::auto`'s picks, and the libraries' rules
//! (`libraries`) at the widest ISA the layer was measured on — each layer's time weighted by
//! its count; and where the time goes (the layers that cost most, with their winner).

use std::collections::BTreeMap;

use simdconv::{Algorithm, Isa};

use crate::answer;
use crate::libraries;
use crate::schema::layer::Layer;
use crate::schema::results::{Record, Results};
use crate::schema::tuning::Rule;

/// The rules set beside the bound and auto (those that are functions of the shape).
const RULES: [Rule; 6] = [
    Rule::Onednn,
    Rule::Ncnn,
    Rule::Tvm,
    Rule::Mlas,
    Rule::AlwaysDirect,
    Rule::AlwaysIm2col,
];

/// One way of choosing, over a network.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Strategy {
    /// `best per layer`, `auto`, or the rule's name.
    pub label: String,
    /// Sum over the layers it has a time for of count x median time, ns.
    pub total_ns: f64,
    /// Layers whose pick was not measured in this run (the total leaves them out).
    pub missing: usize,
}

/// A layer's share of the network's bound time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Share {
    /// The layer.
    pub layer: String,
    /// Its count in the network.
    pub count: usize,
    /// Its fraction of the bound total (count x its best time).
    pub share: f64,
    /// Its fraction of the network's FLOPs.
    pub flop_share: f64,
    /// The fastest variant and its algorithm.
    pub winner: String,
    /// The winner's algorithm.
    pub algorithm: Algorithm,
}

/// One network at one batch size.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NetworkTotal {
    /// The network (`all layers` where the layers name none).
    pub network: String,
    /// Images per run.
    pub batch: usize,
    /// Layers measured (distinct), and with their counts.
    pub layers: usize,
    pub weighted_layers: usize,
    /// The bound first, then auto (when the run has its picks), then the rules.
    pub strategies: Vec<Strategy>,
    /// The 5 layers that cost most under the bound.
    pub top: Vec<Share>,
}

/// The totals of a run's one-thread view (`res` as `Results::at_fewest_threads` gives it).
pub(crate) fn totals(res: &Results) -> Vec<NetworkTotal> {
    let mut groups: BTreeMap<(String, usize), Vec<&Layer>> = BTreeMap::new();
    for l in &res.layers {
        let nets: Vec<String> = if l.networks.is_empty() {
            vec!["all layers".to_string()]
        } else {
            l.networks.clone()
        };
        for n in nets {
            groups.entry((n, l.batch())).or_default().push(l);
        }
    }
    let l2 = res.machine.cache_size(2).unwrap_or(1 << 20);
    groups
        .into_iter()
        .filter_map(|((network, batch), layers)| network_total(res, network, batch, &layers, l2))
        .collect()
}

fn network_total(
    res: &Results,
    network: String,
    batch: usize,
    layers: &[&Layer],
    l2: u64,
) -> Option<NetworkTotal> {
    let measured: Vec<(&Layer, Vec<&Record>)> = layers
        .iter()
        .map(|l| (*l, res.layer_records(&l.name).collect::<Vec<_>>()))
        .filter(|(_, rs)| !rs.is_empty())
        .collect();
    if measured.is_empty() {
        return None;
    }
    let time_of = |rs: &[&Record], variant: &str| {
        rs.iter()
            .find(|r| r.variant == variant)
            .map(|r| r.time_ns.point)
    };
    let mut strategies = vec![sum("best per layer", &measured, |_, rs| {
        best(rs).map(|r| r.time_ns.point)
    })];
    if !res.auto.is_empty() {
        strategies.push(sum("auto", &measured, |l, rs| {
            let pick = res.auto.iter().find(|p| p.layer == l.name)?;
            time_of(rs, &pick.variant)
        }));
    }
    for rule in RULES {
        strategies.push(sum(rule.name(), &measured, |l, rs| {
            let shape = l.shape().ok()?;
            let algorithm = libraries::algorithm(rule, &shape, l2)?;
            let isa = widest(rs)?;
            let v = libraries::variant_on(&shape, algorithm, isa)?;
            time_of(rs, v.name())
        }));
    }
    let bound = strategies[0].total_ns;
    let flops: f64 = measured
        .iter()
        .map(|(l, rs)| l.count as f64 * rs[0].flops as f64)
        .sum();
    let mut top: Vec<Share> = measured
        .iter()
        .filter_map(|(l, rs)| {
            let b = best(rs)?;
            Some(Share {
                layer: l.name.clone(),
                count: l.count,
                share: l.count as f64 * b.time_ns.point / bound,
                flop_share: l.count as f64 * b.flops as f64 / flops,
                winner: b.variant.clone(),
                algorithm: b.algorithm.known()?,
            })
        })
        .collect();
    top.sort_by(|a, b| b.share.total_cmp(&a.share));
    top.truncate(5);
    Some(NetworkTotal {
        network,
        batch,
        layers: measured.len(),
        weighted_layers: measured.iter().map(|(l, _)| l.count).sum(),
        strategies,
        top,
    })
}

/// A layer's fastest record: the winner table's (`answer::best`).
fn best<'a>(rs: &[&'a Record]) -> Option<&'a Record> {
    answer::best(rs, |_| true)
}

/// The widest ISA among a layer's records.
fn widest(rs: &[&Record]) -> Option<Isa> {
    rs.iter()
        .filter_map(|r| r.isa.known())
        .max_by_key(|i| i.rank())
}

/// A strategy's total: count x time over the layers it has a time for.
fn sum(
    label: &str,
    measured: &[(&Layer, Vec<&Record>)],
    time: impl Fn(&Layer, &[&Record]) -> Option<f64>,
) -> Strategy {
    let mut total_ns = 0.0;
    let mut missing = 0;
    for (l, rs) in measured {
        match time(l, rs) {
            Some(t) => total_ns += l.count as f64 * t,
            None => missing += 1,
        }
    }
    Strategy {
        label: label.to_string(),
        total_ns,
        missing,
    }
}
