//! The drivers every low-precision family shares (int8 in [`crate::quant`], bf16 in
//! [`crate::bf16`]): the kernel contract, work splitting, the activation source with its
//! padded copy, and the indirect-GEMM driver written once over [`Dot<F>`](crate::simd::dot::Dot).
//! A family brings its lanes (`simd/int8.rs`, `simd/bf16.rs`), its plan and its rows.

pub(crate) mod gemm;
pub(crate) mod kernel;
pub mod probe;
pub(crate) mod variant;
