//! What is known of each tensor of a graph: its static shape and, for small integer or float
//! tensors (Reshape's shape, Pad's pads, Resize's scales), its values. Facts come from the
//! initializers, the graph's inputs, `value_info` and a propagation through the nodes in the
//! graph's (topological) order; an unknown tensor carries the reason, first cause kept.

use std::collections::HashMap;

use super::ops;
use super::proto::{type_proto, GraphProto, ValueInfoProto};
use super::tensor::{constant, dim, Fact, Tensor};

/// Every tensor's fact after propagation.
pub(super) struct Facts {
    map: HashMap<String, Fact>,
}

impl Facts {
    /// The fact of `name`; an absent name is unknown with a reason naming it.
    pub(super) fn get(&self, name: &str) -> Fact {
        lookup(&self.map, name)
    }

    /// Propagates through the graph. Errors are a malformed file (a bad dimension, a value_info
    /// that contradicts the propagation), naming the tensor or node.
    pub(super) fn of_graph(g: &GraphProto) -> Result<Facts, String> {
        let mut map: HashMap<String, Fact> = HashMap::new();
        for vi in &g.input {
            let name = vi.name.clone().unwrap_or_default();
            map.insert(name.clone(), declared(vi, true)?);
        }
        for t in &g.initializer {
            let name = t.name.clone().unwrap_or_default();
            map.insert(name.clone(), Ok(constant(t, &name)?));
        }
        let mut stated: HashMap<String, Vec<usize>> = HashMap::new();
        for vi in g.value_info.iter().chain(&g.output) {
            if let Ok(t) = declared(vi, false)? {
                stated.insert(vi.name.clone().unwrap_or_default(), t.shape);
            }
        }
        for (i, n) in g.node.iter().enumerate() {
            let ins: Vec<Option<Fact>> = n
                .input
                .iter()
                .map(|x| (!x.is_empty()).then(|| lookup(&map, x)))
                .collect();
            let outs = ops::infer(n, &ins, i);
            for (k, name) in n.output.iter().enumerate() {
                if name.is_empty() {
                    continue;
                }
                let mut fact = outs.get(k).cloned().unwrap_or_else(|| {
                    Err(format!("output {k} of {} is not followed", ops::who(n, i)))
                });
                if let Some(shape) = stated.get(name) {
                    fact = match fact {
                        Ok(t) if t.shape != *shape => {
                            return Err(format!(
                                "tensor '{name}': value_info says {shape:?}, but {} gives {:?}",
                                ops::who(n, i),
                                t.shape
                            ))
                        }
                        Ok(t) => Ok(t),
                        Err(_) => Ok(Tensor::of(shape.clone())),
                    };
                }
                map.insert(name.clone(), fact);
            }
        }
        Ok(Facts { map })
    }
}

fn lookup(map: &HashMap<String, Fact>, name: &str) -> Fact {
    map.get(name)
        .cloned()
        .unwrap_or_else(|| Err(format!("tensor '{name}' is produced by no node before it")))
}

/// The shape a value_info or graph input declares: `Ok(Err(reason))` when it is not static. A
/// graph input's symbolic first dimension (rank >= 3: the batch) is read as 1.
fn declared(vi: &ValueInfoProto, input: bool) -> Result<Fact, String> {
    let name = vi.name.clone().unwrap_or_default();
    let Some(type_proto::Value::TensorType(t)) = vi.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Ok(Err(format!("'{name}' is not a tensor of declared type")));
    };
    let Some(shape) = &t.shape else {
        return Ok(Err(format!("graph input '{name}' declares no shape")));
    };
    let rank = shape.dim.len();
    let mut out = Vec::with_capacity(rank);
    for (axis, d) in shape.dim.iter().enumerate() {
        use super::proto::tensor_shape_proto::dimension::Value;
        match &d.value {
            Some(Value::DimValue(v)) if *v > 0 => out.push(dim(*v, &|| format!("'{name}'"))?),
            Some(Value::DimValue(v)) if *v < 0 => {
                return Err(format!("'{name}': dimension {v} (axis {axis}) is negative"))
            }
            _ if input && axis == 0 && rank >= 3 => out.push(1),
            Some(Value::DimParam(p)) => {
                return Ok(Err(format!(
                    "graph input '{name}' has a symbolic dimension '{p}' (axis {axis})"
                )))
            }
            _ => {
                return Ok(Err(format!(
                    "graph input '{name}' has an unknown dimension (axis {axis})"
                )))
            }
        }
    }
    Ok(Ok(Tensor::of(out)))
}
