//! `results.json`: the versioned schema (`simdconv-results/3`, documented in reports/README.md;
//! version 1 files, which predate thread counts, are still read),
//! every record in it (layers, blocks, steps), every number derived from those records (GFLOP/s
//! from times, fractions of the peak and of the attainable roof), atomic writing and checked
//! reading. Names stored as strings (ISA, algorithm) are read back into the kernel crate's enums
//! here, so the report orders and colours by enum.

use std::path::Path;

use serde::{Deserialize, Serialize};
use simdconv::{Algorithm, Isa, Tile};

use super::layer::Layer;
use super::machine::MachineProfile;
use super::named::Named;
use super::suite::SuiteName;
pub(crate) use crate::files::write_atomic;
pub use crate::files::FileError;

/// The schema identifier this build writes and reads.
pub const SCHEMA: &str = "simdconv-results/4";

/// The earliest schema this build still reads: the same records without `threads` (all ran on one
/// thread) and without per-thread ceilings.
pub(crate) const SCHEMA_V1: &str = "simdconv-results/1";

/// The schema before the full shape record (square `stride` and `pad`, no dilation), element
/// types and typed variant names; still read (names gain `f32-`, shapes their full form).
pub(crate) const SCHEMA_V2: &str = "simdconv-results/2";

/// The schema whose layers were square (`hw`, `rs`, `stride`, `pad`, `batch` fields) rather than
/// a full shape record; still read.
pub(crate) const SCHEMA_V3: &str = "simdconv-results/3";

/// The largest results file read: a full suite on every ISA and two thread counts is a few MB,
/// and reading takes about ten times the file's size in memory.
pub(crate) const MAX_FILE_BYTES: u64 = 64 << 20;

fn one() -> usize {
    1
}

pub use simdconv::record::{float, Interval, ShapeRecord};

/// GFLOP/s for `flops` done in `time_ns` (FLOP per ns = GFLOP/s).
pub(crate) fn gflops(flops: u64, time_ns: Interval) -> Interval {
    Interval::rate(flops as f64, time_ns)
}

fn f32_types() -> String {
    simdconv::Types::F32.name()
}

/// One (layer, variant) measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Layer name (catalogue).
    pub layer: String,
    /// Variant name (registry), e.g. `f32-direct-avx512-14x32` (older names read with `f32-`).
    #[serde(deserialize_with = "simdconv::record::variant_name")]
    pub variant: String,
    /// Algorithm, e.g. `winograd-f4`.
    pub algorithm: Named<Algorithm>,
    /// ISA, e.g. `avx2`.
    pub isa: Named<Isa>,
    /// Register tile, e.g. `14x32`.
    pub tile: Named<Tile>,
    /// Element types (`simdconv::Types::name`): `f32`, or e.g. `u8s8u8` (absent in older files,
    /// which were all f32).
    #[serde(default = "f32_types")]
    pub types: String,
    /// Geometry.
    pub shape: ShapeRecord,
    /// Direct-equivalent FLOPs (the same for every algorithm).
    pub flops: u64,
    /// Compulsory bytes (input + weights + bias + output).
    pub bytes: u64,
    /// flops / bytes.
    #[serde(with = "float")]
    pub intensity: f64,
    /// Time per run in ns: criterion's median with its confidence interval.
    pub time_ns: Interval,
    /// flops / time, GFLOP/s (lower bound from the upper time bound and vice versa); for
    /// Winograd this is "effective" GFLOP/s.
    pub gflops: Interval,
    /// gflops.point / the measured peak of this ISA.
    pub fraction_of_peak: Option<f64>,
    /// Scratch memory the plan uses during a run, bytes.
    pub scratch_bytes: u64,
    /// Max error against the f64 reference relative to the term magnitude (see
    /// `simdconv::reference`), measured once outside the timed part; non-finite when an output
    /// is NaN or infinite where the reference's is not (stored as a string, see [`float`]).
    #[serde(with = "float")]
    pub max_rel_error: f64,
    /// The documented tolerance for this variant on this layer.
    #[serde(with = "float")]
    pub tolerance: f64,
    /// Threads it ran on: 1 is `ConvPlan::run`, more is `run_parallel` on a pool of that size
    /// (1 in version 1 files).
    #[serde(default = "one")]
    pub threads: usize,
}

impl Record {
    /// The ISA (`None` for a name this build does not know).
    pub(crate) fn isa(&self) -> Option<Isa> {
        self.isa.known()
    }
    /// The algorithm (`None` for a name this build does not know).
    pub(crate) fn algorithm(&self) -> Option<Algorithm> {
        self.algorithm.known()
    }
    /// The row's identity in a results file: `layer/variant`, with ` x<N>t` on N > 1 threads.
    pub(crate) fn key(&self) -> String {
        if self.threads > 1 {
            format!("{}/{} x{}t", self.layer, self.variant, self.threads)
        } else {
            format!("{}/{}", self.layer, self.variant)
        }
    }
    /// Whether the error is finite and within the documented tolerance.
    pub(crate) fn within_tolerance(&self) -> bool {
        self.max_rel_error.is_finite() && self.max_rel_error <= self.tolerance
    }
    /// Sets the time and everything derived from it (GFLOP/s, fraction of `m`'s peak).
    pub(crate) fn set_time(&mut self, time_ns: Interval, m: &MachineProfile) {
        self.time_ns = time_ns;
        self.gflops = gflops(self.flops, time_ns);
        self.fraction_of_peak = m
            .peak(&self.types, &self.isa)
            .map(|p| self.gflops.point / p);
    }
}

/// Where auto's pick came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PickSource {
    /// The tuning map's nearest measured layers.
    #[serde(rename = "tuning map")]
    TuningMap,
    /// The cost model.
    #[serde(rename = "cost model")]
    CostModel,
    /// A source of another version of this suite, read from its file.
    #[serde(other, rename = "unknown")]
    Unknown,
}

impl PickSource {
    /// As pages and files write it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PickSource::TuningMap => "tuning map",
            PickSource::CostModel => "cost model",
            PickSource::Unknown => "unknown",
        }
    }
}

/// What auto picked on one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoPick {
    /// Layer name.
    pub layer: String,
    /// The variant picked.
    #[serde(deserialize_with = "simdconv::record::variant_name")]
    pub variant: String,
    /// Where the pick came from.
    pub source: PickSource,
    /// The pick with its reason (the measured layers it followed).
    pub reason: String,
    /// time(pick) / time(fastest measured) by median; `None` when the pick was not measured in
    /// this run (filtered out).
    pub regret: Option<f64>,
}

/// How a block's convolutions were chosen, as files write it: `best` or `fixed-<algorithm>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum BlockMode {
    /// The fastest of what auto may pick, per layer.
    Best,
    /// One algorithm for every layer it supports.
    Fixed(Algorithm),
    /// A mode of another version of this suite, kept as written.
    Unknown(String),
}

impl From<String> for BlockMode {
    fn from(s: String) -> BlockMode {
        if s == "best" {
            return BlockMode::Best;
        }
        match s.strip_prefix("fixed-").and_then(Algorithm::from_name) {
            Some(a) => BlockMode::Fixed(a),
            None => BlockMode::Unknown(s),
        }
    }
}

impl From<BlockMode> for String {
    fn from(m: BlockMode) -> String {
        m.to_string()
    }
}

impl std::fmt::Display for BlockMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockMode::Best => f.write_str("best"),
            BlockMode::Fixed(a) => write!(f, "fixed-{}", a.name()),
            BlockMode::Unknown(s) => f.write_str(s),
        }
    }
}

/// Measured timing of one step of a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Step name.
    pub name: String,
    /// Variant (convs) or op name.
    pub variant: String,
    /// Conv FLOPs (0 for other ops).
    pub flops: u64,
    /// Compulsory bytes (convs: input + weights + bias + output; other ops: inputs + output).
    pub bytes: u64,
    /// criterion's median time, ns.
    pub time_ns: Interval,
}

impl StepRecord {
    /// GFLOP/s of the step.
    pub(crate) fn gflops(&self) -> Interval {
        gflops(self.flops, self.time_ns)
    }
}

/// Measured timing of one side of a claim on one ISA and mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockRecord {
    /// Claim id.
    pub claim: String,
    /// Claim title.
    pub title: String,
    /// Side index within the claim (0 = the design the claim is about).
    pub side: usize,
    /// Side name.
    pub name: String,
    /// ISA.
    pub isa: String,
    /// How its convolutions were chosen.
    pub mode: BlockMode,
    /// Conv FLOPs of the block.
    pub flops: u64,
    /// criterion's median time for the whole block, ns.
    pub time_ns: Interval,
    /// Per-step times (measured for the widest ISA in best mode only; empty otherwise).
    pub steps: Vec<StepRecord>,
    /// Whether the claim is a scaling series.
    pub scaling: bool,
}

/// Measurement settings used for the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// What measured it.
    pub suite: SuiteName,
    /// Filter regex, if any.
    pub filter: Option<String>,
    /// criterion warm-up time, s.
    pub warm_up_s: f64,
    /// criterion measurement time, s.
    pub measurement_s: f64,
    /// criterion sample count.
    pub sample_size: usize,
    /// The command line of the run (absent in older files).
    #[serde(default)]
    pub command: Option<String>,
    /// The CPUs the process was allowed to run on (Linux `Cpus_allowed_list`), where known.
    #[serde(default)]
    pub cpus_allowed: Option<String>,
    /// Seconds since the Unix epoch when the run started.
    #[serde(default)]
    pub started_unix: Option<u64>,
}

impl Settings {
    /// Whether the process was pinned to fewer CPUs than the machine's `logical_cores`.
    pub(crate) fn pinned(&self, logical_cores: usize) -> Option<bool> {
        self.cpus_allowed
            .as_deref()
            .map(|l| cpu_count(l) < logical_cores)
    }

    /// The provenance of this process: its command line and the CPUs it may run on.
    pub(crate) fn provenance(&mut self) {
        // The program by its file name: where the binary sits says nothing about the run.
        let program = std::env::args()
            .next()
            .map(|a| {
                Path::new(&a)
                    .file_name()
                    .map_or(a.clone(), |f| f.to_string_lossy().into_owned())
            })
            .into_iter();
        let args: Vec<String> = program
            .chain(std::env::args().skip(1))
            .map(|a| {
                if a.contains(|c: char| c.is_whitespace() || c == '"') {
                    format!("{a:?}")
                } else {
                    a
                }
            })
            .collect();
        self.command = Some(args.join(" "));
        self.cpus_allowed = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                    .map(|v| v.trim().to_string())
            });
    }
}

/// The number of CPUs in a Linux CPU list such as `0-3,6`.
pub(crate) fn cpu_count(list: &str) -> usize {
    list.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.trim().split_once('-') {
            Some((a, b)) => match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 0,
            },
            None => usize::from(p.trim().parse::<usize>().is_ok()),
        })
        .sum()
}

/// `seconds since the epoch` as `YYYY-MM-DD HH:MM UTC` (civil-from-days, no time crate).
pub(crate) fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (hh, mm) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}

/// A whole results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Seconds since the Unix epoch when the run ended.
    pub created_unix: u64,
    /// How it was measured.
    pub settings: Settings,
    /// Where it was measured.
    pub machine: MachineProfile,
    /// The layers of the suite (after filtering).
    pub layers: Vec<Layer>,
    /// One record per (layer, variant).
    pub results: Vec<Record>,
    /// The building-block claims (suites `blocks` and `full`); absent in older files.
    #[serde(default)]
    pub blocks: Vec<BlockRecord>,
    /// What `ConvPlan::auto` picked per layer and its regret (absent in older files).
    #[serde(default)]
    pub auto: Vec<AutoPick>,
    /// Layers of the run that no SIMD variant computed on its machine, with the reason (those
    /// that no variant computes have no records either).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<CoverageGap>,
    /// The low-precision measurements (`run --dtype f32,int8`); absent when none were made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub precision: Vec<super::precision::PrecisionRecord>,
}

/// A layer that only scalar/portable variants, or none, computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageGap {
    /// The layer's name.
    pub layer: String,
    /// Why (the refusal of the most general SIMD variant, or the ISA list).
    pub reason: String,
}

impl Results {
    /// Reads and checks a results file.
    pub fn read(path: &Path) -> Result<Results, FileError> {
        let name = path.display().to_string();
        let text = crate::files::read_capped(path, MAX_FILE_BYTES)?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| FileError::Corrupt(name.clone(), e.to_string()))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => {}
            Some(SCHEMA_V1 | SCHEMA_V2 | SCHEMA_V3) => {
                let mut r: Results = serde_json::from_value(value)
                    .map_err(|e| FileError::Corrupt(name, e.to_string()))?;
                r.schema = SCHEMA.into();
                // Batched layers of older files are known only by their name, `<layer>_b<n>`.
                for l in &mut r.layers {
                    let suffix = format!("_b{}", l.batch());
                    if l.batch() > 1 && l.batch_of.is_none() {
                        l.batch_of = l.name.strip_suffix(&suffix).map(str::to_string);
                    }
                }
                return Ok(r);
            }
            Some(other) => return Err(FileError::Schema(name, other.to_string(), SCHEMA)),
            None => return Err(FileError::Corrupt(name, "no \"schema\" field".into())),
        }
        serde_json::from_value(value).map_err(|e| FileError::Corrupt(name, e.to_string()))
    }

    /// Writes atomically: a temporary file in the same directory, then a rename, so an
    /// interrupted run never leaves half a file.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        write_atomic(path, self.to_json(path)?.as_bytes())
    }

    /// The file's text (`path` names it in an error).
    pub(crate) fn to_json(&self, path: &Path) -> Result<String, FileError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| FileError::Corrupt(path.display().to_string(), e.to_string()))
    }

    /// The thread counts measured, ascending.
    pub(crate) fn thread_counts(&self) -> Vec<usize> {
        let mut t: Vec<usize> = self.results.iter().map(|r| r.threads).collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    /// The run as if only `threads` had been measured: its records, and the machine's ceilings
    /// for that many threads where they were measured (so roofs and fractions of the peak are
    /// the N-thread ones). Blocks and auto's picks belong to the one-thread view.
    pub(crate) fn at_threads(&self, threads: usize) -> Results {
        let mut r = self.clone();
        r.results.retain(|x| x.threads == threads);
        r.machine = self.machine.at_threads(threads);
        if threads != 1 {
            r.blocks.clear();
            r.auto.clear();
        }
        r.layers
            .retain(|l| r.results.iter().any(|x| x.layer == l.name) || r.results.is_empty());
        r
    }

    /// The run at its lowest thread count (one thread unless only parallel runs were measured):
    /// what every one-thread answer reads.
    pub fn at_fewest_threads(&self) -> Results {
        self.at_threads(self.thread_counts().first().copied().unwrap_or(1))
    }

    /// The records of one layer.
    pub(crate) fn layer_records<'a>(
        &'a self,
        layer: &'a str,
    ) -> impl Iterator<Item = &'a Record> + 'a {
        self.results.iter().filter(move |r| r.layer == layer)
    }
}
