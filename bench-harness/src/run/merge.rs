//! `run --append`: a new run merged into an earlier results file, repeated rows combined as
//! rounds.

use crate::schema::results::{Interval, Record, Results};

/// Two rounds of one row: the lower median, the union of the intervals.
pub(super) fn rounds(a: Interval, b: Interval) -> Interval {
    Interval {
        point: a.point.min(b.point),
        lower: a.lower.min(b.lower),
        upper: a.upper.max(b.upper),
    }
}

/// Merges a new run into an earlier one (`run --append`), layer results and claims alike. A (layer, variant) measured in both is
/// combined as repeated rounds are: the point estimate is the lower median (the usual estimator
/// of a kernel's time under interference) and the interval is the union of both intervals, so
/// round-to-round drift widens it instead of passing for a real difference.
pub(crate) fn merge(mut old: Results, mut new: Results) -> Results {
    // Rows the old file holds twice (written by another tool, or by hand) are combined first,
    // by the same rule, so the merged file has each row once and the gate can read it.
    let mut once: Vec<Record> = Vec::with_capacity(old.results.len());
    for r in std::mem::take(&mut old.results) {
        match once.iter_mut().find(|o| o.key() == r.key()) {
            Some(o) => {
                let t = rounds(o.time_ns, r.time_ns);
                o.set_time(t, &old.machine.at_threads(o.threads));
            }
            None => once.push(r),
        }
    }
    old.results = once;
    for n in &mut new.results {
        if let Some(o) = old.results.iter().find(|o| o.key() == n.key()) {
            let t = rounds(o.time_ns, n.time_ns);
            n.set_time(t, &old.machine.at_threads(n.threads));
        }
    }
    old.results.retain(|o| {
        !new.results
            .iter()
            .any(|n| n.layer == o.layer && n.variant == o.variant && n.threads == o.threads)
    });
    for t in new.machine.threads {
        if !old.machine.threads.iter().any(|o| o.threads == t.threads) {
            old.machine.threads.push(t);
        }
    }
    old.results.extend(new.results);
    for l in new.layers {
        if !old.layers.iter().any(|o| o.name == l.name) {
            old.layers.push(l);
        }
    }
    // Claims measured again replace their earlier records; new claims are added.
    old.blocks.retain(|o| {
        !new.blocks
            .iter()
            .any(|n| n.claim == o.claim && n.side == o.side && n.isa == o.isa && n.mode == o.mode)
    });
    old.blocks.extend(new.blocks);
    // int8 rows measured again replace their earlier records.
    old.precision.retain(|o| {
        !new.precision
            .iter()
            .any(|n| n.layer == o.layer && n.variant == o.variant)
    });
    old.precision.extend(new.precision);
    old.coverage
        .retain(|o| !new.coverage.iter().any(|n| n.layer == o.layer));
    old.coverage.extend(new.coverage);
    old.created_unix = new.created_unix;
    old.settings.filter = None;
    // The merged file was made by both commands, in order.
    old.settings.command = match (old.settings.command.take(), new.settings.command) {
        (Some(a), Some(b)) => Some(format!("{a}, then {b}")),
        (a, b) => a.or(b),
    };
    old
}
