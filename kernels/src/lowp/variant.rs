//! One low-precision registry row type for every family ([`LowpVariant`]): an algorithm on one
//! ISA (with the extension its dot product needs) and tile, its element types, and its builder.
//! Each family's plan (`quant::QConvPlan`, `bf16::BConvPlan`) takes the rows of its own family.

use super::kernel::LowpKernel;
use crate::simd::bf16::Bf;
use crate::simd::dot::{Dot, Family};
use crate::simd::int8::Q8;
use crate::{Algorithm, ConvError, ConvShape, DType, Isa, Tile, Types};

/// Builds a family's kernel from the shape, the weights as given, the per-channel epilogue
/// constants and the activation the padding holds.
pub(crate) type Builder<F> = fn(
    &ConvShape,
    &[<F as Family>::W],
    &<F as Family>::Cols,
    <F as Family>::X,
) -> Result<Box<dyn LowpKernel<F>>, ConvError>;

/// A row's builder, by family.
#[derive(Clone, Copy)]
pub(crate) enum Build {
    Q8(Builder<Q8>),
    Bf(Builder<Bf>),
}

/// A family with registry rows: its element types and its builders.
pub(crate) trait Rows: Family + Sized {
    const TYPES: Types;
    fn wrap(b: Builder<Self>) -> Build;
    fn unwrap(b: Build) -> Option<Builder<Self>>;
}

impl Rows for Q8 {
    const TYPES: Types = Types {
        input: DType::U8,
        weight: DType::S8,
        acc: DType::S32,
        output: DType::U8,
    };
    fn wrap(b: Builder<Q8>) -> Build {
        Build::Q8(b)
    }
    fn unwrap(b: Build) -> Option<Builder<Q8>> {
        match b {
            Build::Q8(b) => Some(b),
            Build::Bf(_) => None,
        }
    }
}

impl Rows for Bf {
    const TYPES: Types = Types {
        input: DType::Bf16,
        weight: DType::Bf16,
        acc: DType::F32,
        output: DType::F32,
    };
    fn wrap(b: Builder<Bf>) -> Build {
        Build::Bf(b)
    }
    fn unwrap(b: Build) -> Option<Builder<Bf>> {
        match b {
            Build::Bf(b) => Some(b),
            Build::Q8(_) => None,
        }
    }
}

/// One low-precision variant (int8 or bf16): an algorithm on one ISA, with the extension its
/// dot product needs, and a tile.
pub struct LowpVariant {
    name: String,
    algorithm: Algorithm,
    isa: Isa,
    label: &'static str,
    tile: Tile,
    types: Types,
    available: fn() -> bool,
    build: Build,
}

impl LowpVariant {
    /// A GEMM-class row (direct or pointwise) of family `F` on token `S`, tile `MR x NV` vectors.
    pub(crate) fn gemm<F: Rows, S: Dot<F>, const MR: usize, const NV: usize>(
        algorithm: Algorithm,
        label: &'static str,
        available: fn() -> bool,
    ) -> LowpVariant {
        let tile = Tile::Gemm {
            mr: MR,
            nr: NV * S::LANES,
        };
        let build: Builder<F> = super::gemm::build::<F, S, MR, NV>;
        LowpVariant::new::<F>(algorithm, S::ISA, label, tile, available, build)
    }
    /// `label` is the ISA as the name spells it: the base ISA's name, or the extension's
    /// (`avxvnni`, `avx512vnni`, `avx512bf16`).
    pub(crate) fn new<F: Rows>(
        algorithm: Algorithm,
        isa: Isa,
        label: &'static str,
        tile: Tile,
        available: fn() -> bool,
        build: Builder<F>,
    ) -> LowpVariant {
        let name = format!("{}-{}-{label}-{tile}", F::TYPES, algorithm.name());
        LowpVariant {
            name,
            algorithm,
            isa,
            label,
            tile,
            types: F::TYPES,
            available,
            build: F::wrap(build),
        }
    }
    /// `<types>-<algorithm>-<isa>-<tile>`, e.g. `u8s8u8-direct-avx512vnni-8x48`,
    /// `bf16bf16f32-direct-avx512bf16-8x48`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The base instruction set.
    pub fn isa(&self) -> Isa {
        self.isa
    }
    /// The extension the dot product needs beyond the base ISA (`"vnni"`, `"bf16"`), or `""`.
    pub fn extension(&self) -> &'static str {
        ["vnni", "bf16"]
            .into_iter()
            .find(|e| self.label.ends_with(e) && self.label != *e)
            .unwrap_or("")
    }
    /// The instruction set as the name spells it (`avx2`, `avxvnni`, `avx512vnni`,
    /// `avx512bf16`).
    pub fn isa_label(&self) -> &'static str {
        self.label
    }
    /// The register tile.
    pub fn tile(&self) -> Tile {
        self.tile
    }
    /// The element types.
    pub fn types(&self) -> Types {
        self.types
    }
    /// Whether this CPU runs it (base ISA and extension).
    pub fn is_available(&self) -> bool {
        (self.available)()
    }
    /// Whether it can compute `shape`: depthwise rows need a depthwise shape, direct rows any
    /// other, pointwise rows a 1x1 stride-1 unpadded ungrouped one.
    pub fn supports(&self, shape: &ConvShape) -> Result<(), ConvError> {
        self.algorithm.supports(shape)
    }
    /// This row's builder if it is of family `F`, else an error naming the row.
    pub(crate) fn builder<F: Rows>(&self) -> Result<Builder<F>, ConvError> {
        F::unwrap(self.build).ok_or_else(|| ConvError::InvalidOption {
            field: "variant",
            value: self.name.clone(),
            reason: format!(
                "its element types are {}, this plan computes {}",
                self.types,
                F::TYPES
            ),
        })
    }
}
