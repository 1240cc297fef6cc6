//! The regression gate's decision: a row regresses only when it is slower by more than the
//! threshold *and* the two confidence intervals do not overlap; files that cannot be gated
//! (duplicate rows, times that are not positive and finite, nothing in common) are refused, and
//! times from different machines are not compared. What it decided maps to the exit code here;
//! the console and page render it (`compare.rs`).

use std::collections::BTreeSet;

use crate::schema::results::{Interval, Record, Results};

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
    /// Some rows are slower beyond the threshold with non-overlapping intervals.
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

/// Why a file cannot be gated: each (layer, variant) once, every time positive and finite.
pub(crate) fn problems(res: &Results, which: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for r in &res.results {
        let key = r.key();
        if !seen.insert(key.clone()) {
            out.push(format!("{which}: {key} appears more than once"));
        }
        let t = r.time_ns;
        for (name, v) in [("point", t.point), ("lower", t.lower), ("upper", t.upper)] {
            if !(v.is_finite() && v > 0.0) {
                out.push(format!(
                    "{which}: {key}: time_ns.{name} = {v} (must be positive and finite)"
                ));
            }
        }
    }
    out
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
    let frac = |r: &Record, m: &Results| -> Option<Interval> {
        Some(
            r.gflops
                .scaled(m.machine.at_threads(r.threads).peak(&r.types, &r.isa)?),
        )
    };
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    let mut compared = 0;
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
        compared += 1;
        if cross {
            let (Some(bf), Some(cf)) = (frac(b, base), frac(c, cand)) else {
                continue;
            };
            let slowdown = 1.0 - cf.point / bf.point;
            if slowdown > max_regression && cf.upper < bf.lower {
                rows.push(GateRow {
                    key,
                    base: bf,
                    cand: cf,
                    slowdown,
                    cross,
                });
            }
        } else {
            let slowdown = c.time_ns.point / b.time_ns.point - 1.0;
            if slowdown > max_regression && c.time_ns.lower > b.time_ns.upper {
                rows.push(GateRow {
                    key,
                    base: b.time_ns,
                    cand: c.time_ns,
                    slowdown,
                    cross,
                });
            }
        }
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

impl Gate {
    /// The exit code of the decision: 0 pass, 1 regression, missing rows or files that cannot
    /// be gated, 2 different machines.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Gate::Pass { .. } => 0,
            Gate::Regressed { .. } | Gate::Missing { .. } | Gate::Invalid { .. } => 1,
            Gate::DifferentMachines { .. } => 2,
        }
    }
}
