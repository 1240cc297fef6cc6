//! `tuning.json` (schema `simdconv-tuning/1`): the map `ConvPlan::auto` reads (its layers and
//! times are the kernels crate's `TuningMap`), the machine, how it was measured, and the
//! evaluation of every picking rule on held-out layers.

use std::path::Path;

use serde::{Deserialize, Serialize};
use simdconv::auto::TuningMap;

use super::machine::MachineProfile;
use super::results::{Settings, MAX_FILE_BYTES};
use crate::files::{write_atomic, FileError};

/// How the map was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneSettings {
    /// The time budget, s.
    pub budget_s: f64,
    /// The ISAs measured (all this CPU runs when absent).
    pub isas: Option<Vec<String>>,
    /// Layers in the tune's set.
    pub layers_planned: usize,
    /// Command line, CPUs allowed, start time (as in results files).
    pub provenance: Settings,
}

/// `tuning.json`: the map `auto` reads, with the machine it was measured on, the settings, the
/// held-out split and the evaluation of every rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TuningFile {
    /// The map (schema, fingerprint, ceilings, layers).
    #[serde(flatten)]
    pub map: TuningMap,
    /// Seconds since the Unix epoch when the file was written.
    pub created_unix: u64,
    /// The machine profile.
    pub machine: MachineProfile,
    /// How it was measured.
    pub settings: TuneSettings,
    /// Regret of auto and of each baseline rule on the held-out layers.
    #[serde(default)]
    pub evaluation: Option<Evaluation>,
}

impl TuningFile {
    /// Reads and checks a tuning file.
    pub fn read(path: &Path) -> Result<TuningFile, FileError> {
        let name = path.display().to_string();
        let text = crate::files::read_capped(path, MAX_FILE_BYTES)?;
        TuningMap::from_json(&text).map_err(|e| FileError::Corrupt(name.clone(), e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| FileError::Corrupt(name, e.to_string()))
    }

    /// Writes atomically.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| FileError::Corrupt(path.display().to_string(), e.to_string()))?;
        write_atomic(path, text.as_bytes())
    }
}

/// One rule's score on the held-out layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleScore {
    /// Rule name (`auto`, `cost-model`, `onednn`, ...).
    pub rule: String,
    /// What it does.
    pub description: String,
    /// Geometric mean of the regret.
    pub geomean_regret: f64,
    /// Largest regret.
    pub max_regret: f64,
    /// The layer of the largest regret.
    pub worst_layer: String,
    /// Held-out layers on which it picked the fastest measured variant.
    pub picked_best: usize,
    /// Held-out layers on which its pick is the fastest or tied with it (the intervals of the
    /// two medians overlap): a regret the measurement cannot tell from 1.
    #[serde(default)]
    pub best_or_tied: usize,
    /// Held-out layers with a regret over 1.10.
    #[serde(default)]
    pub over_1_10: usize,
}

/// One pick of one rule on one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    /// Layer name.
    pub layer: String,
    /// Rule name.
    pub rule: String,
    /// The variant picked.
    pub variant: String,
    /// time(picked) / time(best measured).
    pub regret: f64,
    /// Whether the pick's interval overlaps the fastest one's.
    #[serde(default)]
    pub tied: bool,
}

/// `tuning.json`'s `evaluation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Held-out layers scored.
    pub held_out: usize,
    /// Layers the auto rule learned from.
    pub learned_from: usize,
    /// Auto (with the map) on the held-out layers.
    pub geomean_regret: f64,
    /// Auto's largest regret.
    pub max_regret: f64,
    /// Every rule, auto first, then the baselines.
    pub baselines: Vec<RuleScore>,
    /// Every rule's pick on every held-out layer.
    pub picks: Vec<Pick>,
    /// Auto's leave-one-out pick on every layer (the map without that layer): the learned
    /// boundary the crossover page draws.
    pub leave_one_out: Vec<Pick>,
}
