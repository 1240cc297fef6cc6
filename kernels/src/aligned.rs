//! `AlignedBuf`: an f32 buffer whose first element sits on a 64-byte boundary (a cache line, and
//! one AVX-512 vector), so full-vector loads never split across cache lines. Packed weights live
//! in one; benchmarks hand kernels aligned activations, as frameworks do.

use std::ops::{Deref, DerefMut};

use crate::ConvError;

const ALIGN_FLOATS: usize = 16;

/// A zero-initialised, 64-byte-aligned, fixed-length f32 buffer (safe code: an over-allocated
/// `Vec` viewed from its first aligned element).
#[derive(Debug, Default)]
pub struct AlignedBuf {
    buf: Vec<f32>,
    off: usize,
    len: usize,
}

impl AlignedBuf {
    /// `len` zeros, the first one 64-byte aligned; a length whose bytes overflow, or an
    /// allocation the system refuses, is a [`ConvError::OutOfMemory`] (never an abort).
    pub fn zeroed(len: usize) -> Result<AlignedBuf, ConvError> {
        AlignedBuf::zeroed_for(len, "aligned buffer")
    }

    /// [`AlignedBuf::zeroed`], its error naming `what` the buffer is for.
    pub(crate) fn zeroed_for(len: usize, what: &'static str) -> Result<AlignedBuf, ConvError> {
        let oom = || ConvError::OutOfMemory {
            what,
            bytes: len.saturating_mul(4),
        };
        let cap = len.checked_add(ALIGN_FLOATS).ok_or_else(oom)?;
        let mut buf: Vec<f32> = Vec::new();
        buf.try_reserve_exact(cap).map_err(|_| oom())?;
        buf.resize(cap, 0.0);
        let off = buf.as_ptr().align_offset(64).min(ALIGN_FLOATS);
        Ok(AlignedBuf { buf, off, len })
    }

    /// A copy of `values`, 64-byte aligned (a slice that exists fits in memory, so only the
    /// allocation of the copy can fail, and it aborts like `Vec`'s).
    pub fn from_slice(values: &[f32]) -> AlignedBuf {
        let mut buf = vec![0.0f32; values.len() + ALIGN_FLOATS];
        let off = buf.as_ptr().align_offset(64).min(ALIGN_FLOATS);
        buf[off..off + values.len()].copy_from_slice(values);
        AlignedBuf {
            buf,
            off,
            len: values.len(),
        }
    }
}

/// A clone is a fresh aligned buffer with the same values (a derived clone would copy the `Vec`
/// to a new address and keep the old offset, losing the alignment).
impl Clone for AlignedBuf {
    fn clone(&self) -> AlignedBuf {
        AlignedBuf::from_slice(self)
    }
}

impl Deref for AlignedBuf {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.buf[self.off..self.off + self.len]
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buf[self.off..self.off + self.len]
    }
}

/// `len` zeros in a plain `Vec`, allocated fallibly: a refusal is a [`ConvError::OutOfMemory`]
/// naming `what`.
pub(crate) fn zeros(len: usize, what: &'static str) -> Result<Vec<f32>, ConvError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| ConvError::OutOfMemory {
            what,
            bytes: len.saturating_mul(4),
        })?;
    v.resize(len, 0.0);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::AlignedBuf;

    #[test]
    fn clones_stay_aligned() {
        let a = AlignedBuf::from_slice(&[1.0, 2.0, 3.0]);
        for _ in 0..8 {
            let b = a.clone();
            assert_eq!(b.as_ptr() as usize % 64, 0);
            assert_eq!(&*b, &*a);
        }
    }

    #[test]
    fn impossible_lengths_are_errors() {
        for len in [usize::MAX, usize::MAX - 4, usize::MAX / 4, 1 << 60] {
            let e = AlignedBuf::zeroed(len).unwrap_err();
            assert!(e.to_string().contains("aligned buffer"), "{e}");
        }
        assert_eq!(AlignedBuf::zeroed(5).unwrap().len(), 5);
    }
}
