//! `auto` as a pseudo-variant of a run: for each measured layer, what `ConvPlan::auto` picks on
//! this CPU (from the tuning map when there is one for this machine, else the cost model, among
//! the ISAs the run measured) and its regret, `time(pick) / time(fastest measured)`, read from the
//! run's own measurements (the pick is not timed again: it is one of the measured variants).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use simdconv::auto::{self, AutoOptions, Source, TuningMap, TUNING_ENV};
use simdconv::Isa;

use crate::answer;
use crate::schema::results::{AutoPick, PickSource, Results};

/// Where the map comes from: `--tuning`, else `SIMDCONV_TUNING`, else `<out>/tuning.json`.
pub(crate) fn map_path(flag: Option<&Path>, out: &Path) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os(TUNING_ENV).map(PathBuf::from))
        .or_else(|| Some(out.join("tuning.json")).filter(|p| p.exists()))
}

/// The map for `res`: the first of `flag`, `$SIMDCONV_TUNING` and `dir/tuning.json` that
/// exists; `Ok(None)` when there is none, or when it is of another machine and was not asked
/// for by `flag` (the note says so); an error when `flag`'s map cannot be used.
pub(crate) fn find_map(
    flag: Option<&Path>,
    dir: &Path,
    res: &Results,
) -> Result<Option<TuningMap>, String> {
    let Some(path) = map_path(flag, dir) else {
        return Ok(None);
    };
    match load_map(&path, &res.machine.fingerprint()) {
        Ok(m) => Ok(Some(m)),
        Err(e) if flag.is_some() => Err(e),
        Err(e) => {
            eprintln!("note: {e}");
            Ok(None)
        }
    }
}

/// Loads the map at `path` if it was tuned on this machine; otherwise says why it is not used.
pub(crate) fn load_map(path: &Path, fingerprint: &str) -> Result<TuningMap, String> {
    let map = TuningMap::read(path).map_err(|e| e.to_string())?;
    if map.fingerprint != fingerprint {
        return Err(format!(
            "{} was tuned on another machine ({}); auto uses the cost model",
            path.display(),
            map.fingerprint
        ));
    }
    Ok(map)
}

/// Auto's pick and regret on every layer of `res`, among the ISAs `res` measured.
pub(crate) fn picks(res: &Results, map: Option<TuningMap>) -> Vec<AutoPick> {
    let mut isas: Vec<Isa> = res.results.iter().filter_map(|r| r.isa()).collect();
    isas.sort();
    isas.dedup();
    let opts = AutoOptions {
        map: map.map(Arc::new),
        isas: Some(isas),
        ceilings: Some(res.machine.ceilings()),
        max_relative_error: None,
    };
    let mut out = Vec::new();
    for layer in &res.layers {
        let Ok(shape) = layer.shape() else { continue };
        let Ok(choice) = auto::choose(&shape, &opts) else {
            continue;
        };
        let recs: Vec<_> = res.layer_records(&layer.name).collect();
        let best = answer::verdict(&recs).map(|v| v.winner.time_ns.point);
        let regret = recs
            .iter()
            .find(|r| r.variant == choice.variant.name())
            .zip(best)
            .map(|(r, best)| r.time_ns.point / best)
            .filter(|g| g.is_finite());
        out.push(AutoPick {
            layer: layer.name.clone(),
            variant: choice.variant.name().into(),
            source: match choice.source {
                Source::Map { .. } => PickSource::TuningMap,
                Source::CostModel => PickSource::CostModel,
            },
            reason: choice.to_string(),
            regret,
        });
    }
    out
}

/// Regrets summarised: geometric mean, maximum and the layer it was on, count.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegretSummary {
    /// Geometric mean.
    pub geomean: f64,
    /// Largest regret.
    pub max: f64,
    /// The layer of the largest.
    pub worst: String,
    /// How many regrets.
    pub count: usize,
}

/// Summarises (layer, regret) pairs; `None` for none.
pub(crate) fn summarise<'a>(
    regrets: impl IntoIterator<Item = (&'a str, f64)>,
) -> Option<RegretSummary> {
    let got: Vec<(&str, f64)> = regrets.into_iter().collect();
    let &(worst, max) = got.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(RegretSummary {
        geomean: (got.iter().map(|(_, r)| r.ln()).sum::<f64>() / got.len() as f64).exp(),
        max,
        worst: worst.to_string(),
        count: got.len(),
    })
}

/// The console's line about auto.
pub(crate) fn console_line(picks: &[AutoPick]) -> String {
    let sources: Vec<&str> = {
        let mut s: Vec<&str> = picks.iter().map(|p| p.source.name()).collect();
        s.sort();
        s.dedup();
        s
    };
    let measured = picks
        .iter()
        .filter_map(|p| p.regret.map(|r| (p.layer.as_str(), r)));
    match summarise(measured) {
        Some(s) => {
            let best = picks.iter().filter(|p| p.regret == Some(1.0)).count();
            format!(
                "auto ({}): picked the fastest measured variant on {best} of {} layers; regret geomean {:.3}, max {:.3} ({})",
                sources.join(" / "),
                s.count,
                s.geomean,
                s.max,
                s.worst
            )
        }
        None => "auto: no pick was measured in this run".into(),
    }
}
