//! The user's layers (`run --shapes FILE`, `tune --shapes FILE`): files of benchdnn problem
//! descriptors (see [`benchdnn`]) and ONNX models (see [`onnx`]), read whole before anything is
//! measured, so a bad line or node stops the command with its file and line or node instead of
//! a half-measured run.

pub(crate) mod benchdnn;
pub(crate) mod onnx;

use std::path::{Path, PathBuf};

use crate::files;
use crate::schema::layer::Layer;
use crate::schema::results::CoverageGap;

/// The largest shapes file read (a benchdnn batch file of every topology is about 200 KB).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// The largest ONNX model read (protobuf's own limit is 2 GiB).
const MAX_MODEL_BYTES: u64 = 2 << 30;

/// The most layers read from all files together.
const MAX_LAYERS: usize = 100_000;

/// The layers of the files, and the model convolutions that cannot be measured, with why.
#[derive(Debug, Default)]
pub(crate) struct UserLayers {
    pub layers: Vec<Layer>,
    pub unknown: Vec<CoverageGap>,
}

/// Reads every file's layers, in order. A name given twice is one layer whose multiplicities add
/// up (benchdnn would run it twice) when the shapes agree, and an error naming both places when
/// they do not.
pub(crate) fn read(paths: &[PathBuf]) -> Result<UserLayers, String> {
    let mut out: Vec<(Layer, String)> = Vec::new();
    let mut unknown = Vec::new();
    for path in paths {
        let (problems, gaps) = read_file(path)?;
        unknown.extend(gaps);
        for p in problems {
            let name = p.layer.name.replace('/', ".");
            if name.chars().any(char::is_control) {
                return Err(format!("{}: name {name:?} holds a control character", p.at));
            }
            let layer = Layer { name, ..p.layer };
            match out.iter_mut().find(|(l, _)| l.name == layer.name) {
                Some((l, _)) if l.shape == layer.shape => {
                    l.count = l.count.saturating_add(layer.count);
                }
                Some((l, at)) => {
                    return Err(format!(
                        "{}: layer {} was read at {at} with another shape ({} there, {} here)",
                        p.at, layer.name, l.shape, layer.shape
                    ))
                }
                None => out.push((layer, p.at)),
            }
            if out.len() > MAX_LAYERS {
                return Err(format!("{}: more than {MAX_LAYERS} layers", path.display()));
            }
        }
    }
    if out.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("--shapes {}: no problem in it", names.join(", ")));
    }
    for g in &mut unknown {
        g.layer = g.layer.replace('/', ".");
    }
    Ok(UserLayers {
        layers: out.into_iter().map(|(l, _)| l).collect(),
        unknown,
    })
}

/// One file's problems, and the convolutions of a model that cannot be measured.
fn read_file(path: &Path) -> Result<(Vec<benchdnn::Problem>, Vec<CoverageGap>), String> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
    {
        let bytes = files::read_bytes_capped(path, MAX_MODEL_BYTES).map_err(|e| e.to_string())?;
        let model = model_name(path);
        let m = onnx::read(&bytes, &model, &path.display().to_string())?;
        return Ok((m.layers, m.unknown));
    }
    let text = read_text(path)?;
    let mut include = |p: &Path| read_text(p);
    Ok((benchdnn::read(&text, path, &mut include)?, Vec::new()))
}

/// A model's name from its file: the stem, in letters, digits, `_`, `-` and `.`.
fn model_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let name: String = stem
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "model".into()
    } else {
        name
    }
}

/// A text file, size-capped (a binary file fails as not UTF-8).
fn read_text(path: &Path) -> Result<String, String> {
    files::read_capped(path, MAX_FILE_BYTES).map_err(|e| e.to_string())
}
