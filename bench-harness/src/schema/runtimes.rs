//! `runtimes.json`, the runtime reference beside a results file (`scripts/runtimes.sh`): per
//! layer and element type, onnxruntime's time for the same convolution as a one-node model on one
//! thread, from its own profiler. Schema `simdconv-runtimes/1`; read when the page is rendered.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The schema this version reads and `scripts/runtimes.py` writes.
pub const RUNTIMES_SCHEMA: &str = "simdconv-runtimes/1";

/// A runtime's measurements of a run's layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Runtimes {
    /// `simdconv-runtimes/1`.
    pub schema: String,
    /// The runtime, e.g. `onnxruntime`.
    pub runtime: String,
    /// Its version.
    pub version: String,
    /// Threads it ran on.
    pub threads: usize,
    /// One entry per (layer, element type).
    pub layers: Vec<RuntimeLayer>,
}

/// One layer in one element type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeLayer {
    /// Layer name, as in results.json.
    pub layer: String,
    /// `f32` or `int8`.
    pub dtype: String,
    /// The ONNX op of the model (`Conv`, `QLinearConv`).
    pub op: String,
    /// The kernels the runtime ran (its layout reorders included).
    #[serde(default)]
    pub kernels: Vec<String>,
    /// Median time of the convolution's own node, ns (absent when the profile had none).
    pub node_ns: Option<f64>,
    /// Median time of every node (reorders included), ns.
    pub nodes_ns: Option<f64>,
    /// Median time of the whole call, ns.
    pub call_ns: f64,
    /// Timed runs.
    pub runs: usize,
}

impl Runtimes {
    /// The runtime reference in `dir`, `None` when there is none; a file that is there but not
    /// a readable `simdconv-runtimes/1` is an error naming it.
    pub fn read_beside(dir: &Path) -> Result<Option<Runtimes>, String> {
        let path = dir.join("runtimes.json");
        let name = path.display();
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{name}: {e}")),
        };
        if meta.len() > 16 << 20 {
            return Err(format!(
                "{name}: {} bytes, over the 16 MiB limit",
                meta.len()
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
        let r: Runtimes = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        if r.schema != RUNTIMES_SCHEMA {
            return Err(format!(
                "{name}: schema \"{}\", this version reads \"{RUNTIMES_SCHEMA}\"",
                r.schema
            ));
        }
        Ok(Some(r))
    }

    /// The entry of `layer` in `dtype`.
    pub fn get(&self, layer: &str, dtype: &str) -> Option<&RuntimeLayer> {
        self.layers
            .iter()
            .find(|l| l.layer == layer && l.dtype == dtype)
    }
}
