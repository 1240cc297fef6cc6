//! How a kernel's work is run: serially on the caller's thread, or split into units over a rayon
//! pool. Owns the per-worker scratch, the grain rule that keeps small layers on one thread, and
//! the output view that tasks writing disjoint parts of one output share.
//!
//! Every driver cuts its work into units that never split a reduction (GEMM row blocks x output
//! channel groups, Winograd tile blocks, depthwise row bands), so each output element is computed
//! by the same operations in the same order whatever the thread count: a parallel run is
//! bit-identical to a serial one.

use std::marker::PhantomData;
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use crate::{AlignedBuf, ConvError};

/// Scratch one worker thread uses inside a task: floats and a row-pointer table.
pub(crate) struct Worker {
    pub floats: AlignedBuf,
    pub ptrs: Vec<*const f32>,
}

// SAFETY: the pointer table holds no live borrows between tasks; every task overwrites each entry
// it reads, from slices it was given, before reading it.
unsafe impl Send for Worker {}

impl Worker {
    /// A worker's scratch; a refused allocation is an error, never an abort.
    pub(crate) fn new(floats: usize, ptrs: usize) -> Result<Worker, ConvError> {
        let mut table = Vec::new();
        table
            .try_reserve_exact(ptrs)
            .map_err(|_| ConvError::OutOfMemory {
                what: "row-pointer table",
                bytes: ptrs.saturating_mul(std::mem::size_of::<*const f32>()),
            })?;
        table.resize(ptrs, std::ptr::null());
        Ok(Worker {
            floats: AlignedBuf::zeroed_for(floats, "per-thread scratch")?,
            ptrs: table,
        })
    }
}

/// The default grain: a task does at least this many FLOPs, and work below two grains stays on
/// one thread. Chosen from measurements on a 2-core KVM guest (AMD EPYC, AVX-512): a layer of
/// 2 MFLOP (mbv2_dw_14, 13-19 us) gained nothing from a second thread at any grain, because
/// waking a sleeping rayon worker there takes tens of microseconds, while layers from 5 MFLOP
/// up (mbv2_dw_112_s2, mbv2_dw_112) gained 1.4-1.9x. A task of 2 MFLOP is 10-40 us of one
/// core's work, so the per-task cost (a closure call and an uncontended lock) stays in the noise.
pub const DEFAULT_GRAIN_FLOPS: f64 = 2.0e6;

/// A run's executor: where units go and which scratch each task gets.
pub(crate) struct Exec<'a> {
    pool: Option<&'a rayon::ThreadPool>,
    workers: &'a [Mutex<Worker>],
    grain: f64,
}

impl<'a> Exec<'a> {
    /// Everything on the caller's thread with `workers[0]`.
    pub(crate) fn serial(workers: &'a [Mutex<Worker>]) -> Exec<'a> {
        assert!(!workers.is_empty());
        Exec {
            pool: None,
            workers,
            grain: f64::INFINITY,
        }
    }

    /// Units over `pool`; a task is at least `grain` FLOPs (0: every unit its own task).
    /// `workers` has one slot per pool thread.
    pub(crate) fn parallel(
        pool: &'a rayon::ThreadPool,
        workers: &'a [Mutex<Worker>],
        grain: f64,
    ) -> Exec<'a> {
        assert!(workers.len() >= pool.current_num_threads().max(1));
        Exec {
            pool: Some(pool),
            workers,
            grain: grain.max(0.0),
        }
    }

    /// Threads the work may spread over (1 when serial).
    pub(crate) fn threads(&self) -> usize {
        self.pool.map_or(1, |p| p.current_num_threads().max(1))
    }

    /// Whether `flops` of work is worth splitting at all.
    pub(crate) fn splits(&self, flops: f64) -> bool {
        self.threads() > 1 && flops >= 2.0 * self.grain
    }

    /// Runs `f(unit, worker)` for every unit in `0..units`, which together do `flops` FLOPs in
    /// roughly equal shares. Serially in unit order when the work does not split; otherwise over
    /// the pool, consecutive units grouped so a task does at least a grain.
    pub(crate) fn for_each<F>(&self, units: usize, flops: f64, f: F)
    where
        F: Fn(usize, &mut Worker) + Sync,
    {
        let lock = |i: usize| {
            self.workers[i]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        match self.pool {
            Some(pool) if units > 1 && self.splits(flops) => {
                let per_unit = flops / units as f64;
                let min_len = if per_unit > 0.0 {
                    ((self.grain / per_unit).ceil() as usize).clamp(1, units)
                } else {
                    units
                };
                pool.install(|| {
                    (0..units)
                        .into_par_iter()
                        .with_min_len(min_len)
                        .for_each(|u| {
                            // Inside `install` every task runs on a pool thread, and a task never
                            // yields to another, so a worker's slot is never contended.
                            let i = rayon::current_thread_index().unwrap_or(0);
                            f(u, &mut lock(i));
                        });
                });
            }
            _ => {
                let mut w = lock(0);
                for u in 0..units {
                    f(u, &mut w);
                }
            }
        }
    }

    /// Runs `f(i, chunk)` over `buf` cut into `chunk`-float pieces (a copy pass), in parallel
    /// when `buf` is worth splitting, counting one float as one FLOP.
    pub(crate) fn chunks<F>(&self, buf: &mut [f32], chunk: usize, f: F)
    where
        F: Fn(usize, &mut [f32]) + Sync,
    {
        let chunk = chunk.max(1);
        match self.pool {
            Some(pool) if self.splits(buf.len() as f64) => pool.install(|| {
                buf.par_chunks_mut(chunk)
                    .enumerate()
                    .for_each(|(i, c)| f(i, c))
            }),
            _ => buf.chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i, c)),
        }
    }
}

/// An output slice shared by tasks that each write a disjoint part of it. Made from a `&mut`
/// borrow that it holds for its lifetime, so nothing else reads or writes the slice meanwhile.
pub(crate) struct SharedOut<'a> {
    ptr: *mut f32,
    len: usize,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: a `SharedOut` only hands out raw pointers and slices through `ptr_at` / `slice_mut`,
// whose callers guarantee that concurrent tasks touch disjoint ranges.
unsafe impl Send for SharedOut<'_> {}
// SAFETY: as above.
unsafe impl Sync for SharedOut<'_> {}

impl<'a> SharedOut<'a> {
    pub(crate) fn new(out: &'a mut [f32]) -> SharedOut<'a> {
        SharedOut {
            ptr: out.as_mut_ptr(),
            len: out.len(),
            _borrow: PhantomData,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// A pointer to `offset`, after checking that `offset + n <= len`.
    pub(crate) fn ptr_at(&self, offset: usize, n: usize) -> *mut f32 {
        assert!(
            offset.checked_add(n).is_some_and(|e| e <= self.len),
            "output range out of bounds"
        );
        // In bounds of the allocation (checked above).
        self.ptr.wrapping_add(offset)
    }

    /// The part `offset .. offset + n` as a view of its own (bounds-checked), under the same
    /// rule: tasks that write through it write disjoint parts.
    pub(crate) fn sub(&self, offset: usize, n: usize) -> SharedOut<'_> {
        SharedOut {
            ptr: self.ptr_at(offset, n),
            len: n,
            _borrow: PhantomData,
        }
    }

    /// `n` floats from `offset`, bounds-checked.
    ///
    /// # Safety
    /// No other live reference or concurrent task may touch `offset .. offset + n`.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn slice_mut(&self, offset: usize, n: usize) -> &mut [f32] {
        let p = self.ptr_at(offset, n);
        // SAFETY: in bounds (checked by `ptr_at`) of a slice this view borrows exclusively;
        // exclusive within it by the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(p, n) }
    }
}

/// Splits `n` items into `parts` contiguous near-equal ranges; the range of part `i`.
pub(crate) fn part(n: usize, parts: usize, i: usize) -> std::ops::Range<usize> {
    (i * n / parts)..((i + 1) * n / parts)
}
