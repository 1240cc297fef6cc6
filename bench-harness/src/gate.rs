//! The regression gate's decision: a row regresses only when it is slower by more than the
//! threshold *and* the two confidence intervals do not overlap; files that cannot be gated
//! (duplicate rows, times that are not positive and finite, nothing in common) are refused, and
//! times from different machines are not compared. What it decided maps to the exit code here;
//! the console and page render it (`compare.rs`).

use std::collections::BTreeSet;

use crate::schema::results::{Interval, Record, Results};
use simdconv::Algorithm;

/// One row of the gate's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRow {
    /// `layer/variant`.
    pub key: String,
    /// Baseline value: time in ns (same machine) or fraction of peak (cross machine).
    pub base: Interval,
    /// Candidate value, same unit.
    pub cand: Interval,
    /// Relative slowdown: `cand/base - 1` for times, `1 - cand/base` for fractions.
    pub slowdown: f64,
    /// Whether the values are fractions of peak (files from different machines).
    pub cross: bool,
}

impl GateRow {
    /// The row's cells with units: key, baseline, candidate, slowdown.
    pub(crate) fn cells(&self) -> [String; 4] {
        let show = |i: &Interval| {
            if self.cross {
                format!(
                    "{:.1}% of peak [{:.1}, {:.1}]",
                    i.point * 100.0,
                    i.lower * 100.0,
                    i.upper * 100.0
                )
            } else {
                format!(
                    "{:.3} ms [{:.3}, {:.3}]",
                    i.point / 1e6,
                    i.lower / 1e6,
                    i.upper / 1e6
                )
            }
        };
        [
            self.key.clone(),
            show(&self.base),
            show(&self.cand),
            format!("{:.1}%", self.slowdown * 100.0),
        ]
    }
}

/// What the gate decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// No row regressed; `compared` rows were checked, `missing` baseline rows had no candidate.
    Pass {
        /// Rows compared.
        compared: usize,
        /// Baseline rows absent from the candidate.
        missing: Vec<String>,
    },
    /// Some rows are slower beyond the threshold with non-overlapping intervals, or every row is
    /// slower beyond the threshold (a systematic slowdown, whatever the intervals).
    Regressed {
        /// The offending rows.
        rows: Vec<GateRow>,
        /// Rows compared.
        compared: usize,
    },
    /// Baseline rows absent from the candidate, and missing rows were not allowed.
    Missing {
        /// The absent `layer/variant` rows.
        missing: Vec<String>,
        /// Rows compared.
        compared: usize,
    },
    /// A file cannot be gated: duplicate rows, times that are not positive and finite, or no
    /// row in common.
    Invalid {
        /// Each problem, naming the file and the row.
        problems: Vec<String>,
    },
    /// The files come from different machines and cross-machine comparison was not allowed.
    DifferentMachines {
        /// Baseline fingerprint.
        base: String,
        /// Candidate fingerprint.
        cand: String,
    },
}

/// What the gate tolerates beyond a pass.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Allow {
    /// Compare files from different machines by fraction of each machine's own peak.
    pub cross_machine: bool,
    /// Pass although baseline rows are absent from the candidate (they are listed).
    pub missing: bool,
}

/// Why a file cannot be gated: each (layer, variant) once, every time positive and finite, and
/// every interval consistent (`lower <= point <= upper`): a point outside its own interval, or an
/// inverted one, would let the overlap rule pass anything.
pub(crate) fn problems(res: &Results, which: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &res.results {
        let key = r.key();
        if !seen.insert(key.clone()) {
            out.push(format!("{which}: {key} appears more than once"));
        }
        let t = r.time_ns;
        let mut finite = true;
        for (name, v) in [("point", t.point), ("lower", t.lower), ("upper", t.upper)] {
            if !(v.is_finite() && v > 0.0) {
                finite = false;
                out.push(format!(
                    "{which}: {key}: time_ns.{name} = {v} (must be positive and finite)"
                ));
            }
        }
        if finite && !(t.lower <= t.point && t.point <= t.upper) {
            out.push(format!(
                "{which}: {key}: time_ns interval [{}, {}] does not hold its point {} (must be \
                 lower <= point <= upper)",
                t.lower, t.upper, t.point
            ));
        }
        if r.flops == 0 {
            out.push(format!("{which}: {key}: flops = 0"));
        }
    }
    out
}

/// A candidate interval this many times wider (relative to its point) than the baseline's, and
/// wider than [`WIDE_FLOOR`], is refused: so wide an interval overlaps anything, and the overlap
/// rule would pass a real slowdown as noise.
pub(crate) const WIDE_FACTOR: f64 = 4.0;
/// Relative widths under this (a 50% spread) are never refused, however narrow the baseline's.
pub(crate) const WIDE_FLOOR: f64 = 0.5;

/// `(upper - lower) / point`.
fn rel_width(i: &Interval) -> f64 {
    (i.upper - i.lower) / i.point
}

/// Why a baseline row and its candidate cannot be compared: a different shape or FLOP count
/// under the same name, or a candidate interval too wide to tell anything.
fn pair_problems(b: &Record, c: &Record) -> Vec<String> {
    let key = b.key();
    let mut out = Vec::new();
    if b.shape != c.shape {
        out.push(format!(
            "{key}: the shapes differ ({} in the baseline, {} in the candidate)",
            b.shape, c.shape
        ));
    }
    if b.flops != c.flops {
        out.push(format!(
            "{key}: the FLOP counts differ ({} in the baseline, {} in the candidate)",
            b.flops, c.flops
        ));
    }
    let (wb, wc) = (rel_width(&b.time_ns), rel_width(&c.time_ns));
    if wc > WIDE_FLOOR && wc > WIDE_FACTOR * wb {
        out.push(format!(
            "{key}: the candidate's time interval is {:.0}% of its point, {:.1}x the baseline's \
             {:.0}%: too wide to gate (rerun it)",
            wc * 100.0,
            wc / wb.max(f64::MIN_POSITIVE),
            wb * 100.0
        ));
    }
    out
}

/// What a pair is compared by: the times on one machine, the fractions of each machine's peak
/// across machines; with the candidate's slowdown.
fn measures(
    (b, base): (&Record, &Results),
    (c, cand): (&Record, &Results),
    cross: bool,
) -> Result<(Interval, Interval, f64), Vec<String>> {
    if !cross {
        let slowdown = c.time_ns.point / b.time_ns.point - 1.0;
        return Ok((b.time_ns, c.time_ns, slowdown));
    }
    match (fraction(b, base), fraction(c, cand)) {
        (Ok(bf), Ok(cf)) => Ok((bf, cf, 1.0 - cf.point / bf.point)),
        (b, c) => Err(b
            .err()
            .map(|e| format!("baseline: {e}"))
            .into_iter()
            .chain(c.err().map(|e| format!("candidate: {e}")))
            .collect()),
    }
}

/// Across machines: the rate from the row's own FLOPs and time (never its stored GFLOP/s), over
/// its machine's peak for the row's ISA and types.
fn fraction(r: &Record, m: &Results) -> Result<Interval, String> {
    let peak = m
        .machine
        .at_threads(r.threads)
        .peak(&r.types, &r.isa)
        .filter(|p| p.is_finite() && *p > 0.0)
        .ok_or_else(|| format!("{}: no measured {} {} peak", r.key(), r.types, r.isa))?;
    let f = Interval::rate(r.flops as f64, r.time_ns).scaled(peak);
    // Winograd rows count direct FLOPs, so they may exceed the peak by their algorithm's
    // multiply reduction, and no further.
    let bound = r.algorithm().map_or(1.0, Algorithm::multiply_reduction);
    if f.point > bound {
        return Err(format!(
            "{}: {:.0}% of its {} peak (above {:.0}%: the peak or the time is wrong)",
            r.key(),
            f.point * 100.0,
            r.isa,
            bound * 100.0
        ));
    }
    Ok(f)
}

/// The regression gate. Both files must be well formed ([`problems`]) and share at least one
/// row; every baseline row must be in the candidate unless `allow.missing`. Same machine: a row
/// regresses when its median time grew by more than `max_regression` and the candidate's time
/// interval lies wholly above the baseline's. Across machines (only when allowed), the same test
/// on the fraction of each machine's own peak.
pub fn gate(base: &Results, cand: &Results, max_regression: f64, allow: Allow) -> Gate {
    let (fb, fc) = (base.machine.fingerprint(), cand.machine.fingerprint());
    let cross = fb != fc;
    if cross && !allow.cross_machine {
        return Gate::DifferentMachines { base: fb, cand: fc };
    }
    let mut bad = problems(base, "baseline");
    bad.extend(problems(cand, "candidate"));
    if !bad.is_empty() {
        return Gate::Invalid { problems: bad };
    }
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    let mut bad = Vec::new();
    let mut compared = 0;
    // Rows slower than the threshold at their points, whatever their intervals.
    let mut slower = Vec::new();
    for b in &base.results {
        let key = b.key();
        let Some(c) = cand
            .results
            .iter()
            .find(|c| c.layer == b.layer && c.variant == b.variant && c.threads == b.threads)
        else {
            missing.push(key);
            continue;
        };
        let pair = pair_problems(b, c);
        if !pair.is_empty() {
            bad.extend(pair);
            continue;
        }
        let (bv, cv, slowdown) = match measures((b, base), (c, cand), cross) {
            Ok(m) => m,
            Err(e) => {
                bad.extend(e);
                continue;
            }
        };
        compared += 1;
        if slowdown <= max_regression {
            continue;
        }
        let row = GateRow {
            key,
            base: bv,
            cand: cv,
            slowdown,
            cross,
        };
        let separated = if cross {
            cv.upper < bv.lower
        } else {
            cv.lower > bv.upper
        };
        if separated {
            rows.push(row.clone());
        }
        slower.push(row);
    }
    if !bad.is_empty() {
        return Gate::Invalid { problems: bad };
    }
    if compared == 0 {
        return Gate::Invalid {
            problems: vec![format!(
                "0 rows compared: none of the baseline's {} rows is in the candidate",
                base.results.len()
            )],
        };
    }
    if !rows.is_empty() {
        Gate::Regressed { rows, compared }
    } else if slower.len() == compared {
        // Every row slower beyond the threshold: a systematic slowdown, even where each row's
        // intervals overlap (the chance of that from noise alone halves with every row).
        Gate::Regressed {
            rows: slower,
            compared,
        }
    } else if !missing.is_empty() && !allow.missing {
        Gate::Missing { missing, compared }
    } else {
        Gate::Pass { compared, missing }
    }
}

/// Parses `5%` or `0.05`.
pub(crate) fn parse_threshold(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = if let Some(p) = t.strip_suffix('%') {
        p.trim().parse::<f64>().map(|v| v / 100.0)
    } else {
        t.parse::<f64>()
    }
    .map_err(|_| {
        format!("--max-regression \"{s}\": expected a percentage like 5% or a fraction like 0.05")
    })?;
    if !(0.0..10.0).contains(&v) {
        return Err(format!(
            "--max-regression \"{s}\": must be between 0% and 1000%"
        ));
    }
    Ok(v)
}

/// Exit code of a usage error (as the argument parser's own).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code of a comparison the gate refuses: files that cannot be gated, different machines.
pub(crate) const EXIT_REFUSED: u8 = 3;
/// Exit code of a file that cannot be read or written.
pub(crate) const EXIT_IO: u8 = 4;

impl Gate {
    /// The exit code of the decision: 0 pass, 1 regression or missing rows, [`EXIT_REFUSED`]
    /// for files that cannot be gated or come from different machines.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Gate::Pass { .. } => 0,
            Gate::Regressed { .. } | Gate::Missing { .. } => 1,
            Gate::Invalid { .. } | Gate::DifferentMachines { .. } => EXIT_REFUSED,
        }
    }
}
