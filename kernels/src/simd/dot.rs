//! The dot-product lanes the low-precision GEMM body (`lowp/gemm.rs`) is written against, per
//! element-type family: [`Dot<F>`] is one step of the GEMM (a 32-bit word of `KG` activations,
//! broadcast, times `KG` packed weights per lane, added to each accumulator lane) and its store.
//! A family ([`Family`]) names what a run reads and writes: int8 (`int8::Q8`: u8 x s8 into
//! i32, requantized) and bf16 (`bf16::Bf`: bf16 x bf16 into f32).

use super::Token;

/// An element-type family: the buffers a run reads and writes and the per-column constants of
/// its epilogue.
pub(crate) trait Family: 'static {
    /// Activations as the caller passes them.
    type X: Copy + Send + Sync + 'static;
    /// Weights as the caller passes them.
    type W: Copy;
    /// The output a run writes.
    type Out<'a>;
    /// A raw pointer into that output, offset per tile.
    type Ptr: Copy + Send + Sync;
    /// The epilogue's constants, one per padded output column (`[group][block * NR]`).
    type Cols: Send + Sync;
    /// The family's name in messages (`int8`, `bf16`).
    const NAME: &'static str;
    fn ptr(out: &mut Self::Out<'_>) -> Self::Ptr;
    /// # Safety
    /// The result stays inside the output buffer.
    unsafe fn offset(p: Self::Ptr, i: usize) -> Self::Ptr;
    /// The constants at padded columns: entry `i` is `cols`' channel `map[i]`, or zero where
    /// `None`.
    fn relayout(cols: &Self::Cols, map: &[Option<usize>]) -> Result<Self::Cols, crate::ConvError>;
}

/// The dot-product step of family `F` on a token. The memory methods are `unsafe`: they take raw
/// pointers.
pub(crate) trait Dot<F: Family>: Token {
    /// Accumulator lanes per vector.
    const LANES: usize;
    /// Reduction steps per 32-bit word (4 for u8 x s8, 2 for i16 or bf16 pairs).
    const KG: usize;
    /// Activations as the GEMM reads them.
    type A: Copy + Default + From<F::X> + Send + Sync + 'static;
    /// Packed weights.
    type B: Copy + Default + From<F::W> + Send + Sync + 'static;
    /// An accumulator vector (also holds `LANES * KG` packed weights).
    type V: Copy;
    fn zero(self) -> Self::V;
    /// Loads `LANES * KG` packed weights.
    /// # Safety
    /// `p .. p + LANES * KG` readable.
    unsafe fn load_b(self, p: *const Self::B) -> Self::V;
    /// `acc[l] += sum_j a[j] * b[l][j]` for the `KG` activations at `a`, broadcast.
    /// # Safety
    /// `a .. a + KG` readable.
    unsafe fn dot(self, acc: Self::V, a: *const Self::A, b: Self::V) -> Self::V;
    /// The epilogue of `LANES` accumulators of output columns `col..col + LANES` (padded
    /// numbering, see [`Family::Cols`]), storing the first `n` at `out`.
    /// # Safety
    /// `out .. out + n` writable; `col + LANES` within `cols`.
    unsafe fn store(self, acc: Self::V, out: F::Ptr, cols: &F::Cols, col: usize, n: usize);
}
