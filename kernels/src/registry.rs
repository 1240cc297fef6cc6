//! The registry: every (algorithm, ISA, tile) variant compiled into this build. Dispatch, tests and
//! benchmarks all iterate [`variants`]; adding a variant is one line here.

use std::sync::OnceLock;

use crate::plan::Kernel;
use crate::simd::Act;
use crate::{depthwise, direct, gemm, im2col, pointwise, winograd};
use crate::{Activation, Algorithm, ConvError, ConvPlan, ConvShape, Isa, WinogradTile};

type Build = fn(&ConvShape, &[f32], Option<&[f32]>, Act) -> Box<dyn Kernel>;

/// One kernel variant: an algorithm written for one ISA with one register tile.
pub struct Variant {
    name: &'static str,
    algorithm: Algorithm,
    isa: Isa,
    build: Build,
}

impl Variant {
    /// `<algorithm>-<isa>-<tile>`, e.g. `direct-avx512-14x32` or `depthwise-avx2-16c`.
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The instruction set.
    pub fn isa(&self) -> Isa {
        self.isa
    }
    /// The register tile part of the name (`14x32`, `16c`, ...).
    pub fn tile(&self) -> &'static str {
        self.name.rsplit('-').next().unwrap_or("")
    }
    /// Output channels per register tile (`NR` of an `MRxNR` tile); `None` for other tiles.
    pub fn tile_nr(&self) -> Option<usize> {
        self.tile().split_once('x')?.1.parse().ok()
    }
    /// GEMM rows per register tile (`MR` of an `MRxNR` tile: output pixels, or Winograd tiles);
    /// `None` for other tiles.
    pub fn tile_mr(&self) -> Option<usize> {
        self.tile().split_once('x')?.0.parse().ok()
    }
    /// Whether this variant can compute `shape` (the error names the field that stops it).
    pub fn supports(&self, shape: &ConvShape) -> Result<(), ConvError> {
        self.algorithm.supports(shape)
    }
    /// Whether this CPU runs it.
    pub fn is_available(&self) -> bool {
        self.isa.is_available()
    }
    /// Checks everything, packs the weights (OHWI) and returns a plan.
    pub fn plan(
        &self,
        shape: &ConvShape,
        weights: &[f32],
        bias: Option<&[f32]>,
        activation: Activation,
    ) -> Result<ConvPlan, ConvError> {
        activation.validate()?;
        self.supports(shape)?;
        if !self.is_available() {
            return Err(ConvError::IsaUnavailable { isa: self.isa });
        }
        if weights.len() != shape.weights_len() {
            return Err(ConvError::BufferLength {
                buffer: "weights",
                expected: shape.weights_len(),
                got: weights.len(),
            });
        }
        if let Some(b) = bias {
            if b.len() != shape.k() {
                return Err(ConvError::BufferLength {
                    buffer: "bias",
                    expected: shape.k(),
                    got: b.len(),
                });
            }
        }
        let kernel = (self.build)(shape, weights, bias, Act::from_activation(activation));
        Ok(ConvPlan::from_kernel(
            shape,
            self.name,
            self.algorithm,
            self.isa,
            kernel,
        ))
    }
}

impl std::fmt::Debug for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

const F2: WinogradTile = WinogradTile::F2x2_3x3;
const F4: WinogradTile = WinogradTile::F4x4_3x3;

/// A Winograd variant in one line: name, tile, ISA, and `module::UKERNELS` naming the GEMM
/// microkernels in `gemm::module` (the transforms come from `winograd::module`).
macro_rules! winograd {
    ($name:literal, $tile:ident, $isa:ident, $m:ident::$uk:ident) => {
        v($name, Algorithm::Winograd($tile), $isa, |s, w, b, a| {
            winograd::build($tile, s, w, b, a, &gemm::$m::$uk, &winograd::$m::TRANSFORMS)
        })
    };
}

fn v(name: &'static str, algorithm: Algorithm, isa: Isa, build: Build) -> Variant {
    Variant {
        name,
        algorithm,
        isa,
        build,
    }
}

/// Every variant compiled into this build, in a fixed order (algorithm, then ISA).
pub fn variants() -> &'static [Variant] {
    static ALL: OnceLock<Vec<Variant>> = OnceLock::new();
    ALL.get_or_init(|| {
        use Algorithm::{Depthwise, Direct, Im2col, Pointwise};
        use Isa::*;
        let mut r = vec![
            v("direct-scalar-4x4", Direct, Scalar, |s, w, b, a| {
                direct::build(s, w, b, a, &gemm::scalar::UKERNELS)
            }),
            v("direct-portable-6x8", Direct, Portable, |s, w, b, a| {
                direct::build(s, w, b, a, &gemm::portable::UKERNELS)
            }),
            v("im2col-scalar-4x4", Im2col, Scalar, |s, w, b, a| {
                im2col::build(s, w, b, a, &gemm::scalar::UKERNELS)
            }),
            v("im2col-portable-6x8", Im2col, Portable, |s, w, b, a| {
                im2col::build(s, w, b, a, &gemm::portable::UKERNELS)
            }),
            winograd!("winograd-f2-scalar-4x4", F2, Scalar, scalar::UKERNELS),
            winograd!("winograd-f2-portable-6x8", F2, Portable, portable::UKERNELS),
            winograd!("winograd-f4-scalar-4x4", F4, Scalar, scalar::UKERNELS),
            winograd!("winograd-f4-portable-6x8", F4, Portable, portable::UKERNELS),
            v("depthwise-scalar-1c", Depthwise, Scalar, |s, w, b, a| {
                depthwise::build(s, w, b, a, &depthwise::scalar::UKERNEL)
            }),
            v(
                "depthwise-portable-8c",
                Depthwise,
                Portable,
                |s, w, b, a| depthwise::build(s, w, b, a, &depthwise::portable::UKERNEL),
            ),
            v("pointwise-scalar-4x4", Pointwise, Scalar, |s, w, b, a| {
                pointwise::build(s, w, b, a, &gemm::scalar::UKERNELS)
            }),
            v(
                "pointwise-portable-6x8",
                Pointwise,
                Portable,
                |s, w, b, a| pointwise::build(s, w, b, a, &gemm::portable::UKERNELS),
            ),
        ];
        #[cfg(target_arch = "x86_64")]
        r.extend([
            v("direct-avx2-6x16", Direct, Avx2, |s, w, b, a| {
                direct::build(s, w, b, a, &gemm::avx2::UKERNELS)
            }),
            v("direct-avx512-14x32", Direct, Avx512, |s, w, b, a| {
                direct::build(s, w, b, a, &gemm::avx512::UKERNELS)
            }),
            v("direct-avx512-6x64", Direct, Avx512, |s, w, b, a| {
                direct::build(s, w, b, a, &gemm::avx512::UKERNELS_6X64)
            }),
            v("direct-avx512-8x48", Direct, Avx512, |s, w, b, a| {
                direct::build(s, w, b, a, &gemm::avx512::UKERNELS_8X48)
            }),
            v("im2col-avx2-6x16", Im2col, Avx2, |s, w, b, a| {
                im2col::build(s, w, b, a, &gemm::avx2::UKERNELS)
            }),
            v("im2col-avx512-14x32", Im2col, Avx512, |s, w, b, a| {
                im2col::build(s, w, b, a, &gemm::avx512::UKERNELS)
            }),
            winograd!("winograd-f2-avx2-6x16", F2, Avx2, avx2::UKERNELS),
            winograd!("winograd-f2-avx512-14x32", F2, Avx512, avx512::UKERNELS),
            winograd!("winograd-f2-avx512-6x64", F2, Avx512, avx512::UKERNELS_6X64),
            winograd!("winograd-f2-avx512-8x48", F2, Avx512, avx512::UKERNELS_8X48),
            winograd!("winograd-f4-avx2-6x16", F4, Avx2, avx2::UKERNELS),
            winograd!("winograd-f4-avx512-14x32", F4, Avx512, avx512::UKERNELS),
            winograd!("winograd-f4-avx512-6x64", F4, Avx512, avx512::UKERNELS_6X64),
            winograd!("winograd-f4-avx512-7x32", F4, Avx512, avx512::UKERNELS_7X32),
            v("depthwise-avx2-8c", Depthwise, Avx2, |s, w, b, a| {
                depthwise::build(s, w, b, a, &depthwise::avx2::UKERNEL)
            }),
            v("depthwise-avx512-16c", Depthwise, Avx512, |s, w, b, a| {
                depthwise::build(s, w, b, a, &depthwise::avx512::UKERNEL)
            }),
            v("pointwise-avx2-6x16", Pointwise, Avx2, |s, w, b, a| {
                pointwise::build(s, w, b, a, &gemm::avx2::UKERNELS)
            }),
            v("pointwise-avx512-14x32", Pointwise, Avx512, |s, w, b, a| {
                pointwise::build(s, w, b, a, &gemm::avx512::UKERNELS)
            }),
            v("pointwise-avx512-6x64", Pointwise, Avx512, |s, w, b, a| {
                pointwise::build(s, w, b, a, &gemm::avx512::UKERNELS_6X64)
            }),
            v("pointwise-avx512-8x48", Pointwise, Avx512, |s, w, b, a| {
                pointwise::build(s, w, b, a, &gemm::avx512::UKERNELS_8X48)
            }),
        ]);
        #[cfg(target_arch = "aarch64")]
        r.extend([
            v("direct-neon-8x12", Direct, Neon, |s, w, b, a| {
                direct::build(s, w, b, a, &gemm::neon::UKERNELS)
            }),
            v("im2col-neon-8x12", Im2col, Neon, |s, w, b, a| {
                im2col::build(s, w, b, a, &gemm::neon::UKERNELS)
            }),
            winograd!("winograd-f2-neon-8x12", F2, Neon, neon::UKERNELS),
            winograd!("winograd-f4-neon-8x12", F4, Neon, neon::UKERNELS),
            v("depthwise-neon-4c", Depthwise, Neon, |s, w, b, a| {
                depthwise::build(s, w, b, a, &depthwise::neon::UKERNEL)
            }),
            v("pointwise-neon-8x12", Pointwise, Neon, |s, w, b, a| {
                pointwise::build(s, w, b, a, &gemm::neon::UKERNELS)
            }),
        ]);
        r.sort_by_key(|v| (v.algorithm, v.isa));
        r
    })
}
