//! # simdconv
//!
//! Hand-vectorized f32 NHWC 2-D convolution kernels — direct, im2col + GEMM, Winograd,
//! depthwise and pointwise — each in scalar, portable (`wide`), AVX2+FMA, AVX-512 and NEON
//! variants chosen at run time, with fused bias and ReLU / ReLU6 / clamp; and int8 (u8s8u8,
//! requantized) direct, pointwise and depthwise on scalar, AVX2, AVX-VNNI, AVX-512 VNNI and NEON
//! ([`quant`]).
//!
//! ```
//! use simdconv::{variants, ConvShape};
//! let shape = ConvShape::builder(1, 8, 8, 16, 16, 3, 3).pad(1).build().unwrap();
//! let runnable = variants()
//!     .iter()
//!     .filter(|v| v.is_available() && v.supports(&shape).is_ok())
//!     .count();
//! assert!(runnable >= 6); // direct, im2col, two Winograd tiles: scalar and portable at least
//! ```
//!
//! Layout conventions: activations are NHWC, contiguous; weights are OHWI
//! (`K x R x S x C/groups`, so depthwise weights are `C x R x S`); bias has `K` entries.
//! Slices carry no alignment promise. `ConvPlan::run` is single-threaded;
//! `ConvPlan::run_parallel` spreads the same work over a rayon pool, bit-identical.
//!
//! Non-finite values follow the reference's rule in every algorithm but Winograd: an output is
//! the activation of its bias plus its real taps (padding taps are skipped, not multiplied by
//! zero), so a NaN or infinity in the input, the weights or the bias reaches exactly the outputs
//! that use it. Winograd's transforms mix whole input tiles: a non-finite input reaches every
//! output of the tiles that read it, a non-finite weight every output of its channel, and large
//! finite values overflow its intermediates sooner: with C input channels, every intermediate
//! stays finite while `C * max|x| * max|w|` is below `f32::MAX / 81` for F(2x2,3x3) and
//! `f32::MAX / 36100` for F(4x4,3x3), and the input transform alone overflows for inputs above
//! `f32::MAX / 4` and `f32::MAX / 100` (the reference: `f32::MAX / (R*S)`).
#![warn(missing_docs)]

// Layers, bottom to top, are listed in `layers.txt` beside Cargo.toml; CI checks that no module
// imports one above it and that there is no import circle (`scripts/check-layers.py`).
mod aligned;
pub mod auto;
pub mod bf16;
pub mod cache;
mod checks;
mod depthwise;
mod direct;
mod dtype;
mod error;
mod gemm;
mod im2col;
mod isa;
mod kernel;
mod lowp;
mod nonfinite;
pub mod ops;
mod par;
mod plan;
mod pointwise;
pub mod probe;
pub mod quant;
pub mod record;
pub mod reference;
mod registry;
mod shape;
mod simd;
mod toom_cook;
mod vocab;
mod winograd;

pub use aligned::AlignedBuf;
pub use dtype::{canonical_name, Bf16, DType, Element, Types};
pub use error::ConvError;
pub use isa::Isa;
pub use lowp::variant::LowpVariant;
pub use par::DEFAULT_GRAIN_FLOPS;
pub use plan::ConvPlan;
/// The rayon this crate runs [`ConvPlan::run_parallel`] on: build its pools with this one.
pub use rayon;
pub use record::{Interval, ShapeRecord};
pub use registry::{variants, Variant};
pub use shape::{ConvShape, ConvShapeBuilder, Padding};
pub use vocab::{Activation, Algorithm, Tile, WinogradTile};
