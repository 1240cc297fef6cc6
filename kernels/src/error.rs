//! `ConvError`: the one error type of the crate. Every message names the offending field and value.

use std::fmt;

use crate::{Algorithm, Isa};

/// Everything that can go wrong when describing, planning or running a convolution.
#[derive(Debug, Clone, PartialEq)]
pub enum ConvError {
    /// A shape field has a value that no convolution can have (`reason` says why).
    InvalidShape {
        /// The field, e.g. `"groups"`.
        field: &'static str,
        /// Its value.
        value: usize,
        /// Why it is rejected.
        reason: String,
    },
    /// A size derived from the shape does not fit in `usize`.
    Overflow {
        /// What was being computed, e.g. `"input length N*H*W*C"`.
        what: &'static str,
    },
    /// An allocation the shape needs was refused by the system (or its size overflows).
    OutOfMemory {
        /// What was being allocated, e.g. `"direct padded input copy"`.
        what: &'static str,
        /// Its size in bytes (saturated at `usize::MAX`).
        bytes: usize,
    },
    /// The algorithm cannot compute this shape.
    Unsupported {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// Why it cannot, naming the shape fields and values involved.
        reason: String,
    },
    /// The variant needs an instruction set this CPU (or this build's target) lacks.
    IsaUnavailable {
        /// The instruction set asked for.
        isa: Isa,
    },
    /// No variant with this algorithm and instruction set is compiled into this build.
    NoVariant {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// The instruction set asked for.
        isa: Isa,
    },
    /// A buffer passed in has the wrong length.
    BufferLength {
        /// Which buffer: `"weights"`, `"bias"`, `"input"` or `"output"`.
        buffer: &'static str,
        /// The length the shape requires.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// An activation's parameters are unusable (e.g. `Clamp` with min > max or a NaN bound).
    InvalidActivation {
        /// Why.
        reason: String,
    },
    /// `auto` found no variant it may pick (unsupported shape, ISA list, accuracy budget).
    NoCandidate {
        /// What excluded each algorithm.
        reason: String,
    },
    /// An option is unusable (e.g. `AutoOptions::max_relative_error` = NaN).
    InvalidOption {
        /// The field, e.g. `"max_relative_error"`.
        field: &'static str,
        /// Its value, as text.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A tuning map could not be read or is not a valid `simdconv-tuning/2` (or `/1`) file.
    Tuning {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for ConvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvError::InvalidShape {
                field,
                value,
                reason,
            } => write!(f, "invalid shape: {field} = {value}: {reason}"),
            ConvError::Overflow { what } => {
                write!(f, "shape too large: {what} overflows usize")
            }
            ConvError::OutOfMemory { what, bytes } => write!(
                f,
                "out of memory: {what} needs {bytes} bytes, and the allocation was refused"
            ),
            ConvError::Unsupported { algorithm, reason } => write!(f, "{algorithm} {reason}"),
            ConvError::IsaUnavailable { isa } => write!(
                f,
                "isa = {isa}: this CPU or this build's target does not support it"
            ),
            ConvError::NoVariant { algorithm, isa } => write!(
                f,
                "no variant of algorithm = {algorithm} for isa = {isa} is compiled into this build"
            ),
            ConvError::BufferLength {
                buffer,
                expected,
                got,
            } => write!(
                f,
                "{buffer} length = {got}, but the shape needs exactly {expected}"
            ),
            ConvError::InvalidActivation { reason } => write!(f, "invalid activation: {reason}"),
            ConvError::NoCandidate { reason } => {
                write!(f, "auto: no variant may compute this shape: {reason}")
            }
            ConvError::InvalidOption {
                field,
                value,
                reason,
            } if value.is_empty() => write!(f, "{field}: {reason}"),
            ConvError::InvalidOption {
                field,
                value,
                reason,
            } => write!(f, "{field} = {value}: {reason}"),
            ConvError::Tuning { path, reason } => write!(f, "tuning map {path}: {reason}"),
        }
    }
}

impl std::error::Error for ConvError {}

/// `Ok` when a buffer has the length required, else [`ConvError::BufferLength`] naming it.
pub(crate) fn check_len(
    buffer: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), ConvError> {
    if expected == got {
        Ok(())
    } else {
        Err(ConvError::BufferLength {
            buffer,
            expected,
            got,
        })
    }
}

/// The product of `xs`, or [`ConvError::Overflow`] naming `what`.
pub(crate) fn product(xs: &[usize], what: &'static str) -> Result<usize, ConvError> {
    xs.iter()
        .try_fold(1usize, |acc, &x| acc.checked_mul(x))
        .ok_or(ConvError::Overflow { what })
}
