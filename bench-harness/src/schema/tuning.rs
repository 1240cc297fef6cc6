//! `tuning.json` (schema `simdconv-tuning/2`; `/1` still read): the map `ConvPlan::auto` reads (its layers and
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
        let mut file: TuningFile =
            serde_json::from_str(&text).map_err(|e| FileError::Corrupt(name, e.to_string()))?;
        // An older map reads in this build's form, and is written back in it.
        file.map.schema = simdconv::auto::TUNING_SCHEMA.into();
        Ok(file)
    }

    /// Writes atomically.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| FileError::Corrupt(path.display().to_string(), e.to_string()))?;
        write_atomic(path, text.as_bytes())
    }
}

/// A picking rule scored on the held-out layers (`tune/rules.rs` implements each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// `ConvPlan::auto` with the map of the other layers.
    Auto,
    /// `ConvPlan::auto` without a map.
    CostModel,
    /// oneDNN's `convolution_auto`.
    Onednn,
    /// ncnn's x86 rule.
    Ncnn,
    /// TVM's x86 strategy.
    Tvm,
    /// onnxruntime's MLAS.
    Mlas,
    /// Always direct.
    AlwaysDirect,
    /// Always im2col + GEMM.
    AlwaysIm2col,
    /// A rule of another version of this suite, read from its file.
    #[serde(other)]
    Unknown,
}

impl Rule {
    /// The rules, in the order the page lists them.
    pub(crate) const ALL: [Rule; 8] = [
        Rule::Auto,
        Rule::CostModel,
        Rule::Onednn,
        Rule::Ncnn,
        Rule::Tvm,
        Rule::Mlas,
        Rule::AlwaysDirect,
        Rule::AlwaysIm2col,
    ];

    /// The name files and pages use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Rule::Auto => "auto",
            Rule::CostModel => "cost-model",
            Rule::Onednn => "onednn",
            Rule::Ncnn => "ncnn",
            Rule::Tvm => "tvm",
            Rule::Mlas => "mlas",
            Rule::AlwaysDirect => "always-direct",
            Rule::AlwaysIm2col => "always-im2col",
            Rule::Unknown => "unknown",
        }
    }

    /// The rule of this name (`None` for a name this version does not know).
    #[cfg(test)]
    pub(crate) fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }

    /// What the rule does, in one line.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Rule::Auto => "ConvPlan::auto with the map of the other layers (3 nearest measured layers)",
            Rule::CostModel => "ConvPlan::auto without a map: FLOPs at typical efficiency vs bytes over bandwidth",
            Rule::Onednn => "oneDNN convolution_auto: Winograd F(4,3) only at batch >= 4, else direct",
            Rule::Ncnn => "ncnn x86: Winograd for 3x3 s1 if C or K > 8 (tile by its tables); 1x1 GEMM; im2col if C > 16",
            Rule::Tvm => "TVM x86: Winograd F(4,3) for 3x3 s1 when 64 < K < 512, else direct",
            Rule::Mlas => "onnxruntime MLAS: 1x1 as one GEMM, else im2col + GEMM (no Winograd)",
            Rule::AlwaysDirect => "always direct",
            Rule::AlwaysIm2col => "always im2col + GEMM",
            Rule::Unknown => "a rule this version does not know",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One rule's score on the held-out layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleScore {
    /// The rule.
    pub rule: Rule,
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
    /// The rule.
    pub rule: Rule,
    /// The variant picked.
    #[serde(deserialize_with = "simdconv::record::variant_name")]
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
