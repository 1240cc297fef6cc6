//! What the reader knows of a tensor (its shape, and the values of a small constant), read
//! from an initializer, and the checked arithmetic on shapes that every op rule uses.

use super::proto::{tensor_proto::DataType, TensorProto};

/// The most elements whose values are kept (shape arithmetic, never weights).
const MAX_VALUES: usize = 64;

/// The largest dimension accepted (a larger one is a corrupt file, not a model).
const MAX_FILE_DIM: i64 = 1 << 31;

/// A tensor of known shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Tensor {
    pub shape: Vec<usize>,
    /// Its values when it is a small integer constant.
    pub ints: Option<Vec<i64>>,
    /// Its values when it is a small float constant.
    pub floats: Option<Vec<f32>>,
}

impl Tensor {
    pub(super) fn of(shape: Vec<usize>) -> Tensor {
        Tensor {
            shape,
            ..Tensor::default()
        }
    }

    pub(super) fn ints(shape: Vec<usize>, v: Vec<i64>) -> Tensor {
        Tensor {
            shape,
            ints: Some(v),
            floats: None,
        }
    }
}

/// A tensor's shape, or why it is unknown.
pub(super) type Fact = Result<Tensor, String>;

/// A dimension of a file, checked.
pub(super) fn dim(v: i64, what: &dyn Fn() -> String) -> Result<usize, String> {
    if (0..=MAX_FILE_DIM).contains(&v) {
        Ok(v as usize)
    } else {
        Err(format!("{}: dimension {v} is out of range", what()))
    }
}

/// An initializer or Constant value: its dimensions, and its values when small.
pub(super) fn constant(t: &TensorProto, name: &str) -> Result<Tensor, String> {
    let shape = t
        .dims
        .iter()
        .map(|&d| dim(d, &|| format!("initializer '{name}'")))
        .collect::<Result<Vec<_>, _>>()?;
    let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let mut out = Tensor::of(shape);
    let Some(len) = len.filter(|&l| l <= MAX_VALUES) else {
        return Ok(out);
    };
    let raw = t.raw_data.as_deref().unwrap_or_default();
    let ty = t.data_type.and_then(|d| DataType::try_from(d).ok());
    out.ints = match ty {
        Some(DataType::Int64) if !t.int64_data.is_empty() => Some(t.int64_data.clone()),
        Some(DataType::Int64) => Some(
            raw.chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
        ),
        Some(DataType::Int32) if !t.int32_data.is_empty() => {
            Some(t.int32_data.iter().map(|&v| i64::from(v)).collect())
        }
        Some(DataType::Int32) => Some(
            raw.chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap_or_default())))
                .collect(),
        ),
        _ => None,
    }
    .filter(|v: &Vec<i64>| v.len() == len);
    out.floats = match ty {
        Some(DataType::Float) if !t.float_data.is_empty() => Some(t.float_data.clone()),
        Some(DataType::Float) => Some(
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
        ),
        _ => None,
    }
    .filter(|v: &Vec<f32>| v.len() == len);
    Ok(out)
}

pub(super) type Ins<'a> = [Option<&'a Tensor>];

pub(super) fn input<'a>(ins: &Ins<'a>, k: usize, who: &str) -> Result<&'a Tensor, String> {
    ins.get(k)
        .copied()
        .flatten()
        .ok_or_else(|| format!("{who}: input {k} is absent"))
}

/// An axis attribute or value, negative counting from the end, checked against `rank`.
pub(super) fn axis(a: i64, rank: usize, who: &str) -> Result<usize, String> {
    let r = rank as i64;
    if (-r..r).contains(&a) {
        Ok(a.rem_euclid(r) as usize)
    } else {
        Err(format!("{who}: axis {a} is outside rank {rank}"))
    }
}

/// The largest dimension a rule may give: beyond it a product of four could overflow.
pub(super) const MAX_DIM: usize = 1 << 31;

/// The number of elements of a shape (dimensions of at most 2^31, so 4 of them fit in u128).
pub(super) fn product(s: &[usize], who: &str) -> Result<usize, String> {
    s.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("{who}: {s:?} holds more elements than a usize counts"))
}

/// Numpy broadcasting of two shapes.
pub(super) fn broadcast(a: &[usize], b: &[usize], who: &str) -> Result<Vec<usize>, String> {
    let r = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        if i + s.len() >= r {
            s[i + s.len() - r]
        } else {
            1
        }
    };
    (0..r)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            (x, y) => Err(format!(
                "{who}: shapes {a:?} and {b:?} do not broadcast ({x} and {y})"
            )),
        })
        .collect()
}
