//! The user's layers (`run --shapes FILE`, `tune --shapes FILE`): files of benchdnn problem
//! descriptors (see [`benchdnn`]), read whole before anything is measured, so a bad line stops
//! the command with its file and line instead of a half-measured run.

pub(crate) mod benchdnn;

use std::path::{Path, PathBuf};

use crate::files;
use crate::schema::layer::Layer;

/// The largest shapes file read (a benchdnn batch file of every topology is about 200 KB).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// The most layers read from all files together.
const MAX_LAYERS: usize = 100_000;

/// Reads every file's layers, in order. A name given twice is one layer whose multiplicities add
/// up (benchdnn would run it twice) when the shapes agree, and an error naming both places when
/// they do not.
pub(crate) fn read(paths: &[PathBuf]) -> Result<Vec<Layer>, String> {
    let mut out: Vec<(Layer, String)> = Vec::new();
    for path in paths {
        for p in read_file(path)? {
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
    Ok(out.into_iter().map(|(l, _)| l).collect())
}

/// One file's problems.
fn read_file(path: &Path) -> Result<Vec<benchdnn::Problem>, String> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
    {
        return Err(format!(
            "{}: ONNX models are not read by this version; write the model's convolutions as benchdnn descriptors",
            path.display()
        ));
    }
    let text = read_text(path)?;
    let mut include = |p: &Path| read_text(p);
    benchdnn::read(&text, path, &mut include)
}

/// A text file, size-capped (a binary file fails as not UTF-8).
fn read_text(path: &Path) -> Result<String, String> {
    files::read_capped(path, MAX_FILE_BYTES).map_err(|e| e.to_string())
}
