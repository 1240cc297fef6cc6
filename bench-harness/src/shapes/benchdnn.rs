//! oneDNN benchdnn convolution problem descriptors (`mb1ic64ih56oc64oh56kh3ph1n"resnet_50:c2*3"`)
//! and their batch files, read into layers by benchdnn's own rules for what a missing key means.
//!
//! Accepted keys: `g mb ic ih iw oc oh ow kh kw sh sw ph pw dh dw` and the name `n` (quoted or
//! not, to the end of the descriptor; a trailing `*N` is the layer's multiplicity). `_` is a
//! separator. Missing keys, as benchdnn deduces them:
//! - `g` 1, `mb` 2 (benchdnn's default minibatch; a `--mb=N` line overrides it), `sh`/`sw` 1,
//!   `dh`/`dw` 0 (benchdnn counts dilation from 0: `dh1` skips one row, a dilation of 2);
//! - `ic` and `oc` are required, and on each spatial axis the input and kernel size;
//! - no `w` key at all: the `w` axis copies the `h` one (a square problem); no `h` key at all: a
//!   1-D problem, run as a 1-row image;
//! - no output size: `o = (i - ((k - 1) * (d + 1) + 1) + 2p) / s + 1` with `p` 0 if not given;
//!   an output size without padding: `p = ((o - 1) s - i + (k - 1)(d + 1) + 1) / 2`; the far side
//!   is padded as the near one where that gives the output (as frameworks pad), else as much as
//!   the output needs (asymmetric padding, at most a stride more than the near side).
//!
//! Refused, with the file, line and key: 3-D problems (`id od kd sd pd dd`), unknown keys, values
//! that are not non-negative integers, inconsistent sizes (an output the other sizes cannot give),
//! a channel count that the groups do not divide. Option lines: `--mb=N` (0 restores each line's
//! own), `--dir=FWD_B|FWD_D|FWD_I`, `--cfg=f32`, `--dt=f32`, `--batch=FILE` (read relative to the
//! file, nesting at most 8 deep), and options that do not change a problem's shape (`--reset`,
//! `--conv`, `--alg=`, `--stag=`, `--wtag=`, `--dtag=`, `--attr-*`, `--mode=`, `--skip-impl=`)
//! are accepted; `--deconv` (transposed convolution), backward directions, other data types and
//! every other option are refused. `#` starts a comment.

use std::path::Path;

use simdconv::record::ShapeRecord;
use simdconv::{ConvShape, Padding};

use crate::schema::layer::Layer;

/// Where a problem came from, for error messages: `FILE:LINE`.
pub(crate) type At = String;

/// One problem of a batch file, named and weighted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// The layer (its name is the descriptor's `n`, else the descriptor itself).
    pub layer: Layer,
    /// Where it was read.
    pub at: At,
}

/// Options that stay in force across lines, as in benchdnn.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    /// `--mb=N`: overrides each problem's minibatch when non-zero.
    mb: usize,
}

/// Nesting limit of `--batch=` files (a file that includes itself is an error, not a hang).
const MAX_DEPTH: usize = 8;

/// The layers of benchdnn text that includes no other file (`--batch=` lines are refused).
pub fn parse(text: &str) -> Result<Vec<Layer>, String> {
    let mut no_include = |p: &Path| Err(format!("{}: includes are not read here", p.display()));
    read(text, Path::new("<text>"), &mut no_include)
        .map(|ps| ps.into_iter().map(|p| p.layer).collect())
}

/// Reads a batch file's problems (text already read; `path` for messages and `--batch=`).
pub(crate) fn read(
    text: &str,
    path: &Path,
    include: &mut dyn FnMut(&Path) -> Result<String, String>,
) -> Result<Vec<Problem>, String> {
    let mut out = Vec::new();
    read_into(text, path, include, &mut State::default(), 0, &mut out)?;
    Ok(out)
}

fn read_into(
    text: &str,
    path: &Path,
    include: &mut dyn FnMut(&Path) -> Result<String, String>,
    state: &mut State,
    depth: usize,
    out: &mut Vec<Problem>,
) -> Result<(), String> {
    for (i, raw) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        let line = strip_comment(raw);
        for token in tokens(line).map_err(|e| format!("{at}: {e}"))? {
            if let Some(opt) = token.strip_prefix("--") {
                if let Some(file) = opt.strip_prefix("batch=") {
                    if depth >= MAX_DEPTH {
                        return Err(format!(
                            "{at}: --batch={file}: batch files nested more than {MAX_DEPTH} deep"
                        ));
                    }
                    let inner = path.parent().unwrap_or(Path::new(".")).join(file);
                    let text = include(&inner).map_err(|e| format!("{at}: --batch={file}: {e}"))?;
                    read_into(&text, &inner, include, state, depth + 1, out)?;
                } else {
                    option(opt, state).map_err(|e| format!("{at}: --{opt}: {e}"))?;
                }
                continue;
            }
            let layer = descriptor(&token, *state).map_err(|e| format!("{at}: {token}: {e}"))?;
            out.push(Problem {
                layer,
                at: at.clone(),
            });
        }
    }
    Ok(())
}

/// The line up to a `#` that is not inside a quoted name.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, ch) in line.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Whitespace-separated tokens; a quoted name may hold spaces.
fn tokens(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                cur.push(ch);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted name is not closed".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// Applies an option line (without its `--`).
fn option(opt: &str, state: &mut State) -> Result<(), String> {
    let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
    match key {
        "mb" => {
            state.mb = value
                .parse()
                .map_err(|_| format!("\"{value}\" is not a minibatch size"))?;
        }
        "dir" => {
            if !matches!(value, "FWD_B" | "FWD_D" | "FWD_I") {
                return Err(format!(
                    "direction {value}: only forward convolution is measured (FWD_B, FWD_D, FWD_I)"
                ));
            }
        }
        "cfg" | "dt" => {
            if value.split(':').any(|t| t != "f32") {
                return Err(format!(
                    "data type {value}: only f32 problems are measured by this version"
                ));
            }
        }
        "deconv" => return Err("transposed convolution (deconvolution) is not measured".into()),
        "reset" | "conv" | "alg" | "stag" | "wtag" | "dtag" | "mode" | "skip-impl" => {}
        k if k.starts_with("attr") => {}
        _ => return Err("unknown option (see the accepted list in the README)".into()),
    }
    Ok(())
}

/// The values of one descriptor's keys, before deduction.
#[derive(Debug, Default)]
struct Keys {
    g: Option<usize>,
    mb: Option<usize>,
    ic: Option<usize>,
    oc: Option<usize>,
    h: Axis,
    w: Axis,
    name: Option<String>,
}

/// One spatial axis: input, output, kernel, stride, padding, dilation (benchdnn's, from 0).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Axis {
    i: Option<usize>,
    o: Option<usize>,
    k: Option<usize>,
    s: Option<usize>,
    p: Option<usize>,
    d: Option<usize>,
}

impl Axis {
    fn given(&self) -> bool {
        *self != Axis::default()
    }
}

/// Parses the keys of a descriptor.
fn keys(desc: &str) -> Result<Keys, String> {
    let mut k = Keys::default();
    let mut rest = desc;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('_') {
            rest = r;
            continue;
        }
        // No numeric key starts with `n`: as in benchdnn, `n` starts the name.
        if let Some(n) = rest.strip_prefix('n') {
            k.name = Some(name(n)?);
            break;
        }
        let key_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let key = &rest[..key_len];
        let digits = rest[key_len..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len(), |n| key_len + n);
        let text = &rest[key_len..digits];
        if key.is_empty() {
            return Err(format!("\"{rest}\": expected a key such as ic or kh"));
        }
        let slot = slot(&mut k, key)?;
        if text.is_empty() {
            return Err(format!("key {key} has no value (a non-negative integer)"));
        }
        let v: usize = text
            .parse()
            .map_err(|_| format!("key {key}: {text} is too large"))?;
        if slot.replace(v).is_some() {
            return Err(format!("key {key} given twice"));
        }
        rest = &rest[digits..];
    }
    Ok(k)
}

/// The field a numeric key sets; 3-D and unknown keys are refused by name.
fn slot<'a>(k: &'a mut Keys, key: &str) -> Result<&'a mut Option<usize>, String> {
    Ok(match key {
        "g" => &mut k.g,
        "mb" => &mut k.mb,
        "ic" => &mut k.ic,
        "oc" => &mut k.oc,
        "ih" => &mut k.h.i,
        "oh" => &mut k.h.o,
        "kh" => &mut k.h.k,
        "sh" => &mut k.h.s,
        "ph" => &mut k.h.p,
        "dh" => &mut k.h.d,
        "iw" => &mut k.w.i,
        "ow" => &mut k.w.o,
        "kw" => &mut k.w.k,
        "sw" => &mut k.w.s,
        "pw" => &mut k.w.p,
        "dw" => &mut k.w.d,
        "id" | "od" | "kd" | "sd" | "pd" | "dd" => {
            return Err(format!(
                "key {key}: 3-D (volumetric) problems are not measured (2-D and 1-D only)"
            ))
        }
        _ => return Err(format!("unknown key {key}")),
    })
}

/// The name after `n`: quoted or bare, to the end of the descriptor.
fn name(raw: &str) -> Result<String, String> {
    let n = match raw.strip_prefix('"') {
        Some(q) => q
            .strip_suffix('"')
            .ok_or_else(|| format!("name {raw}: text after the closing quote"))?,
        None => raw,
    };
    if n.is_empty() {
        return Err("empty name".into());
    }
    if n.contains('"') {
        return Err(format!("name {raw}: a quote inside the name"));
    }
    Ok(n.to_string())
}

/// Splits `name*N` into the name and its multiplicity.
fn multiplicity(name: &str) -> Result<(String, usize), String> {
    match name.rsplit_once('*') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            let n: usize = n
                .parse()
                .map_err(|_| format!("multiplicity *{n} is too large"))?;
            if n == 0 || base.is_empty() {
                return Err(format!("name {name}: multiplicity *0 or no name before *"));
            }
            Ok((base.to_string(), n))
        }
        _ => Ok((name.to_string(), 1)),
    }
}

/// One axis after benchdnn's deduction: (input, kernel, stride, pad before, pad after,
/// dilation as our count from 1, output).
struct Deduced {
    i: usize,
    k: usize,
    s: usize,
    before: usize,
    after: usize,
    d: usize,
}

/// The largest value of a key: beyond it the deductions' sums and products could overflow,
/// and no layer has such a size.
const MAX_VALUE: usize = 1 << 31;

fn deduce(a: Axis, axis: char) -> Result<Deduced, String> {
    let given = [
        ("i", a.i),
        ("o", a.o),
        ("k", a.k),
        ("s", a.s),
        ("p", a.p),
        ("d", a.d),
    ];
    if let Some((key, Some(v))) = given.iter().find(|(_, v)| v.is_some_and(|v| v > MAX_VALUE)) {
        return Err(format!("{key}{axis}{v} is too large (at most {MAX_VALUE})"));
    }
    let i =
        a.i.ok_or_else(|| format!("i{axis} missing (the input size is required)"))?;
    let k =
        a.k.ok_or_else(|| format!("k{axis} missing (the kernel size is required)"))?;
    let s = a.s.unwrap_or(1);
    let d = a.d.unwrap_or(0);
    if i == 0 || k == 0 || s == 0 {
        return Err(format!(
            "i{axis}, k{axis} and s{axis} must be at least 1 (i{axis}{i} k{axis}{k} s{axis}{s})"
        ));
    }
    let big = |what: &str| format!("{what} overflows");
    let span = (k - 1)
        .checked_mul(d + 1)
        .and_then(|x| x.checked_add(1))
        .ok_or_else(|| big("the dilated kernel"))?;
    let (before, o) = match (a.o, a.p) {
        (None, p) => {
            let p = p.unwrap_or(0);
            let padded = i
                .checked_add(2 * p)
                .ok_or_else(|| big("the padded input"))?;
            if padded < span {
                return Err(format!(
                    "the kernel (k{axis}{k}, d{axis}{d}: {span} wide) is larger than the padded input ({padded})"
                ));
            }
            (p, (padded - span) / s + 1)
        }
        (Some(o), Some(p)) => (p, o),
        (Some(o), None) => {
            let need = (o.max(1) - 1)
                .checked_mul(s)
                .and_then(|x| x.checked_add(span))
                .ok_or_else(|| big("the output"))?;
            (need.saturating_sub(i) / 2, o)
        }
    };
    if o == 0 {
        return Err(format!("o{axis} is 0"));
    }
    if o > MAX_VALUE {
        return Err(format!("o{axis}{o} is too large (at most {MAX_VALUE})"));
    }
    // The far side as the near one where that gives output o (the frameworks' symmetric
    // padding), else what o needs beyond the near padding and no more.
    let need = (o - 1)
        .checked_mul(s)
        .and_then(|x| x.checked_add(span))
        .ok_or_else(|| big("the output"))?;
    let symmetric = i
        .checked_add(2 * before)
        .is_some_and(|t| t >= span && (t - span) / s + 1 == o);
    let after = if symmetric {
        before
    } else {
        need.saturating_sub(i + before)
    };
    // More than a stride beyond the near side is no framework's padding: a wrong output size.
    if after > before + s {
        return Err(format!(
            "inconsistent: o{axis}{o} needs {after} rows of padding on the far side with p{axis}{before} on the near one (i{axis}{i} k{axis}{k} s{axis}{s} d{axis}{d})"
        ));
    }
    if before.max(after) > MAX_VALUE {
        return Err(format!(
            "o{axis}{o} with s{axis}{s} needs {} rows of padding, more than {MAX_VALUE}",
            before.max(after)
        ));
    }
    let got = (i + before + after - span) / s + 1;
    if got != o {
        return Err(format!(
            "inconsistent: o{axis}{o}, but i{axis}{i} k{axis}{k} s{axis}{s} p{axis}{before} d{axis}{d} give {got}"
        ));
    }
    Ok(Deduced {
        i,
        k,
        s,
        before,
        after,
        d: d + 1,
    })
}

/// A descriptor as a layer, by benchdnn's rules (see the module docs).
fn descriptor(desc: &str, state: State) -> Result<Layer, String> {
    let k = keys(desc)?;
    let ic = k.ic.ok_or("ic missing (input channels are required)")?;
    let oc = k.oc.ok_or("oc missing (output channels are required)")?;
    let g = k.g.unwrap_or(1);
    let mb = if state.mb > 0 {
        state.mb
    } else {
        k.mb.unwrap_or(2)
    };
    let (h, w) = match (k.h.given(), k.w.given()) {
        (true, true) => (k.h, k.w),
        (true, false) => (k.h, k.h),
        (false, true) => (
            Axis {
                i: Some(1),
                k: Some(1),
                ..Axis::default()
            },
            k.w,
        ),
        (false, false) => return Err("no spatial size (ih and kh, or iw and kw)".into()),
    };
    let (h, w) = (deduce(h, 'h')?, deduce(w, 'w')?);
    let shape = ConvShape::builder(mb, h.i, w.i, ic, oc, h.k, w.k)
        .stride_hw(h.s, w.s)
        .padding(Padding {
            top: h.before,
            left: w.before,
            bottom: h.after,
            right: w.after,
        })
        .dilation_hw(h.d, w.d)
        .groups(g)
        .build()
        .map_err(|e| e.to_string())?;
    let (name, count) = match &k.name {
        Some(n) => multiplicity(n)?,
        None => (desc.to_string(), 1),
    };
    let network = name
        .split_once(':')
        .map_or_else(Vec::new, |(net, _)| vec![net.to_string()]);
    let mut layer = Layer::new(name, network, &shape);
    layer.count = count;
    Ok(layer)
}

/// A layer as one named benchdnn line (`*N` for a multiplicity above 1).
pub fn line(l: &Layer) -> String {
    let times = if l.count > 1 {
        format!("*{}", l.count)
    } else {
        String::new()
    };
    format!("{}_n\"{}{times}\"", canonical(&l.shape), l.name)
}

/// The canonical descriptor of a shape (benchdnn's spelling, every key written), so a layer read
/// from any source can be handed back to benchdnn.
pub(crate) fn canonical(s: &ShapeRecord) -> String {
    format!(
        "g{}mb{}_ic{}ih{}iw{}_oc{}oh{}ow{}_kh{}kw{}_sh{}sw{}_ph{}pw{}_dh{}dw{}",
        s.groups,
        s.n,
        s.c,
        s.h,
        s.w,
        s.k,
        s.p,
        s.q,
        s.r,
        s.s,
        s.stride_h,
        s.stride_w,
        s.pad_top,
        s.pad_left,
        s.dilation_h - 1,
        s.dilation_w - 1
    )
}
