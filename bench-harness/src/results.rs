//! `results.json`: the versioned schema (`simdconv-results/1`, documented in reports/README.md),
//! atomic writing and checked reading.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalogue::Layer;
use crate::machine::MachineProfile;

/// The schema identifier this build writes and reads.
pub const SCHEMA: &str = "simdconv-results/1";

/// A value with criterion's confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Point estimate.
    pub point: f64,
    /// Lower bound of the confidence interval.
    pub lower: f64,
    /// Upper bound of the confidence interval.
    pub upper: f64,
}

/// The geometry of one measured layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapeRecord {
    /// Batch, input height, width, channels, output channels, kernel rows, columns.
    pub n: usize,
    #[allow(missing_docs)]
    pub h: usize,
    #[allow(missing_docs)]
    pub w: usize,
    #[allow(missing_docs)]
    pub c: usize,
    #[allow(missing_docs)]
    pub k: usize,
    #[allow(missing_docs)]
    pub r: usize,
    #[allow(missing_docs)]
    pub s: usize,
    /// Stride (rows = columns in the catalogue).
    pub stride: usize,
    /// Padding on every side.
    pub pad: usize,
    /// Groups.
    pub groups: usize,
    /// Output height and width.
    pub p: usize,
    #[allow(missing_docs)]
    pub q: usize,
}

/// One (layer, variant) measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Layer name (catalogue).
    pub layer: String,
    /// Variant name (registry), e.g. `direct-avx512-14x32`.
    pub variant: String,
    /// Algorithm name, e.g. `winograd-f4`.
    pub algorithm: String,
    /// ISA name, e.g. `avx2`.
    pub isa: String,
    /// Register tile, e.g. `14x32`.
    pub tile: String,
    /// Geometry.
    pub shape: ShapeRecord,
    /// Direct-equivalent FLOPs (the same for every algorithm).
    pub flops: u64,
    /// Compulsory bytes (input + weights + bias + output).
    pub bytes: u64,
    /// flops / bytes.
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
    /// `simdconv::reference`), measured once outside the timed part.
    pub max_rel_error: f64,
    /// The documented tolerance for this variant on this layer.
    pub tolerance: f64,
}

/// Measurement settings used for the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Suite name.
    pub suite: String,
    /// Filter regex, if any.
    pub filter: Option<String>,
    /// criterion warm-up time, s.
    pub warm_up_s: f64,
    /// criterion measurement time, s.
    pub measurement_s: f64,
    /// criterion sample count.
    pub sample_size: usize,
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
    pub blocks: Vec<crate::blocks::BlockRecord>,
}

/// Errors reading or writing results files; each names the file.
#[derive(Debug)]
pub enum FileError {
    /// The file could not be read or written.
    Io(String, std::io::Error),
    /// Not valid JSON, or not this schema's shape.
    Corrupt(String, String),
    /// A results file of another schema version.
    Schema(String, String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Io(p, e) => write!(f, "{p}: {e}"),
            FileError::Corrupt(p, e) => write!(f, "{p}: not a valid {SCHEMA} file: {e}"),
            FileError::Schema(p, s) => {
                write!(f, "{p}: schema is \"{s}\", this build reads \"{SCHEMA}\"")
            }
        }
    }
}

impl std::error::Error for FileError {}

impl Results {
    /// Reads and checks a results file.
    pub fn read(path: &Path) -> Result<Results, FileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FileError::Io(name.clone(), e))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| FileError::Corrupt(name.clone(), e.to_string()))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => {}
            Some(other) => return Err(FileError::Schema(name, other.to_string())),
            None => return Err(FileError::Corrupt(name, "no \"schema\" field".into())),
        }
        serde_json::from_value(value).map_err(|e| FileError::Corrupt(name, e.to_string()))
    }

    /// Writes atomically: a temporary file in the same directory, then a rename, so an
    /// interrupted run never leaves half a file.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        let name = path.display().to_string();
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| FileError::Corrupt(name.clone(), e.to_string()))?;
        write_atomic(path, text.as_bytes())
    }

    /// The records of one layer.
    pub fn layer_records<'a>(&'a self, layer: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
        self.results.iter().filter(move |r| r.layer == layer)
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let name = path.display().to_string();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| FileError::Io(name.clone(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        FileError::Io(name, e)
    })
}
