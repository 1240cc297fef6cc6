//! The contract between `ConvPlan` and the algorithm drivers: a planned [`Kernel`], the scratch it
//! declares, and the executor it runs its units on. It sits below the drivers and the planner, so
//! neither imports the other.

use crate::par::Exec;
use crate::{Element, Tile};

/// How much scratch a kernel needs: `shared` floats written before the parallel part and read by
/// every task (direct's padded input copy), `shared_parallel` of them when it runs on several
/// threads (Winograd's V and M shared by the phases of one block), and per worker thread
/// `floats` and `ptrs`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScratchSpec {
    pub shared: usize,
    pub shared_parallel: usize,
    pub floats: usize,
    pub ptrs: usize,
}

/// A planned convolution reading `I` activations and writing `O` ones (the row's
/// [`Types`](crate::Types); f32 for every kernel so far): packed weights and everything
/// precomputed for one shape.
pub(crate) trait Kernel<I: Element = f32, O: Element = f32>: Send + Sync {
    /// Computes `output` from `input` (lengths already checked against the shape), with `shared`
    /// scratch of at least `scratch().shared` floats (and `shared_parallel` when `ex` is
    /// parallel), running its units on `ex`.
    fn run(&self, input: &[I], output: &mut [O], shared: &mut [f32], ex: &Exec);
    fn scratch(&self) -> ScratchSpec;
    /// The register tile its microkernel computes (the registry row must say the same).
    fn tile(&self) -> Tile;
}
