//! The registry: every (algorithm, ISA, tile) variant compiled into this build. Dispatch, tests and
//! benchmarks all iterate [`variants`]; adding a variant is one `row` line below, and its tests
//! and benchmarks follow.
//!
//! A row names an algorithm and a microkernel; the microkernel is made from its ISA's vector type
//! and its register tile (`gemm::<Avx512, 14, 2>()`: 14 rows x 2 zmm = 14x32), and the row's ISA,
//! tile and name are read from it, never typed by hand. The registry only lists builders:
//! `ConvPlan` (in `plan.rs`) chooses among them, validates, builds and sizes the scratch.

use std::sync::OnceLock;

use crate::depthwise::{self, DwUkernel};
use crate::gemm::{self, Ukernels};
use crate::kernel::Kernel;
use crate::simd::{Act, Simd};
use crate::winograd::{self, Transforms};
use crate::{direct, im2col, pointwise};
use crate::{Algorithm, ConvError, ConvShape, Isa, Tile, Types};

/// The microkernel a row is built on.
#[derive(Clone, Copy)]
enum Micro {
    /// A GEMM register tile, with its ISA's Winograd transforms (used by Winograd rows only).
    Gemm(Ukernels, Transforms),
    /// A depthwise row microkernel.
    Depthwise(DwUkernel),
}

/// The GEMM microkernels of `MR` rows x `NV` vectors on `S`.
fn gemm<S: Simd, const MR: usize, const NV: usize>() -> Micro {
    Micro::Gemm(gemm::ukernels::<S, MR, NV>(), winograd::transforms::<S>())
}

/// The depthwise row microkernel on `S` (one vector of channels).
fn dw<S: Simd>() -> Micro {
    Micro::Depthwise(depthwise::ukernel::<S>())
}

/// One kernel variant: an algorithm written for one ISA with one register tile.
pub struct Variant {
    name: String,
    algorithm: Algorithm,
    micro: Micro,
}

impl Variant {
    /// A row. Panics (at registry initialisation, which every test reaches) when the algorithm
    /// and the microkernel do not go together: a mistake in the table below, not in input.
    fn new(algorithm: Algorithm, micro: Micro) -> Variant {
        let gemm_algorithm = match algorithm {
            Algorithm::Direct | Algorithm::Im2col | Algorithm::Winograd(_) => true,
            Algorithm::Pointwise => true,
            Algorithm::Depthwise => false,
        };
        let gemm_micro = matches!(micro, Micro::Gemm(..));
        assert_eq!(
            gemm_algorithm,
            gemm_micro,
            "registry row: {algorithm} needs a {} microkernel",
            if gemm_algorithm { "GEMM" } else { "depthwise" }
        );
        let mut v = Variant {
            name: String::new(),
            algorithm,
            micro,
        };
        v.name = format!(
            "{}-{}-{}-{}",
            v.types(),
            algorithm.name(),
            v.isa().name(),
            v.tile()
        );
        v
    }
    /// `<types>-<algorithm>-<isa>-<tile>`, e.g. `f32-direct-avx512-14x32` or
    /// `f32-depthwise-avx2-8c`, derived from the row's algorithm and its microkernel's element
    /// types, ISA and tile (as XNNPACK names its kernels: `f32-dwconv-9p16c-fma3`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The element types, from the microkernel.
    pub fn types(&self) -> Types {
        match self.micro {
            Micro::Gemm(uk, _) => uk.types,
            Micro::Depthwise(uk) => uk.types,
        }
    }
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The instruction set, from the microkernel.
    pub fn isa(&self) -> Isa {
        match self.micro {
            Micro::Gemm(uk, _) => uk.isa,
            Micro::Depthwise(uk) => uk.isa,
        }
    }
    /// The register tile, from the microkernel's constants.
    pub fn tile(&self) -> Tile {
        match self.micro {
            Micro::Gemm(uk, _) => uk.tile(),
            Micro::Depthwise(uk) => uk.tile(),
        }
    }
    /// Output channels per register tile (`NR` of an `MRxNR` tile); `None` for other tiles.
    pub fn tile_nr(&self) -> Option<usize> {
        match self.tile() {
            Tile::Gemm { nr, .. } => Some(nr),
            Tile::Channels(_) => None,
        }
    }
    /// GEMM rows per register tile (`MR` of an `MRxNR` tile: output pixels, or Winograd tiles);
    /// `None` for other tiles.
    pub fn tile_mr(&self) -> Option<usize> {
        match self.tile() {
            Tile::Gemm { mr, .. } => Some(mr),
            Tile::Channels(_) => None,
        }
    }
    /// Whether this variant can compute `shape` (the error names the field that stops it).
    pub fn supports(&self, shape: &ConvShape) -> Result<(), ConvError> {
        self.algorithm.supports(shape)
    }
    /// Whether this CPU runs it.
    pub fn is_available(&self) -> bool {
        self.isa().is_available()
    }

    /// Packs the weights and builds the kernel. The caller (`ConvPlan`) has checked the shape,
    /// the ISA and every buffer length.
    pub(crate) fn build(
        &self,
        shape: &ConvShape,
        weights: &[f32],
        bias: Option<&[f32]>,
        act: Act,
    ) -> Result<Box<dyn Kernel>, ConvError> {
        let (s, w, b, a) = (shape, weights, bias, act);
        let gemm = || match self.micro {
            Micro::Gemm(uk, tr) => (uk, tr),
            Micro::Depthwise(_) => unreachable!("Variant::new pairs {} with a GEMM", self.name),
        };
        match self.algorithm {
            Algorithm::Direct => direct::build(s, w, b, a, gemm().0),
            Algorithm::Im2col => im2col::build(s, w, b, a, gemm().0),
            Algorithm::Pointwise => pointwise::build(s, w, b, a, gemm().0),
            Algorithm::Winograd(t) => {
                let (uk, tr) = gemm();
                winograd::build(t, s, w, b, a, uk, tr)
            }
            Algorithm::Depthwise => match self.micro {
                Micro::Depthwise(uk) => depthwise::build(s, w, b, a, uk),
                Micro::Gemm(..) => unreachable!("Variant::new pairs depthwise with its own"),
            },
        }
    }
}

impl std::fmt::Debug for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// Every variant compiled into this build, in a fixed order (algorithm, then ISA).
pub fn variants() -> &'static [Variant] {
    static ALL: OnceLock<Vec<Variant>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut r = portable_rows();
        #[cfg(target_arch = "x86_64")]
        r.extend(x86_rows());
        #[cfg(target_arch = "aarch64")]
        r.extend(arm_rows());
        // Stable sort: within one (algorithm, ISA) the rows keep the order of the lists, which
        // is the tie-break `ConvPlan::new` documents.
        r.sort_by_key(|v| (v.algorithm, v.isa()));
        r
    })
}

/// The rows every target has: scalar and portable (`wide`).
fn portable_rows() -> Vec<Variant> {
    use crate::simd::portable::Portable;
    use crate::simd::Scalar;
    use crate::WinogradTile::{
        F2x2_3x3 as F2, F4x4_3x3 as F4, F4x4_3x3Half as F4h, F6x6_3x3 as F6, F6x6_3x3Integer as F6i,
    };
    use Algorithm::{Depthwise, Direct, Im2col, Pointwise, Winograd};
    let row = Variant::new;
    vec![
        // Scalar: 4x4 accumulators (16 of x86-64's 16 xmm); one channel per depthwise step.
        row(Direct, gemm::<Scalar, 4, 4>()),
        row(Im2col, gemm::<Scalar, 4, 4>()),
        row(Winograd(F2), gemm::<Scalar, 4, 4>()),
        row(Winograd(F4), gemm::<Scalar, 4, 4>()),
        row(Winograd(F4h), gemm::<Scalar, 4, 4>()),
        row(Winograd(F6), gemm::<Scalar, 4, 4>()),
        row(Winograd(F6i), gemm::<Scalar, 4, 4>()),
        row(Pointwise, gemm::<Scalar, 4, 4>()),
        row(Depthwise, dw::<Scalar>()),
        // Portable (`wide::f32x8`): 6 rows x 1 vector.
        row(Direct, gemm::<Portable, 6, 1>()),
        row(Im2col, gemm::<Portable, 6, 1>()),
        row(Winograd(F2), gemm::<Portable, 6, 1>()),
        row(Winograd(F4), gemm::<Portable, 6, 1>()),
        row(Winograd(F4h), gemm::<Portable, 6, 1>()),
        row(Winograd(F6), gemm::<Portable, 6, 1>()),
        row(Winograd(F6i), gemm::<Portable, 6, 1>()),
        row(Pointwise, gemm::<Portable, 6, 1>()),
        row(Depthwise, dw::<Portable>()),
    ]
}

/// The AVX2+FMA and AVX-512 rows.
#[cfg(target_arch = "x86_64")]
fn x86_rows() -> Vec<Variant> {
    use crate::simd::avx2::Avx2;
    use crate::simd::avx512::Avx512;
    use crate::WinogradTile::{
        F2x2_3x3 as F2, F4x4_3x3 as F4, F4x4_3x3Half as F4h, F6x6_3x3 as F6, F6x6_3x3Integer as F6i,
    };
    use Algorithm::{Depthwise, Direct, Im2col, Pointwise, Winograd};
    let row = Variant::new;
    vec![
        // AVX2+FMA 6x16: 12 accumulators + 2 B + 1 broadcast = 15 of 16 ymm (the
        // XNNPACK / MLAS tile).
        row(Direct, gemm::<Avx2, 6, 2>()),
        row(Im2col, gemm::<Avx2, 6, 2>()),
        row(Winograd(F2), gemm::<Avx2, 6, 2>()),
        row(Winograd(F4), gemm::<Avx2, 6, 2>()),
        row(Winograd(F4h), gemm::<Avx2, 6, 2>()),
        row(Winograd(F6), gemm::<Avx2, 6, 2>()),
        row(Winograd(F6i), gemm::<Avx2, 6, 2>()),
        row(Pointwise, gemm::<Avx2, 6, 2>()),
        // 12x8: 12 accumulators + 1 B + 1 broadcast, for GEMMs 8 columns wide that 16
        // would pad by half (ResNeXt's groups of 8 output channels).
        row(Direct, gemm::<Avx2, 12, 1>()),
        // 5x16: 10 accumulators (enough for 2 FMA pipes of latency 4-5) for GEMMs whose
        // rows 6 would pad: 7x7 images (49 rows: 6 pads to 54, 5 to 50).
        row(Direct, gemm::<Avx2, 5, 2>()),
        row(Im2col, gemm::<Avx2, 5, 2>()),
        row(Pointwise, gemm::<Avx2, 5, 2>()),
        row(Depthwise, dw::<Avx2>()),
        // AVX-512 14x32: 28 accumulators + 2 B + 1 broadcast = 31 of 32 zmm.
        row(Direct, gemm::<Avx512, 14, 2>()),
        row(Im2col, gemm::<Avx512, 14, 2>()),
        row(Winograd(F2), gemm::<Avx512, 14, 2>()),
        row(Winograd(F4), gemm::<Avx512, 14, 2>()),
        row(Winograd(F4h), gemm::<Avx512, 14, 2>()),
        row(Winograd(F6), gemm::<Avx512, 14, 2>()),
        row(Winograd(F6i), gemm::<Avx512, 14, 2>()),
        row(Pointwise, gemm::<Avx512, 14, 2>()),
        // 6x64: 24 accumulators + 4 B + 1 broadcast; 6 broadcasts per 24 FMAs and only 6
        // row pointers (14x32 keeps 14 in general registers and spills some); K % 64 == 0.
        row(Direct, gemm::<Avx512, 6, 4>()),
        row(Winograd(F2), gemm::<Avx512, 6, 4>()),
        row(Winograd(F4), gemm::<Avx512, 6, 4>()),
        row(Pointwise, gemm::<Avx512, 6, 4>()),
        // 8x48: 24 accumulators + 3 B + 1 broadcast, for K a multiple of 48 that 32 and
        // 64 would pad (96, 144, ...), and 16-tile Winograd F2 GEMMs (7x7 images).
        row(Direct, gemm::<Avx512, 8, 3>()),
        row(Winograd(F2), gemm::<Avx512, 8, 3>()),
        row(Pointwise, gemm::<Avx512, 8, 3>()),
        // 7x32: Winograd F4's 49-tile GEMMs (28x28 images), where 14 and 6 rows pad.
        row(Winograd(F4), gemm::<Avx512, 7, 2>()),
        row(Depthwise, dw::<Avx512>()),
    ]
}

/// The NEON rows.
#[cfg(target_arch = "aarch64")]
fn arm_rows() -> Vec<Variant> {
    use crate::simd::neon::Neon;
    use crate::WinogradTile::{
        F2x2_3x3 as F2, F4x4_3x3 as F4, F4x4_3x3Half as F4h, F6x6_3x3 as F6, F6x6_3x3Integer as F6i,
    };
    use Algorithm::{Depthwise, Direct, Im2col, Pointwise, Winograd};
    let row = Variant::new;
    vec![
        // NEON 8x12: 24 accumulators + 3 B + 1 broadcast = 28 of 32 q registers.
        row(Direct, gemm::<Neon, 8, 3>()),
        row(Im2col, gemm::<Neon, 8, 3>()),
        row(Winograd(F2), gemm::<Neon, 8, 3>()),
        row(Winograd(F4), gemm::<Neon, 8, 3>()),
        row(Winograd(F4h), gemm::<Neon, 8, 3>()),
        row(Winograd(F6), gemm::<Neon, 8, 3>()),
        row(Winograd(F6i), gemm::<Neon, 8, 3>()),
        row(Pointwise, gemm::<Neon, 8, 3>()),
        row(Depthwise, dw::<Neon>()),
    ]
}
