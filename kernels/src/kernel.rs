//! The contract between `ConvPlan` and the algorithm drivers: a planned [`Kernel`] and the scratch
//! memory it runs in. It sits below the drivers and the planner, so neither imports the other.

use crate::{AlignedBuf, Tile};

/// Scratch memory a kernel uses during `run`: floats and a row-pointer table.
pub(crate) struct Scratch {
    pub floats: AlignedBuf,
    pub ptrs: Vec<*const f32>,
}

// SAFETY: the pointer table holds no live borrows between runs; each `run` overwrites every entry
// it reads from the slices it was given before reading it.
unsafe impl Send for Scratch {}
// SAFETY: as above; shared references to a Scratch never read the table.
unsafe impl Sync for Scratch {}

/// How much scratch a kernel needs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScratchSpec {
    pub floats: usize,
    pub ptrs: usize,
}

/// A planned convolution: packed weights and everything precomputed for one shape.
pub(crate) trait Kernel: Send + Sync {
    /// Computes `output` from `input`; both lengths are already checked against the shape.
    fn run(&self, input: &[f32], output: &mut [f32], scratch: &mut Scratch);
    fn scratch(&self) -> ScratchSpec;
    /// The register tile its microkernel computes (the registry row must say the same).
    fn tile(&self) -> Tile;
}
