//! `auto`: which variant to run for a shape on this CPU, and why.
//!
//! Knowledge, in order:
//! 1. a **tuning map** measured on this CPU (`simdconv-bench tune` writes one; pass it in
//!    [`AutoOptions::map`], or point `SIMDCONV_TUNING` at it and use [`AutoOptions::from_env`]).
//!    The rule over the map is **nearest neighbours in log-shape space** ([`TuningMap`]): among
//!    the measured layers of the same kind (kernel size, stride, depthwise or not), the three
//!    closest in (log2 output side, log2 input channels, log2 output channels) vote, each
//!    variant scored by its geometric-mean slowdown against the best at those layers. Chosen over
//!    a decision tree or fitted constants because the map already holds the answer near most
//!    shapes users ask about (network layers and a grid around them), every pick can be explained
//!    by naming the measured layers behind it. What neighbours cannot know is how the asked
//!    shape differs from theirs: how well a register tile fits it (rows and output channels up
//!    to a multiple of MR and NR), how Winograd's transforms weigh against its GEMM there. So
//!    the neighbours vote on the cost model's *error*, and the cost model's prediction for the
//!    asked shape is corrected by it: measured where there are measurements, modelled between
//!    them;
//! 2. otherwise the **cost model** ([`predict_ns`]): FLOPs at a typical fraction of the ISA's FMA
//!    peak, compulsory bytes over the bandwidth of the smallest cache level they fit in, GEMM
//!    tile padding, im2col's patch copy and Winograd's transforms; predictions within 3% of the
//!    least are a tie, which the widest ISA among them wins.
//!
//! Either way only variants that are registered, run on this CPU, support the shape, belong to
//! the allowed ISAs and whose error bound ([`reference::tolerance`]) fits the accuracy budget are
//! considered: the pick is never unsupported, and an empty field is a [`ConvError`] that says
//! what excluded each algorithm. Picks are deterministic for a given map (ties go to the earlier
//! registry row).

mod cost;
mod map;

use std::fmt;
use std::sync::Arc;

pub use cost::{predict_ns, Ceilings, NOMINAL_DRAM_GBS, NOMINAL_GHZ};
pub use map::{TunedLayer, TunedTime, TuningMap, TUNING_SCHEMA, TUNING_SCHEMA_V1};

use crate::registry::{variants, Variant};
use crate::{reference, Algorithm, ConvError, ConvShape, Isa, WinogradTile};

/// The environment variable [`AutoOptions::from_env`] reads: the path of a `tuning.json`.
pub const TUNING_ENV: &str = "SIMDCONV_TUNING";

/// What `auto` may use and must respect.
#[derive(Debug, Clone, Default)]
pub struct AutoOptions {
    /// A tuning map measured on this CPU; without one the cost model decides.
    pub map: Option<Arc<TuningMap>>,
    /// The largest error bound accepted, relative to each output's term magnitude (the measure
    /// of [`reference::tolerance`]): a Winograd tile whose bound exceeds it is not considered.
    pub max_relative_error: Option<f64>,
    /// Only these ISAs (all that this CPU runs when `None`).
    pub isas: Option<Vec<Isa>>,
    /// Ceilings for the cost model (measured ones: `simdconv-bench machine`); when `None`, the
    /// map's, else [`Ceilings::nominal`] (no timing happens here), and the [`Choice`] says which.
    pub ceilings: Option<Ceilings>,
}

impl AutoOptions {
    /// Why these options cannot be used, naming the field: an error budget that is not a
    /// positive finite number (NaN or infinity would mean "no budget"), an empty ISA list, or
    /// implausible ceilings.
    pub fn check(&self) -> Result<(), ConvError> {
        let invalid = |field: &'static str, value: String, reason: &str| ConvError::InvalidOption {
            field,
            value,
            reason: reason.into(),
        };
        if let Some(e) = self.max_relative_error {
            if !(e.is_finite() && e > 0.0) {
                return Err(invalid(
                    "max_relative_error",
                    e.to_string(),
                    "must be a positive finite number (None means no budget)",
                ));
            }
        }
        if self.isas.as_ref().is_some_and(|l| l.is_empty()) {
            return Err(invalid(
                "isas",
                "[]".into(),
                "an empty list allows nothing (None means every ISA this CPU runs)",
            ));
        }
        if let Some(c) = &self.ceilings {
            c.check()
                .map_err(|reason| invalid("ceilings", String::new(), &reason))?;
        }
        Ok(())
    }

    /// Options with the map named by `SIMDCONV_TUNING`, if the variable is set (an unreadable
    /// or invalid file is an error, not a silent fallback). The map's `fingerprint` (the CPU it
    /// was measured on) is not compared with this CPU here: the library cannot compute the
    /// harness's fingerprint, so a map from another CPU is the caller's to refuse
    /// (`simdconv-bench` does).
    pub fn from_env() -> Result<AutoOptions, ConvError> {
        let mut o = AutoOptions::default();
        if let Some(path) = std::env::var_os(TUNING_ENV) {
            o.map = Some(Arc::new(TuningMap::read(std::path::Path::new(&path))?));
        }
        Ok(o)
    }

    /// These options with `map`.
    pub fn with_map(mut self, map: TuningMap) -> AutoOptions {
        self.map = Some(Arc::new(map));
        self
    }
}

/// Where a pick came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The tuning map: the measured layers that voted, with their distance in log2 units.
    Map {
        /// (layer name, distance).
        neighbours: Vec<(String, f64)>,
    },
    /// The cost model (no map, or no measured layer of this kind in it).
    CostModel,
}

/// Where the cost model's ceilings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeilingSource {
    /// [`AutoOptions::ceilings`].
    Given,
    /// The tuning map's (measured with the map).
    Map,
    /// [`Ceilings::nominal`]: none was given and the map has none.
    Nominal,
}

/// A pick: the variant and the reason.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The registry row to run.
    pub variant: &'static Variant,
    /// Why.
    pub source: Source,
    /// Whose ceilings the cost model used (it corrects the map's picks too).
    pub ceilings: CeilingSource,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.variant.name())?;
        match &self.source {
            Source::Map { neighbours } => {
                let n: Vec<String> = neighbours
                    .iter()
                    .map(|(l, d)| format!("{l} at {d:.2}"))
                    .collect();
                write!(f, " (tuning map: nearest measured {})", n.join(", "))
            }
            Source::CostModel => f.write_str(" (cost model)"),
        }?;
        if self.ceilings == CeilingSource::Nominal {
            f.write_str(" [nominal ceilings: none measured were given]")?;
        }
        Ok(())
    }
}

/// Executed / useful multiply-adds of `v`'s GEMM on `shape`: rows (output pixels, or Winograd
/// tiles) up to a multiple of MR, output channels (per group) up to a multiple of NR; `None` for tiles
/// that are not MRxNR.
pub fn gemm_padding(shape: &ConvShape, v: &Variant) -> Option<f64> {
    // In f64: a shape's pixel count times its batch need not fit in usize.
    let (mr, nr) = (v.tile_mr()? as f64, v.tile_nr()? as f64);
    let (n, p, q) = (shape.n() as f64, shape.p() as f64, shape.q() as f64);
    let rows = match v.algorithm() {
        Algorithm::Winograd(t) => {
            let m = t.m() as f64;
            n * (p / m).ceil() * (q / m).ceil()
        }
        Algorithm::Direct | Algorithm::Im2col | Algorithm::Pointwise | Algorithm::Depthwise => {
            n * p * q
        }
    };
    // A grouped GEMM pads each group's K/groups columns to NR.
    let k = shape.k_per_group() as f64;
    Some(((rows / mr).ceil() * mr * (k / nr).ceil() * nr) / (rows * k))
}

/// The registered tile of `algorithm` on `isa` for `shape` (what [`crate::ConvPlan::new`]
/// builds): the tile that pads the GEMM least, counting tiles within 3 percentage points of
/// the least padding as equal; among those the widest, then the first registered. The slack is
/// there because a wider tile's fewer row pointers and broadcasts are worth more than padding a
/// few rows of a large layer. `None` when no row of that algorithm and ISA is compiled in.
pub fn pick_tile(shape: &ConvShape, algorithm: Algorithm, isa: Isa) -> Option<&'static Variant> {
    let candidates = || {
        variants()
            .iter()
            .filter(move |v| v.algorithm() == algorithm && v.isa() == isa)
    };
    let pct = |v: &Variant| gemm_padding(shape, v).map(|p| ((p - 1.0) * 100.0).floor() as i64);
    let least = candidates().filter_map(pct).min();
    candidates()
        .filter(|v| match (pct(v), least) {
            (Some(p), Some(least)) => p <= least + 3,
            _ => true,
        })
        .rev()
        .max_by_key(|v| v.tile_nr())
}

/// Every variant `auto` may pick for `shape` under `opts`, in registry order; an empty field is
/// an error naming what excluded each algorithm. Of the Winograd point sets of one tile size only
/// the one with the smallest error bound takes part: the points change the error, not the cost.
pub fn candidates(
    shape: &ConvShape,
    opts: &AutoOptions,
) -> Result<Vec<&'static Variant>, ConvError> {
    let mut why: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for v in variants() {
        let isa_ok = opts.isas.as_ref().is_none_or(|l| l.contains(&v.isa()));
        if !v.is_available() || !isa_ok {
            continue;
        }
        if let Err(e) = v.supports(shape) {
            why.push(e.to_string());
            continue;
        }
        let bound = reference::tolerance(shape, v.algorithm());
        if let Some(budget) = opts.max_relative_error {
            if bound > budget {
                why.push(format!(
                    "{}: error bound {bound:.2e} exceeds max_relative_error = {budget:.2e}",
                    v.algorithm()
                ));
                continue;
            }
        }
        if let Algorithm::Winograd(t) = v.algorithm() {
            let better = WinogradTile::ALL.iter().any(|&o| {
                o.m() == t.m() && reference::winograd_factor(o) < reference::winograd_factor(t)
            });
            if better {
                continue;
            }
        }
        out.push(v);
    }
    if out.is_empty() {
        why.dedup();
        if why.is_empty() {
            why.push(format!(
                "isas = {:?}: none of them runs on this CPU",
                opts.isas
            ));
        }
        return Err(ConvError::NoCandidate {
            reason: why.join("; "),
        });
    }
    Ok(out)
}

/// Picks the variant for `shape`: the map's nearest measured layers if it has any of this
/// kind, else the cost model.
pub fn choose(shape: &ConvShape, opts: &AutoOptions) -> Result<Choice, ConvError> {
    opts.check()?;
    let cands = candidates(shape, opts)?;
    let (ceilings, from) = match (
        &opts.ceilings,
        opts.map.as_ref().and_then(|m| m.ceilings.as_ref()),
    ) {
        (Some(c), _) => (c.clone(), CeilingSource::Given),
        (None, Some(c)) => (c.clone(), CeilingSource::Map),
        (None, None) => (Ceilings::nominal(), CeilingSource::Nominal),
    };
    if let Some(map) = &opts.map {
        let model = |s: &ConvShape, v: &Variant| predict_ns(s, v, &ceilings);
        if let Some((variant, neighbours)) = map.nearest(shape, &cands, &model) {
            return Ok(Choice {
                variant,
                source: Source::Map { neighbours },
                ceilings: from,
            });
        }
    }
    let variant = cost::cheapest(shape, &cands, &ceilings).ok_or(ConvError::NoCandidate {
        reason: "no candidate".into(),
    })?;
    Ok(Choice {
        variant,
        source: Source::CostModel,
        ceilings: from,
    })
}
