//! ONNX models as layer lists: every Conv of the main graph (and the convolution inside
//! ConvInteger, QLinearConv and onnxruntime's FusedConv, measured as f32), with its input shape
//! from the graph's inputs, `value_info` or the propagation of [`graph`]; groups, strides,
//! dilations, pads and `auto_pad` as the node says. 1-D convolutions are read as `1 x k`.
//!
//! The file is decoded by `prost` with types generated from the ONNX .proto
//! (`scripts/gen-onnx-proto.sh`). A convolution whose input shape cannot be known (a symbolic
//! height, a shape computed at run time, an op the propagation does not follow), a 3-D one and
//! a transposed one are listed with the reason and not measured; a malformed file or node is an
//! error naming it. Identical convolutions of one model are one layer with a multiplicity.
//! Subgraphs (If, Loop bodies) are not read.

mod graph;
mod layout;
mod ops;
#[allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]
mod proto;
mod sample;
mod tensor;
mod window;

pub use sample::sample;
#[cfg(test)]
pub(crate) use sample::{Attr, Builder};

use prost::Message as _;
use simdconv::{ConvShape, Padding};

use self::graph::Facts;
use self::proto::{ModelProto, NodeProto};
use super::benchdnn::Problem;
use crate::schema::layer::Layer;
use crate::schema::results::CoverageGap;

/// A model's convolutions: those measured, and those listed with the reason they are not.
#[derive(Debug, Default)]
pub(crate) struct Model {
    pub layers: Vec<Problem>,
    pub unknown: Vec<CoverageGap>,
}

/// Reads a model's convolutions; `model` names its layers (`model:node`), `file` its messages.
pub(crate) fn read(bytes: &[u8], model: &str, file: &str) -> Result<Model, String> {
    let m = ModelProto::decode(bytes).map_err(|e| format!("{file}: not an ONNX model: {e}"))?;
    let g = m
        .graph
        .as_ref()
        .ok_or_else(|| format!("{file}: the model has no graph"))?;
    let facts = Facts::of_graph(g).map_err(|e| format!("{file}: {e}"))?;
    let mut out = Model::default();
    let mut convs = 0;
    for (i, n) in g.node.iter().enumerate() {
        let op = n.op_type.as_deref().unwrap_or("");
        let who = ops::who(n, i);
        let name = match n.name.as_deref() {
            Some(s) if !s.is_empty() => format!("{model}:{s}"),
            _ => format!("{model}:{op}_{i}"),
        };
        let weight = match op {
            "Conv" | "ConvInteger" | "FusedConv" => 1,
            "QLinearConv" => 3,
            "ConvTranspose" => {
                out.unknown.push(gap(
                    &name,
                    "a transposed convolution (ConvTranspose): not measured",
                ));
                continue;
            }
            _ => continue,
        };
        convs += 1;
        match conv(n, &who, &facts, weight).map_err(|e| format!("{file}: {e}"))? {
            Ok(shape) => add(
                &mut out.layers,
                &name,
                model,
                &shape,
                format!("{file}: {who}"),
            ),
            Err(why) => out.unknown.push(gap(&name, &why)),
        }
    }
    if out.layers.is_empty() {
        let first = out
            .unknown
            .first()
            .map_or(String::new(), |g| format!(" ({}: {})", g.layer, g.reason));
        return Err(format!(
            "{file}: none of its {convs} convolutions has a shape that can be measured{first}"
        ));
    }
    Ok(out)
}

/// An ONNX model's layers, named `model:node`, and its convolutions that cannot be measured,
/// with why: the reader of `--shapes model.onnx` over bytes already read.
pub fn layers(bytes: &[u8], model: &str) -> Result<(Vec<Layer>, Vec<CoverageGap>), String> {
    let m = read(bytes, model, model)?;
    Ok((m.layers.into_iter().map(|p| p.layer).collect(), m.unknown))
}

fn gap(layer: &str, reason: &str) -> CoverageGap {
    CoverageGap {
        layer: layer.to_string(),
        reason: reason.to_string(),
    }
}

/// A layer, or one more of an identical layer read before.
fn add(layers: &mut Vec<Problem>, name: &str, model: &str, shape: &ConvShape, at: String) {
    let layer = Layer::new(name, vec![model.to_string()], shape);
    match layers.iter_mut().find(|p| p.layer.shape == layer.shape) {
        Some(p) => p.layer.count += 1,
        None => layers.push(Problem { layer, at }),
    }
}

/// A convolution node's shape: `Ok(Err(reason))` when it cannot be measured, `Err` when the
/// node contradicts its inputs.
fn conv(
    n: &NodeProto,
    who: &str,
    facts: &Facts,
    weight: usize,
) -> Result<Result<ConvShape, String>, String> {
    let fact = |k: usize| match n.input.get(k) {
        Some(name) if !name.is_empty() => facts.get(name),
        _ => Err(format!("{who}: input {k} is absent")),
    };
    let (x, w) = match (fact(0), fact(weight)) {
        (Ok(x), Ok(w)) => (x, w),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(format!("shape unknown: {e}"))),
    };
    let rank = x.shape.len();
    if rank == 5 {
        return Ok(Err("a 3-D convolution: the suite's kernels are 2-D".into()));
    }
    if !(3..=4).contains(&rank) || w.shape.len() != rank {
        return Err(format!(
            "{who}: input {:?} and weights {:?} are not a 1-D or 2-D convolution",
            x.shape, w.shape
        ));
    }
    let win = window::window(n, who, &x.shape[2..], &w.shape[2..], false)?;
    let groups = tensor::dim(window::int(n, "group").unwrap_or(1), &|| {
        format!("{who}: group")
    })?;
    let (c, k) = (x.shape[1], w.shape[0]);
    if groups == 0 || c != w.shape[1] * groups || k % groups != 0 {
        return Err(format!(
            "{who}: {c} input channels, weights {:?} and group {groups} do not agree",
            w.shape
        ));
    }
    // A 1-D convolution is a 2-D one over a single row.
    let two = |v: &[usize], fill: usize| {
        if v.len() == 1 {
            [fill, v[0]]
        } else {
            [v[0], v[1]]
        }
    };
    let [h, wd] = two(&x.shape[2..], 1);
    let [r, s] = two(&win.kernel, 1);
    let [sh, sw] = two(&win.strides, 1);
    let [dh, dw] = two(&win.dilations, 1);
    let [top, left] = two(&win.begin, 0);
    let [bottom, right] = two(&win.end, 0);
    let shape = ConvShape::builder(x.shape[0], h, wd, c, k, r, s)
        .stride_hw(sh, sw)
        .dilation_hw(dh, dw)
        .padding(Padding {
            top,
            left,
            bottom,
            right,
        })
        .groups(groups)
        .build();
    Ok(shape.map_err(|e| format!("the suite refuses this shape: {e}")))
}

/// The tensor facts of a model, for tests: each named tensor's shape or why it is unknown.
#[cfg(test)]
pub(crate) fn facts(
    bytes: &[u8],
    names: &[&str],
) -> Result<Vec<Result<Vec<usize>, String>>, String> {
    let m = ModelProto::decode(bytes).map_err(|e| e.to_string())?;
    let f = Facts::of_graph(&m.graph.unwrap_or_default())?;
    Ok(names
        .iter()
        .map(|n| f.get(n).map(|t: tensor::Tensor| t.shape))
        .collect())
}
