//! The answers a run gives, shared by the report, the console and the CSV: per layer, the
//! winning variant, or a tie where criterion's intervals cannot separate the leaders; the
//! runner-up and the margin; the best variant under any condition (an ISA, an algorithm); and the
//! crossover of algorithms over layers sharing a kernel and stride.
//!
//! A tie is declared when another variant's GFLOP/s interval overlaps the winner's: the
//! measurement cannot say which is faster, so neither is called the winner alone.

use simdconv::Algorithm;

use crate::roof::attainable;
use crate::schema::machine::MachineProfile;
use crate::schema::results::{Interval, Record, Results};

/// The answer for one layer.
#[derive(Debug, Clone)]
pub(crate) struct Verdict<'a> {
    /// Layer name.
    pub layer: &'a str,
    /// The variant with the highest median GFLOP/s.
    pub winner: &'a Record,
    /// Every other variant whose GFLOP/s interval overlaps the winner's (empty: a clear win).
    pub tied: Vec<&'a Record>,
    /// The fastest variant clearly slower than the winner (intervals apart), if any.
    pub runner_up: Option<&'a Record>,
}

impl<'a> Verdict<'a> {
    /// Whether the measurement could not separate the winner from another variant.
    pub(crate) fn is_tie(&self) -> bool {
        !self.tied.is_empty()
    }
    /// Winner over runner-up, as an interval.
    pub(crate) fn margin(&self) -> Option<Interval> {
        self.runner_up.map(|r| self.winner.gflops.ratio(&r.gflops))
    }
    /// The winner's GFLOP/s as a fraction of its attainable roof, with what limits it.
    pub(crate) fn roof_fraction(&self, m: &MachineProfile) -> Option<(f64, String)> {
        attainable(m, self.winner).map(|(a, why)| (self.winner.gflops.point / a, why))
    }
    /// The winner, then every variant tied with it.
    pub(crate) fn leaders(&self) -> impl Iterator<Item = &'a Record> + '_ {
        std::iter::once(self.winner).chain(self.tied.iter().copied())
    }
    /// The leaders' variant names, comma-separated.
    pub(crate) fn leader_names(&self) -> String {
        let names: Vec<&str> = self.leaders().map(|r| r.variant.as_str()).collect();
        names.join(", ")
    }
    /// `"tie: a, b"` or the winner's name.
    pub(crate) fn headline(&self) -> String {
        if self.is_tie() {
            format!("tie: {}", self.leader_names())
        } else {
            self.winner.variant.clone()
        }
    }
    /// Where `rec` (one of this layer's records) stands: the clear winner, tied for first, or
    /// neither.
    pub(crate) fn standing(&self, rec: &Record) -> Option<Standing> {
        if !self.leaders().any(|l| std::ptr::eq(l, rec)) {
            None
        } else if self.is_tie() {
            Some(Standing::Tie)
        } else {
            Some(Standing::Win)
        }
    }
}

/// A record's place in its layer's verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Standing {
    /// The clear winner.
    Win,
    /// Tied for first.
    Tie,
}

/// Records sorted fastest first (by median GFLOP/s; equal medians keep file order).
fn ranked<'a>(records: &[&'a Record]) -> Vec<&'a Record> {
    let mut v = records.to_vec();
    v.sort_by(|a, b| b.gflops.point.total_cmp(&a.gflops.point));
    v
}

/// The verdict over `records` (one layer's); `None` when there are none.
pub(crate) fn verdict<'a>(records: &[&'a Record]) -> Option<Verdict<'a>> {
    let v = ranked(records);
    let (&winner, rest) = v.split_first()?;
    let (tied, apart): (Vec<&Record>, Vec<&Record>) =
        rest.iter().partition(|r| r.gflops.overlaps(&winner.gflops));
    Some(Verdict {
        layer: &winner.layer,
        winner,
        tied,
        runner_up: apart.first().copied(),
    })
}

/// Layer names in the file's catalogue order, then any layer with results but no catalogue
/// entry (a hand-edited or merged file), each once.
pub(crate) fn layer_order(res: &Results) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let named = res.layers.iter().map(|l| l.name.as_str());
    for name in named.chain(res.results.iter().map(|r| r.layer.as_str())) {
        if !out.contains(&name) && res.results.iter().any(|r| r.layer == name) {
            out.push(name);
        }
    }
    out
}

/// One verdict per layer, in layer order.
pub(crate) fn verdicts(res: &Results) -> Vec<Verdict<'_>> {
    layer_order(res)
        .into_iter()
        .filter_map(|l| verdict(&res.layer_records(l).collect::<Vec<_>>()))
        .collect()
}

/// The fastest record of `records` for which `keep` holds.
pub(crate) fn best<'a>(
    records: &[&'a Record],
    keep: impl Fn(&Record) -> bool,
) -> Option<&'a Record> {
    ranked(records).into_iter().find(|r| keep(r))
}

/// The fastest record per algorithm, in `algorithms` order.
pub(crate) fn best_per_algorithm<'a>(
    records: &[&'a Record],
    algorithms: &[Algorithm],
) -> Vec<Option<&'a Record>> {
    algorithms
        .iter()
        .map(|&a| best(records, |r| r.algorithm() == Some(a)))
        .collect()
}

/// Which algorithm wins one layer: the verdict over each algorithm's best variant, so the
/// algorithms whose best overlaps the winner's interval tie with it.
pub(crate) fn algorithm_verdict<'a>(records: &[&'a Record]) -> Option<Verdict<'a>> {
    let per_alg: Vec<&Record> = best_per_algorithm(records, &Algorithm::ALL)
        .into_iter()
        .flatten()
        .collect();
    verdict(&per_alg)
}

/// Layers sharing kernel size and stride (and groups 1), laid out by input size and channels,
/// with the winning algorithm of each.
#[derive(Debug, Clone)]
pub(crate) struct Crossover<'a> {
    /// Kernel edge (r = s in the catalogue).
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// The distinct input sizes (h), ascending.
    pub spatial: Vec<usize>,
    /// The distinct input channel counts (c), ascending.
    pub channels: Vec<usize>,
    /// One algorithm verdict per measured layer of the group.
    pub cells: Vec<Verdict<'a>>,
}

impl<'a> Crossover<'a> {
    /// The verdict at (input size, channels), if a layer sits there.
    pub(crate) fn at(&self, h: usize, c: usize) -> Option<&Verdict<'a>> {
        self.cells
            .iter()
            .find(|v| v.winner.shape.h == h && v.winner.shape.c == c)
    }
}

/// One crossover per (kernel, stride) group that holds at least two layers with more than one
/// algorithm measured: where the winning algorithm changes with size and channels.
pub(crate) fn crossovers(res: &Results) -> Vec<Crossover<'_>> {
    let mut groups: Vec<Crossover> = Vec::new();
    for layer in layer_order(res) {
        let recs: Vec<&Record> = res.layer_records(layer).collect();
        let Some(v) = algorithm_verdict(&recs) else {
            continue;
        };
        let s = &v.winner.shape;
        let several = best_per_algorithm(&recs, &Algorithm::ALL)
            .iter()
            .flatten()
            .count()
            > 1;
        if s.groups != 1 || s.r != s.s || s.stride_h != s.stride_w || !several {
            continue;
        }
        let (kernel, stride) = (s.r, s.stride_h);
        match groups
            .iter_mut()
            .find(|g| g.kernel == kernel && g.stride == stride)
        {
            Some(g) => g.cells.push(v),
            None => groups.push(Crossover {
                kernel,
                stride,
                spatial: Vec::new(),
                channels: Vec::new(),
                cells: vec![v],
            }),
        }
    }
    groups.retain(|g| g.cells.len() >= 2);
    for g in &mut groups {
        g.spatial = sorted_unique(g.cells.iter().map(|v| v.winner.shape.h));
        g.channels = sorted_unique(g.cells.iter().map(|v| v.winner.shape.c));
    }
    groups.sort_by_key(|g| (g.kernel, g.stride));
    groups
}

fn sorted_unique(it: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut v: Vec<usize> = it.collect();
    v.sort_unstable();
    v.dedup();
    v
}
