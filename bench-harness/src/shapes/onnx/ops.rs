//! Shape rules of the ONNX ops a CNN puts before its convolutions: element-wise and broadcast
//! ops, convolutions and pools, and the layout ops (Reshape, Concat, Split, Pad, Resize, Slice,
//! ...) with the integer arithmetic exporters use to compute their arguments (Shape, Gather,
//! Concat, Unsqueeze). Any other op makes its outputs unknown, with its name as the reason.

use super::proto::NodeProto;
use super::tensor::{axis, broadcast, dim, input, product, Fact, Ins, Tensor, MAX_DIM};
use super::window::{explicit_pads, int, ints, per_axis, string, window};

/// Ops whose first output has the first input's shape.
const SAME: &[&str] = &[
    "Relu",
    "Clip",
    "Sigmoid",
    "Tanh",
    "HardSigmoid",
    "HardSwish",
    "LeakyRelu",
    "PRelu",
    "Elu",
    "Selu",
    "Celu",
    "Softplus",
    "Softsign",
    "Mish",
    "Gelu",
    "Erf",
    "Exp",
    "Log",
    "Sqrt",
    "Neg",
    "Abs",
    "Floor",
    "Ceil",
    "Round",
    "Reciprocal",
    "Sign",
    "Not",
    "Dropout",
    "BatchNormalization",
    "InstanceNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "LRN",
    "Softmax",
    "LogSoftmax",
    "Hardmax",
    "QuantizeLinear",
    "DequantizeLinear",
    "DynamicQuantizeLinear",
    "ThresholdedRelu",
    "Shrink",
    "Swish",
    "QuickGelu",
    "Sin",
    "Cos",
    "IsNaN",
    "IsInf",
];

/// Ops whose output is the broadcast of their inputs.
const BROADCAST: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Max",
    "Min",
    "Sum",
    "Mean",
    "Where",
    "Equal",
    "Greater",
    "Less",
    "GreaterOrEqual",
    "LessOrEqual",
    "And",
    "Or",
    "Xor",
    "Mod",
    "BitShift",
];

/// How a node is named in messages: `node 'name' (Op)`, or by its index when unnamed.
pub(super) fn who(n: &NodeProto, i: usize) -> String {
    let op = n.op_type.as_deref().unwrap_or("?");
    match n.name.as_deref() {
        Some(name) if !name.is_empty() => format!("node '{name}' ({op})"),
        _ => format!("node #{i} ({op})"),
    }
}

/// The facts of node `n`'s outputs, given its inputs' (`None`: an absent optional input).
pub(super) fn infer(n: &NodeProto, ins: &[Option<Fact>], i: usize) -> Vec<Fact> {
    let who = who(n, i);
    let outs = n.output.len().max(1);
    let mut known = Vec::with_capacity(ins.len());
    for f in ins {
        match f {
            None => known.push(None),
            Some(Ok(t)) => known.push(Some(t)),
            Some(Err(e)) => return vec![Err(e.clone()); outs],
        }
    }
    let checked = rule(n, &who, &known).and_then(|ts| {
        match ts.iter().flat_map(|t| &t.shape).find(|&&d| d > MAX_DIM) {
            Some(d) => Err(format!("{who}: gives a dimension of {d}, beyond {MAX_DIM}")),
            None => Ok(ts),
        }
    });
    match checked {
        Ok(ts) => ts.into_iter().map(Ok).collect(),
        Err(e) => vec![Err(e); outs],
    }
}

fn rule(n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let op = n.op_type.as_deref().unwrap_or("");
    let x = || input(ins, 0, who);
    match op {
        _ if SAME.contains(&op) => Ok(vec![Tensor::of(x()?.shape.clone())]),
        "Identity" | "Cast" => Ok(vec![x()?.clone()]),
        _ if BROADCAST.contains(&op) => broadcast_op(op, who, ins),
        "Conv" | "ConvInteger" | "FusedConv" | "QLinearConv" => {
            let w = input(ins, if op == "QLinearConv" { 3 } else { 1 }, who)?;
            let (x, w) = (x()?, w);
            if x.shape.len() < 3 || w.shape.len() != x.shape.len() {
                return Err(format!(
                    "{who}: input rank {} and weight rank {}",
                    x.shape.len(),
                    w.shape.len()
                ));
            }
            let win = window(n, who, &x.shape[2..], &w.shape[2..], false)?;
            Ok(vec![Tensor::of(
                [&[x.shape[0], w.shape[0]][..], &win.out].concat(),
            )])
        }
        "ConvTranspose" => conv_transpose(n, who, x()?, input(ins, 1, who)?),
        "MaxPool" | "AveragePool" | "LpPool" => {
            let x = x()?;
            let k: Vec<usize> = ints(n, "kernel_shape")
                .ok_or_else(|| format!("{who}: no kernel_shape"))?
                .iter()
                .map(|&v| dim(v, &|| format!("{who}: kernel_shape")))
                .collect::<Result<_, _>>()?;
            let spatial = x.shape.get(2..).unwrap_or_default();
            let ceil = int(n, "ceil_mode").unwrap_or(0) != 0;
            let win = window(n, who, spatial, &k, ceil)?;
            let shape = [&x.shape[..2], &win.out].concat();
            Ok(vec![Tensor::of(shape.clone()), Tensor::of(shape)])
        }
        "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => {
            let s = &x()?.shape;
            Ok(vec![Tensor::of(
                s.iter()
                    .enumerate()
                    .map(|(i, &d)| if i < 2 { d } else { 1 })
                    .collect(),
            )])
        }
        "Flatten" => {
            let s = &x()?.shape;
            let a = if s.is_empty() {
                0
            } else {
                axis(int(n, "axis").unwrap_or(1), s.len() + 1, who)?
            };
            Ok(vec![Tensor::of(vec![
                product(&s[..a], who)?,
                product(&s[a..], who)?,
            ])])
        }
        "Shape" => {
            let s = &x()?.shape;
            let r = s.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (a, b) = (
                clamp(int(n, "start").unwrap_or(0)),
                clamp(int(n, "end").unwrap_or(r)),
            );
            let v: Vec<i64> = s[a..b.max(a)].iter().map(|&d| d as i64).collect();
            Ok(vec![Tensor::ints(vec![v.len()], v)])
        }
        "Constant" => constant(n, who),
        _ => super::layout::rule(op, n, who, ins),
    }
}

/// A Constant node's value.
fn constant(n: &NodeProto, who: &str) -> Result<Vec<Tensor>, String> {
    if let Some(t) = n.attribute.iter().find_map(|a| a.t.as_ref()) {
        return Ok(vec![super::tensor::constant(t, who)?]);
    }
    if let Some(v) = ints(n, "value_ints") {
        return Ok(vec![Tensor::ints(vec![v.len()], v.to_vec())]);
    }
    if let Some(v) = int(n, "value_int") {
        return Ok(vec![Tensor::ints(vec![], vec![v])]);
    }
    if let Some(v) = super::window::floats(n, "value_floats") {
        return Ok(vec![Tensor {
            shape: vec![v.len()],
            ints: None,
            floats: Some(v.to_vec()),
        }]);
    }
    Err(format!(
        "{who}: a constant of a kind this reader does not read"
    ))
}

/// A broadcast op; integer arithmetic on small constants (shape computations) is folded.
fn broadcast_op(op: &str, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let present: Vec<&Tensor> = ins.iter().flatten().copied().collect();
    let first = present.first().ok_or_else(|| format!("{who}: no input"))?;
    let mut shape = first.shape.clone();
    for t in &present[1..] {
        shape = broadcast(&shape, &t.shape, who)?;
    }
    let mut out = Tensor::of(shape);
    if let [a, b] = present[..] {
        if let (Some(x), Some(y)) = (&a.ints, &b.ints) {
            let len = x.len().max(y.len());
            let get = |v: &Vec<i64>, i: usize| v.get(if v.len() == 1 { 0 } else { i }).copied();
            let f = |p: i64, q: i64| match op {
                "Add" => p.checked_add(q),
                "Sub" => p.checked_sub(q),
                "Mul" => p.checked_mul(q),
                "Div" => p.checked_div(q),
                "Max" => Some(p.max(q)),
                "Min" => Some(p.min(q)),
                _ => None,
            };
            out.ints = (0..len).map(|i| f(get(x, i)?, get(y, i)?)).collect();
        }
    }
    Ok(vec![out])
}

/// ConvTranspose: `output_shape` when given, else stride, padding and `output_padding`.
fn conv_transpose(n: &NodeProto, who: &str, x: &Tensor, w: &Tensor) -> Result<Vec<Tensor>, String> {
    if x.shape.len() < 3 || w.shape.len() != x.shape.len() {
        return Err(format!(
            "{who}: input rank {} and weight rank {}",
            x.shape.len(),
            w.shape.len()
        ));
    }
    let g = dim(int(n, "group").unwrap_or(1), &|| format!("{who}: group"))?;
    let k = w.shape[1] * g;
    let spatial = &x.shape[2..];
    let r = spatial.len();
    if let Some(o) = ints(n, "output_shape") {
        let o = o.get(o.len().saturating_sub(r)..).unwrap_or_default();
        let o: Vec<usize> = o
            .iter()
            .map(|&v| dim(v, &|| format!("{who}: output_shape")))
            .collect::<Result<_, _>>()?;
        return Ok(vec![Tensor::of([&[x.shape[0], k][..], &o].concat())]);
    }
    if string(n, "auto_pad").is_some_and(|a| a != "NOTSET") {
        return Err(format!(
            "{who}: auto_pad without output_shape is not followed"
        ));
    }
    let strides = per_axis(n, "strides", r, who)?;
    let dilations = per_axis(n, "dilations", r, who)?;
    let extra = match ints(n, "output_padding") {
        None => vec![0; r],
        Some(v) if v.len() == r => v
            .iter()
            .map(|&p| dim(p, &|| format!("{who}: output_padding")))
            .collect::<Result<_, _>>()?,
        Some(v) => return Err(format!("{who}: output_padding {v:?} for {r} axes")),
    };
    let (begin, end) = explicit_pads(n, r, who)?;
    let mut out = vec![x.shape[0], k];
    for i in 0..r {
        let eff = (w.shape[2 + i].max(1) - 1) * dilations[i] + 1;
        let full = strides[i] * (spatial[i].max(1) - 1) + eff + extra[i];
        out.push(
            full.checked_sub(begin[i] + end[i])
                .filter(|&o| o > 0)
                .ok_or_else(|| format!("{who}: pads larger than the output"))?,
        );
    }
    Ok(vec![Tensor::of(out)])
}
