//! Shape rules of the layout ops: Reshape, Transpose, (Un)Squeeze, Concat, Split, Gather, Gemm,
//! MatMul, Pad, Resize, Slice, the reductions, Expand, Tile, DepthToSpace. Arguments that are
//! tensors (Reshape's shape, Pad's pads, ...) must be constants; a run-time one makes the output
//! unknown, with that as the reason.

use super::proto::NodeProto;
use super::tensor::{axis, broadcast, dim, input, product, Ins, Tensor};
use super::window::{floats, int, ints};

/// The constant values of input `k`, or the attribute `key` (older opsets), or `None`.
fn arg(
    n: &NodeProto,
    ins: &Ins,
    k: usize,
    key: &str,
    who: &str,
) -> Result<Option<Vec<i64>>, String> {
    match ins.get(k).copied().flatten() {
        Some(t) => t.ints.clone().map(Some).ok_or_else(|| {
            format!("{who}: input {k} ({key}) is computed at run time, not a constant")
        }),
        None => Ok(ints(n, key).map(<[i64]>::to_vec)),
    }
}

fn usizes(v: &[i64], who: &str, what: &str) -> Result<Vec<usize>, String> {
    v.iter()
        .map(|&x| dim(x, &|| format!("{who}: {what}")))
        .collect()
}

pub(super) fn rule(op: &str, n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let x = || input(ins, 0, who);
    match op {
        "Reshape" => reshape(n, who, x()?, arg(n, ins, 1, "shape", who)?),
        "Transpose" => {
            let s = &x()?.shape;
            let perm: Vec<usize> = match ints(n, "perm") {
                Some(p) => p
                    .iter()
                    .map(|&a| axis(a, s.len(), who))
                    .collect::<Result<_, _>>()?,
                None => (0..s.len()).rev().collect(),
            };
            if perm.len() != s.len() {
                return Err(format!("{who}: perm {perm:?} for rank {}", s.len()));
            }
            one(perm.iter().map(|&a| s[a]).collect())
        }
        "Squeeze" | "Unsqueeze" => squeeze(op, who, x()?, arg(n, ins, 1, "axes", who)?),
        "Concat" => concat(n, who, ins),
        "Split" => split(n, who, x()?, arg(n, ins, 1, "split", who)?),
        "Gather" => gather(n, who, ins),
        "Gemm" => {
            let (a, b) = (x()?, input(ins, 1, who)?);
            let (&[m0, m1], &[n0, n1]) = (&a.shape[..], &b.shape[..]) else {
                return Err(format!("{who}: Gemm of {:?} and {:?}", a.shape, b.shape));
            };
            let m = if int(n, "transA").unwrap_or(0) != 0 {
                m1
            } else {
                m0
            };
            let cols = if int(n, "transB").unwrap_or(0) != 0 {
                n0
            } else {
                n1
            };
            one(vec![m, cols])
        }
        "MatMul" | "MatMulInteger" | "QLinearMatMul" => matmul(op, who, ins),
        "Pad" => pad(n, who, ins),
        "Resize" | "Upsample" => resize(n, who, ins),
        "Slice" => slice(n, who, ins),
        _ if op.starts_with("Reduce") || op == "ArgMax" || op == "ArgMin" => reduce(n, who, ins),
        "ConstantOfShape" => one(usizes(
            &arg(n, ins, 0, "shape", who)?.unwrap_or_default(),
            who,
            "shape",
        )?),
        "Expand" => {
            let to = usizes(
                &arg(n, ins, 1, "shape", who)?.unwrap_or_default(),
                who,
                "shape",
            )?;
            one(broadcast(&x()?.shape, &to, who)?)
        }
        "Tile" => {
            let s = &x()?.shape;
            let r = usizes(
                &arg(n, ins, 1, "repeats", who)?.unwrap_or_default(),
                who,
                "repeats",
            )?;
            if r.len() != s.len() {
                return Err(format!("{who}: {} repeats for rank {}", r.len(), s.len()));
            }
            one(s.iter().zip(&r).map(|(a, b)| a * b).collect())
        }
        "DepthToSpace" | "SpaceToDepth" => depth_space(op, n, who, ins),
        _ => Err(format!(
            "{who}: this reader does not propagate shapes through {op}"
        )),
    }
}

fn concat(n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let ts: Vec<&Tensor> = ins.iter().flatten().copied().collect();
    let first = ts.first().ok_or_else(|| format!("{who}: no input"))?;
    let a = axis(
        int(n, "axis").ok_or_else(|| format!("{who}: no axis"))?,
        first.shape.len(),
        who,
    )?;
    let mut s = first.shape.clone();
    for t in &ts[1..] {
        let same = t.shape.len() == s.len() && (0..s.len()).all(|i| i == a || t.shape[i] == s[i]);
        if !same {
            return Err(format!(
                "{who}: {:?} does not concatenate with {:?} on axis {a}",
                t.shape, first.shape
            ));
        }
        s[a] += t.shape[a];
    }
    let mut out = Tensor::of(s);
    out.ints = ts
        .iter()
        .map(|t| t.ints.clone())
        .collect::<Option<Vec<_>>>()
        .map(|v| v.concat());
    Ok(vec![out])
}

fn gather(n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let x = || input(ins, 0, who);
    let (d, i) = (x()?, input(ins, 1, who)?);
    let a = axis(int(n, "axis").unwrap_or(0), d.shape.len(), who)?;
    let s = [&d.shape[..a], &i.shape[..], &d.shape[a + 1..]].concat();
    let mut out = Tensor::of(s);
    if let (Some(dv), Some(iv), 1) = (&d.ints, &i.ints, d.shape.len()) {
        let len = dv.len() as i64;
        out.ints = iv
            .iter()
            .map(|&j| dv.get(if j < 0 { j + len } else { j } as usize).copied())
            .collect();
    }
    Ok(vec![out])
}

fn matmul(op: &str, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let x = || input(ins, 0, who);
    let (a, b) = (
        x()?,
        input(ins, if op == "QLinearMatMul" { 3 } else { 1 }, who)?,
    );
    let (ra, rb) = (a.shape.len(), b.shape.len());
    if ra < 2 || rb < 2 {
        return Err(format!(
            "{who}: MatMul of rank {ra} and {rb} is not followed"
        ));
    }
    if a.shape[ra - 1] != b.shape[rb - 2] {
        return Err(format!("{who}: MatMul of {:?} and {:?}", a.shape, b.shape));
    }
    let mut s = broadcast(&a.shape[..ra - 2], &b.shape[..rb - 2], who)?;
    s.extend([a.shape[ra - 2], b.shape[rb - 1]]);
    one(s)
}

fn pad(n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let x = || input(ins, 0, who);
    let s = &x()?.shape;
    let p = arg(n, ins, 1, "pads", who)?.ok_or_else(|| format!("{who}: no pads"))?;
    if ins.get(3).copied().flatten().is_some() || p.len() != 2 * s.len() {
        return Err(format!(
            "{who}: pads {p:?} (or axes) for rank {} are not followed",
            s.len()
        ));
    }
    let r = s.len();
    (0..r)
        .map(|i| {
            let d = s[i] as i64 + p[i] + p[i + r];
            dim(d, &|| format!("{who}: padded size")).and_then(|d| {
                if d > 0 {
                    Ok(d)
                } else {
                    Err(format!("{who}: padded to {d}"))
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(one)
}

fn reduce(n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let x = || input(ins, 0, who);
    let s = &x()?.shape;
    let axes = match int(n, "axis") {
        Some(a) => Some(vec![a]),
        None => arg(n, ins, 1, "axes", who)?,
    };
    let keep = int(n, "keepdims").unwrap_or(1) != 0;
    let all = axes.as_ref().is_none_or(Vec::is_empty);
    if all && int(n, "noop_with_empty_axes").unwrap_or(0) != 0 {
        return one(s.clone());
    }
    let axes: Vec<usize> = match axes.filter(|a| !a.is_empty()) {
        Some(a) => a
            .iter()
            .map(|&v| axis(v, s.len(), who))
            .collect::<Result<_, _>>()?,
        None => (0..s.len()).collect(),
    };
    let out = s
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keep) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        });
    one(out.collect())
}

fn depth_space(op: &str, n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let x = || input(ins, 0, who);
    let s = &x()?.shape;
    let b = dim(int(n, "blocksize").unwrap_or(0), &|| {
        format!("{who}: blocksize")
    })?;
    let &[nb, c, h, w] = &s[..] else {
        return Err(format!("{who}: rank {} input", s.len()));
    };
    if b == 0
        || (op == "DepthToSpace" && c % b.saturating_mul(b) != 0)
        || (op == "SpaceToDepth" && (h % b != 0 || w % b != 0))
    {
        return Err(format!("{who}: blocksize {b} does not divide {s:?}"));
    }
    one(if op == "DepthToSpace" {
        vec![nb, c / (b * b), h * b, w * b]
    } else {
        vec![nb, product(&[c, b, b], who)?, h / b, w / b]
    })
}

/// One output of this shape.
fn one(s: Vec<usize>) -> Result<Vec<Tensor>, String> {
    Ok(vec![Tensor::of(s)])
}

fn reshape(
    n: &NodeProto,
    who: &str,
    x: &Tensor,
    to: Option<Vec<i64>>,
) -> Result<Vec<Tensor>, String> {
    let to = to.ok_or_else(|| format!("{who}: no shape"))?;
    let zero_copies = int(n, "allowzero").unwrap_or(0) == 0;
    let total = product(&x.shape, who)?;
    let mut out = Vec::with_capacity(to.len());
    let mut infer = None;
    for (i, &d) in to.iter().enumerate() {
        match d {
            0 if zero_copies => out.push(
                *x.shape
                    .get(i)
                    .ok_or_else(|| format!("{who}: 0 at axis {i} beyond the input's rank"))?,
            ),
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            d => out.push(dim(d, &|| format!("{who}: shape"))?),
        }
    }
    let known = product(&out, who)?;
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("{who}: {:?} does not reshape to {to:?}", x.shape));
        }
        out[i] = total / known;
    } else if known != total {
        return Err(format!("{who}: {:?} does not reshape to {to:?}", x.shape));
    }
    let mut t = Tensor::of(out);
    t.ints = x.ints.clone();
    Ok(vec![t])
}

fn squeeze(op: &str, who: &str, x: &Tensor, axes: Option<Vec<i64>>) -> Result<Vec<Tensor>, String> {
    let s = &x.shape;
    let out = if op == "Unsqueeze" {
        let axes = axes.ok_or_else(|| format!("{who}: no axes"))?;
        let r = s.len() + axes.len();
        let axes: Vec<usize> = axes
            .iter()
            .map(|&a| axis(a, r, who))
            .collect::<Result<_, _>>()?;
        let mut rest = s.iter();
        (0..r)
            .map(|i| {
                if axes.contains(&i) {
                    Some(1)
                } else {
                    rest.next().copied()
                }
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{who}: repeated axes"))?
    } else {
        let axes: Vec<usize> = match axes {
            Some(a) => a
                .iter()
                .map(|&v| axis(v, s.len(), who))
                .collect::<Result<_, _>>()?,
            None => (0..s.len()).filter(|&i| s[i] == 1).collect(),
        };
        if let Some(&a) = axes.iter().find(|&&a| s[a] != 1) {
            return Err(format!("{who}: axis {a} of {s:?} is not 1"));
        }
        s.iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect()
    };
    let mut t = Tensor::of(out);
    t.ints = x.ints.clone();
    Ok(vec![t])
}

fn split(
    n: &NodeProto,
    who: &str,
    x: &Tensor,
    sizes: Option<Vec<i64>>,
) -> Result<Vec<Tensor>, String> {
    let s = &x.shape;
    let a = axis(int(n, "axis").unwrap_or(0), s.len(), who)?;
    let parts = n.output.len().max(1);
    let sizes = match sizes {
        Some(v) => usizes(&v, who, "split")?,
        None => {
            let each = s[a].div_ceil(parts);
            (0..parts)
                .map(|i| each.min(s[a].saturating_sub(i * each)))
                .collect()
        }
    };
    if sizes.iter().sum::<usize>() != s[a] {
        return Err(format!("{who}: split {sizes:?} of {} on axis {a}", s[a]));
    }
    Ok(sizes
        .iter()
        .map(|&d| {
            let mut o = s.clone();
            o[a] = d;
            Tensor::of(o)
        })
        .collect())
}

fn resize(n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let s = &input(ins, 0, who)?.shape;
    let op = n.op_type.as_deref().unwrap_or("");
    // Resize-10 and Upsample take scales as input 1; Resize-11+ as input 2, sizes as input 3.
    let old = op == "Upsample" || ins.len() == 2;
    if let Some(sizes) = ins.get(3).copied().flatten() {
        let v = sizes
            .ints
            .as_ref()
            .ok_or_else(|| format!("{who}: sizes computed at run time"))?;
        if ins.get(4).is_some() || int(n, "axes").is_some() || v.len() != s.len() {
            return Err(format!(
                "{who}: sizes {v:?} for rank {} are not followed",
                s.len()
            ));
        }
        return Ok(vec![Tensor::of(usizes(v, who, "sizes")?)]);
    }
    let scales = match ins.get(if old { 1 } else { 2 }).copied().flatten() {
        Some(t) => t
            .floats
            .clone()
            .ok_or_else(|| format!("{who}: scales computed at run time"))?,
        None => floats(n, "scales")
            .map(<[f32]>::to_vec)
            .ok_or_else(|| format!("{who}: neither scales nor sizes"))?,
    };
    if scales.len() != s.len() || scales.iter().any(|&f| !(f > 0.0 && f < 1e6)) {
        return Err(format!("{who}: scales {scales:?} for rank {}", s.len()));
    }
    Ok(vec![Tensor::of(
        s.iter()
            .zip(&scales)
            .map(|(&d, &f)| (d as f64 * f as f64).floor() as usize)
            .collect(),
    )])
}

fn slice(n: &NodeProto, who: &str, ins: &Ins) -> Result<Vec<Tensor>, String> {
    let x = input(ins, 0, who)?;
    let s = &x.shape;
    let starts = arg(n, ins, 1, "starts", who)?.ok_or_else(|| format!("{who}: no starts"))?;
    let ends = arg(n, ins, 2, "ends", who)?.ok_or_else(|| format!("{who}: no ends"))?;
    let axes = arg(n, ins, 3, "axes", who)?.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = arg(n, ins, 4, "steps", who)?.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(format!(
            "{who}: starts, ends, axes and steps differ in length"
        ));
    }
    let mut out = s.clone();
    let mut vals = x.ints.clone().filter(|_| s.len() == 1);
    for i in 0..starts.len() {
        let a = axis(axes[i], s.len(), who)?;
        let d = s[a] as i64;
        let step = steps[i];
        if step <= 0 {
            return Err(format!("{who}: step {step} is not followed"));
        }
        let at = |v: i64| (if v < 0 { v.saturating_add(d) } else { v }).clamp(0, d);
        let (b, e) = (at(starts[i]), at(ends[i]));
        out[a] = if e > b {
            ((e - b + step - 1) / step) as usize
        } else {
            0
        };
        vals = vals.map(|v| {
            v[b as usize..e.max(b) as usize]
                .iter()
                .step_by(step as usize)
                .copied()
                .collect()
        });
    }
    let mut t = Tensor::of(out);
    t.ints = vals;
    Ok(vec![t])
}
