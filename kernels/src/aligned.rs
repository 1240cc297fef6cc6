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
        let buf = zeroed_vec(cap).ok_or_else(oom)?;
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
    zeroed_vec(len).ok_or(ConvError::OutOfMemory {
        what,
        bytes: len.saturating_mul(4),
    })
}

/// `len` zeros from the allocator's zeroed path (`calloc`: large blocks come as untouched zero
/// pages, as `vec![0.0; len]` gets them), or `None` where the allocation is refused or its size
/// overflows: the fallible form of `vec![0.0f32; len]`.
fn zeroed_vec(len: usize) -> Option<Vec<f32>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<f32>(len).ok()?;
    // SAFETY: `layout` has a non-zero size (len > 0); `alloc_zeroed` returns null or a block of
    // exactly that layout, all bytes zero, and all-zero bytes are the f32 0.0. `from_raw_parts`
    // takes the block with the allocator it came from (the global one), its layout (capacity
    // `len` f32s, f32 alignment) and `len` initialised elements.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout).cast::<f32>();
        (!p.is_null()).then(|| Vec::from_raw_parts(p, len, len))
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

    #[test]
    fn impossible_lengths_are_errors() {
        for len in [usize::MAX, usize::MAX - 4, usize::MAX / 4, 1 << 60] {
            let e = AlignedBuf::zeroed(len).unwrap_err();
            assert!(e.to_string().contains("aligned buffer"), "{e}");
        }
        assert_eq!(AlignedBuf::zeroed(5).unwrap().len(), 5);
    }
}
