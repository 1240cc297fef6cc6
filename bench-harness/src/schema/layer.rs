//! One named layer as results files store it (`Results::layers`) and the catalogue, the tuning
//! grid and user layer lists produce it.

use serde::{Deserialize, Serialize};
use simdconv::{ConvError, ConvShape};

/// One named convolution layer (square input and kernel, equal padding on all sides; batch 1
/// in the catalogue, more with `run --batch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Stable name used in filters, results files and reports.
    pub name: String,
    /// Networks it appears in.
    pub networks: Vec<String>,
    /// Input height = width.
    pub hw: usize,
    /// Input channels.
    pub c: usize,
    /// Output channels.
    pub k: usize,
    /// Kernel size (square).
    pub rs: usize,
    /// Stride.
    pub stride: usize,
    /// Padding on every side.
    pub pad: usize,
    /// Groups.
    pub groups: usize,
    /// Images per run (1 in the catalogue and in older files).
    #[serde(default = "one")]
    pub batch: usize,
    /// The layer this one is a batch of (`run --batch`), by name; `None` for a layer itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_of: Option<String>,
}

fn one() -> usize {
    1
}

impl Layer {
    /// This layer at batch `n`: the same layer at 1, else named `<name>_b<n>`.
    pub(crate) fn with_batch(&self, n: usize) -> Layer {
        let mut l = self.clone();
        if n != self.batch {
            l.name = format!("{}_b{n}", self.name);
            l.batch = n;
            l.batch_of = Some(self.base_name().to_string());
        }
        l
    }

    /// The layer this one is a batch of, or its own name.
    pub(crate) fn base_name(&self) -> &str {
        self.batch_of.as_deref().unwrap_or(&self.name)
    }

    /// The validated shape.
    pub fn shape(&self) -> Result<ConvShape, ConvError> {
        ConvShape::builder(
            self.batch, self.hw, self.hw, self.c, self.k, self.rs, self.rs,
        )
        .stride(self.stride)
        .pad(self.pad)
        .groups(self.groups)
        .build()
    }

    pub(crate) fn key(&self) -> (usize, usize, usize, usize, usize, usize, usize) {
        (
            self.hw,
            self.c,
            self.k,
            self.rs,
            self.stride,
            self.pad,
            self.groups,
        )
    }
}
