//! A node's attributes, and the sliding window of Conv, ConvTranspose and the pools: kernel,
//! strides, dilations and pads (explicit or `auto_pad`), checked against the spatial rank.

use super::proto::{AttributeProto, NodeProto};
use super::tensor::dim;

fn attr<'a>(n: &'a NodeProto, key: &str) -> Option<&'a AttributeProto> {
    n.attribute.iter().find(|a| a.name.as_deref() == Some(key))
}

/// An integer attribute.
pub(super) fn int(n: &NodeProto, key: &str) -> Option<i64> {
    attr(n, key).and_then(|a| a.i)
}

/// A list-of-integers attribute.
pub(super) fn ints<'a>(n: &'a NodeProto, key: &str) -> Option<&'a [i64]> {
    attr(n, key).map(|a| a.ints.as_slice())
}

/// A list-of-floats attribute.
pub(super) fn floats<'a>(n: &'a NodeProto, key: &str) -> Option<&'a [f32]> {
    attr(n, key).map(|a| a.floats.as_slice())
}

/// A string attribute.
pub(super) fn string(n: &NodeProto, key: &str) -> Option<String> {
    attr(n, key)
        .and_then(|a| a.s.as_ref())
        .map(|s| String::from_utf8_lossy(s).into_owned())
}

/// A window over the spatial axes and the output size it gives.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    /// Padding before and after each spatial axis.
    pub begin: Vec<usize>,
    pub end: Vec<usize>,
    /// Output size per spatial axis.
    pub out: Vec<usize>,
}

/// A per-axis attribute of `r` positive values (1 each when absent).
pub(super) fn per_axis(
    n: &NodeProto,
    key: &str,
    r: usize,
    who: &str,
) -> Result<Vec<usize>, String> {
    let Some(v) = ints(n, key) else {
        return Ok(vec![1; r]);
    };
    if v.len() != r {
        return Err(format!(
            "{who}: {key} has {} values for {r} spatial axes",
            v.len()
        ));
    }
    v.iter()
        .map(|&x| match dim(x, &|| format!("{who}: {key}")) {
            Ok(0) => Err(format!("{who}: {key} holds 0")),
            d => d,
        })
        .collect()
}

/// The `pads` attribute: before and after each of `r` axes (0 when absent).
pub(super) fn explicit_pads(
    n: &NodeProto,
    r: usize,
    who: &str,
) -> Result<(Vec<usize>, Vec<usize>), String> {
    let pads = match ints(n, "pads") {
        None => vec![0; 2 * r],
        Some(p) if p.len() == 2 * r => p
            .iter()
            .map(|&x| dim(x, &|| format!("{who}: pads")))
            .collect::<Result<Vec<_>, _>>()?,
        Some(p) => return Err(format!("{who}: pads has {} values for {r} axes", p.len())),
    };
    Ok((pads[..r].to_vec(), pads[r..].to_vec()))
}

/// The window of node `n` over `spatial` input sizes with `kernel` (from the weights, or the
/// pool's `kernel_shape`); `ceil` is a pool's `ceil_mode`.
pub(super) fn window(
    n: &NodeProto,
    who: &str,
    spatial: &[usize],
    kernel: &[usize],
    ceil: bool,
) -> Result<Window, String> {
    let r = spatial.len();
    if kernel.len() != r {
        return Err(format!(
            "{who}: a {}-D kernel over {r} spatial axes",
            kernel.len()
        ));
    }
    if let Some(k) = ints(n, "kernel_shape") {
        if k.iter()
            .map(|&x| x as i128)
            .ne(kernel.iter().map(|&x| x as i128))
        {
            return Err(format!(
                "{who}: kernel_shape {k:?} differs from the weights' {kernel:?}"
            ));
        }
    }
    let strides = per_axis(n, "strides", r, who)?;
    let dilations = per_axis(n, "dilations", r, who)?;
    let eff: Vec<usize> = (0..r)
        .map(|i| (kernel[i].max(1) - 1) * dilations[i] + 1)
        .collect();
    let auto = string(n, "auto_pad").unwrap_or_else(|| "NOTSET".into());
    let (begin, end) = match auto.as_str() {
        "NOTSET" => explicit_pads(n, r, who)?,
        "VALID" => (vec![0; r], vec![0; r]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut b = vec![0; r];
            let mut e = vec![0; r];
            for i in 0..r {
                let out = spatial[i].div_ceil(strides[i]);
                let total = ((out.max(1) - 1) * strides[i] + eff[i]).saturating_sub(spatial[i]);
                let (small, big) = (total / 2, total - total / 2);
                (b[i], e[i]) = if auto == "SAME_UPPER" {
                    (small, big)
                } else {
                    (big, small)
                };
            }
            (b, e)
        }
        other => return Err(format!("{who}: auto_pad {other:?} is not an ONNX value")),
    };
    let mut out = Vec::with_capacity(r);
    for i in 0..r {
        let padded = spatial[i] + begin[i] + end[i];
        if padded < eff[i] {
            return Err(format!(
                "{who}: a window of {} does not fit {} padded to {padded} (axis {i})",
                eff[i], spatial[i]
            ));
        }
        let span = padded - eff[i];
        let mut o = if ceil {
            span.div_ceil(strides[i])
        } else {
            span / strides[i]
        } + 1;
        // A ceil-mode window must start inside the input or its leading padding.
        if ceil && (o - 1) * strides[i] >= spatial[i] + begin[i] {
            o -= 1;
        }
        out.push(o);
    }
    Ok(Window {
        kernel: kernel.to_vec(),
        strides,
        dilations,
        begin,
        end,
        out,
    })
}
