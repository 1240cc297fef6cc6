//! `AlignedBuf`: a buffer of one element type (f32 unless said otherwise) whose first element sits
//! on a 64-byte boundary (a cache line, and one AVX-512 vector), so full-vector loads never split
//! across cache lines. Packed weights live in one; benchmarks hand kernels aligned activations, as
//! frameworks do.

use std::ops::{Deref, DerefMut};

use crate::dtype::Element;
use crate::ConvError;

/// The alignment, bytes.
const ALIGN: usize = 64;

/// A zero-initialised, 64-byte-aligned, fixed-length buffer of `T` (safe code: an
/// over-allocated `Vec` viewed from its first aligned element).
#[derive(Debug, Default)]
pub struct AlignedBuf<T: Element = f32> {
    buf: Vec<T>,
    off: usize,
    len: usize,
}

impl<T: Element> AlignedBuf<T> {
    /// Elements of slack that reach the first aligned one.
    const SLACK: usize = ALIGN / T::BYTES;

    /// `len` zeros, the first one 64-byte aligned; a length whose bytes overflow, or an
    /// allocation the system refuses, is a [`ConvError::OutOfMemory`] (never an abort).
    pub fn zeroed(len: usize) -> Result<AlignedBuf<T>, ConvError> {
        AlignedBuf::zeroed_for(len, "aligned buffer")
    }

    /// [`AlignedBuf::zeroed`], its error naming `what` the buffer is for.
    pub(crate) fn zeroed_for(len: usize, what: &'static str) -> Result<AlignedBuf<T>, ConvError> {
        let oom = || ConvError::OutOfMemory {
            what,
            bytes: len.saturating_mul(T::BYTES),
        };
        let cap = len.checked_add(Self::SLACK).ok_or_else(oom)?;
        let buf: Vec<T> = zeroed_vec(cap).ok_or_else(oom)?;
        let off = buf.as_ptr().align_offset(ALIGN).min(Self::SLACK);
        Ok(AlignedBuf { buf, off, len })
    }

    /// A copy of `values`, 64-byte aligned (a slice that exists fits in memory, so only the
    /// allocation of the copy can fail, and it aborts like `Vec`'s).
    pub fn from_slice(values: &[T]) -> AlignedBuf<T> {
        let mut buf = vec![T::default(); values.len() + Self::SLACK];
        let off = buf.as_ptr().align_offset(ALIGN).min(Self::SLACK);
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
impl<T: Element> Clone for AlignedBuf<T> {
    fn clone(&self) -> AlignedBuf<T> {
        AlignedBuf::from_slice(self)
    }
}

impl<T: Element> Deref for AlignedBuf<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.buf[self.off..self.off + self.len]
    }
}

impl<T: Element> DerefMut for AlignedBuf<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.buf[self.off..self.off + self.len]
    }
}

/// `len` zeros in a plain `Vec`, allocated fallibly: a refusal is a [`ConvError::OutOfMemory`]
/// naming `what`.
pub(crate) fn zeros<T: Element>(len: usize, what: &'static str) -> Result<Vec<T>, ConvError> {
    zeroed_vec(len).ok_or(ConvError::OutOfMemory {
        what,
        bytes: len.saturating_mul(T::BYTES),
    })
}

/// `len` zeros from the allocator's zeroed path (`calloc`: large blocks come as untouched zero
/// pages, as `vec![0.0; len]` gets them), or `None` where the allocation is refused or its size
/// overflows: the fallible form of `vec![T::default(); len]`.
fn zeroed_vec<T: Element>(len: usize) -> Option<Vec<T>> {
    if len == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(len).ok()?;
    // SAFETY: `layout` has a non-zero size (len > 0, and `Element` types are not zero-sized);
    // `alloc_zeroed` returns null or a block of exactly that layout, all bytes zero, and
    // all-zero bytes are a valid `T` (the `Element` contract). `from_raw_parts` takes the block
    // with the allocator it came from (the global one), its layout (capacity `len` Ts, T's
    // alignment) and `len` initialised elements.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout).cast::<T>();
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
    fn other_element_types_are_aligned_too() {
        let a = AlignedBuf::<i8>::zeroed(100).unwrap();
        assert_eq!((a.as_ptr() as usize % 64, a.len()), (0, 100));
        let b = AlignedBuf::from_slice(&[1i32, 2, 3]).clone();
        assert_eq!((b.as_ptr() as usize % 64, &*b), (0, &[1, 2, 3][..]));
    }

    #[test]
    fn impossible_lengths_are_errors() {
        for len in [usize::MAX, usize::MAX - 4, usize::MAX / 4, 1 << 60] {
            let e = AlignedBuf::<f32>::zeroed(len).unwrap_err();
            assert!(e.to_string().contains("aligned buffer"), "{e}");
        }
        assert_eq!(AlignedBuf::<f32>::zeroed(5).unwrap().len(), 5);
    }
}
