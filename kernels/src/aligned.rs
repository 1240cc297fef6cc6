//! `AlignedBuf`: an f32 buffer whose first element sits on a 64-byte boundary (a cache line, and
//! one AVX-512 vector), so full-vector loads never split across cache lines. Packed weights live
//! in one; benchmarks hand kernels aligned activations, as frameworks do.

use std::ops::{Deref, DerefMut};

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
    /// `len` zeros, the first one 64-byte aligned.
    pub fn zeroed(len: usize) -> AlignedBuf {
        let buf = vec![0.0f32; len + ALIGN_FLOATS];
        let off = buf.as_ptr().align_offset(64).min(ALIGN_FLOATS);
        AlignedBuf { buf, off, len }
    }

    /// A copy of `values`, 64-byte aligned.
    pub fn from_slice(values: &[f32]) -> AlignedBuf {
        let mut b = AlignedBuf::zeroed(values.len());
        b.copy_from_slice(values);
        b
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
}
