//! One named layer as results files store it (`Results::layers`) and the catalogue, the tuning
//! grid and user layer lists produce it: a name, the networks it comes from and its full
//! geometry as the one shape record (`simdconv::record::ShapeRecord`, batch as `n`).

use serde::{Deserialize, Serialize};
use simdconv::record::ShapeRecord;
use simdconv::{ConvError, ConvShape};

/// One named convolution layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LayerWire")]
pub struct Layer {
    /// Stable name used in filters, results files and reports.
    pub name: String,
    /// Networks it appears in.
    pub networks: Vec<String>,
    /// Its geometry; `shape.n` is the batch (1 in the catalogue, more with `run --batch`).
    pub shape: ShapeRecord,
    /// The layer this one is a batch of (`run --batch`), by name; `None` for a layer itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_of: Option<String>,
    /// How many times the network runs this layer (benchdnn's `*N`, repeated identical model
    /// layers): the weight of its time in a network's total. 1 when absent.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: usize,
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// A square layer with the same stride and padding on both axes (the catalogue's and the grid's
/// rows): input `hw x hw x c`, `k` outputs, an `rs x rs` kernel, at batch 1.
pub(crate) fn square(
    hw: usize,
    (c, k): (usize, usize),
    rs: usize,
    stride: usize,
    pad: usize,
    groups: usize,
) -> Result<ConvShape, ConvError> {
    ConvShape::builder(1, hw, hw, c, k, rs, rs)
        .stride(stride)
        .pad(pad)
        .groups(groups)
        .build()
}

impl Layer {
    /// A layer of this shape, in no batch family.
    pub(crate) fn new(name: impl Into<String>, networks: Vec<String>, shape: &ConvShape) -> Layer {
        Layer {
            name: name.into(),
            networks,
            shape: ShapeRecord::of(shape),
            batch_of: None,
            count: 1,
        }
    }

    /// Images per run.
    pub(crate) fn batch(&self) -> usize {
        self.shape.n
    }

    /// This layer at batch `n`: the same layer at its own batch, else named `<name>_b<n>`.
    pub(crate) fn with_batch(&self, n: usize) -> Layer {
        let mut l = self.clone();
        if n != self.batch() {
            l.name = format!("{}_b{n}", self.name);
            l.shape.n = n;
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
        self.shape.shape()
    }

    /// The geometry at batch 1: layers with equal keys are the same layer.
    pub(crate) fn key(&self) -> ShapeRecord {
        ShapeRecord { n: 1, ..self.shape }
    }
}

/// A layer as files store it: `shape` (results/4 on), or the square fields of older files
/// (`hw`, `c`, `k`, `rs`, `stride`, `pad`, `groups`, `batch`).
#[derive(Deserialize)]
struct LayerWire {
    name: String,
    networks: Vec<String>,
    shape: Option<ShapeRecord>,
    hw: Option<usize>,
    c: Option<usize>,
    k: Option<usize>,
    rs: Option<usize>,
    stride: Option<usize>,
    pad: Option<usize>,
    groups: Option<usize>,
    batch: Option<usize>,
    #[serde(default)]
    batch_of: Option<String>,
    #[serde(default = "one")]
    count: usize,
}

impl TryFrom<LayerWire> for Layer {
    type Error = String;
    fn try_from(w: LayerWire) -> Result<Layer, String> {
        let shape = match w.shape {
            Some(s) => s,
            None => {
                let need = |v: Option<usize>, f: &str| {
                    v.ok_or_else(|| format!("layer {:?}: no \"shape\" and no \"{f}\"", w.name))
                };
                let hw = need(w.hw, "hw")?;
                let (c, k) = (need(w.c, "c")?, need(w.k, "k")?);
                let rs = need(w.rs, "rs")?;
                let (stride, pad) = (need(w.stride, "stride")?, need(w.pad, "pad")?);
                let s = square(hw, (c, k), rs, stride, pad, need(w.groups, "groups")?)
                    .map_err(|e| format!("layer {:?}: {e}", w.name))?;
                ShapeRecord {
                    n: w.batch.unwrap_or(1),
                    ..ShapeRecord::of(&s)
                }
            }
        };
        if w.count == 0 {
            return Err(format!("layer {:?}: \"count\" is 0 (at least 1)", w.name));
        }
        Ok(Layer {
            name: w.name,
            networks: w.networks,
            shape,
            batch_of: w.batch_of,
            count: w.count,
        })
    }
}
