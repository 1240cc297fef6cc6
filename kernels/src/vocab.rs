//! The vocabulary every layer of the crate speaks: which algorithm, which Winograd tile, which
//! fused activation, which register tile. Plain data with names; what each one accepts is checked
//! in `checks.rs`, which sits above the shape and error types.

use std::fmt;

/// Winograd output tile x kernel size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WinogradTile {
    /// F(2x2, 3x3): 4x4 input tiles, 16 GEMMs, 2.25x fewer multiplies.
    F2x2_3x3,
    /// F(4x4, 3x3): 6x6 input tiles, 36 GEMMs, 4x fewer multiplies, larger rounding error.
    F4x4_3x3,
}

impl WinogradTile {
    /// Output tile edge m of F(m x m, 3x3).
    pub fn m(self) -> usize {
        match self {
            WinogradTile::F2x2_3x3 => 2,
            WinogradTile::F4x4_3x3 => 4,
        }
    }

    /// Multiplies saved against direct: `(m * 3)^2` per output tile become `(m + 2)^2`
    /// (2.25 for F2, 4 for F4). The ISA peak times this is Winograd's effective roof.
    pub fn multiply_reduction(self) -> f64 {
        let (m, a) = (self.m() as f64, (self.m() + 2) as f64);
        (m * 3.0 / a).powi(2)
    }
}

/// The convolution algorithm of a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// Direct convolution (as an indirect GEMM over the input in place); any shape but a
    /// depthwise one, a grouped one group by group.
    Direct,
    /// Tiled im2col (the gather is the GEMM's A packing, scratch bounded) + packed GEMM; any
    /// shape but a depthwise one, a grouped one group by group.
    Im2col,
    /// Winograd minimal filtering; 3x3, stride 1, dilation 1, groups 1.
    Winograd(WinogradTile),
    /// Depthwise: groups == c == k, any kernel size, stride, dilation and padding.
    Depthwise,
    /// 1x1, stride 1, no padding, groups 1: one GEMM over the NHWC input.
    Pointwise,
}

impl Algorithm {
    /// Every algorithm, in a fixed order.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Direct,
        Algorithm::Im2col,
        Algorithm::Winograd(WinogradTile::F2x2_3x3),
        Algorithm::Winograd(WinogradTile::F4x4_3x3),
        Algorithm::Depthwise,
        Algorithm::Pointwise,
    ];

    /// Short lower-case name used in variant names and results files.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Direct => "direct",
            Algorithm::Im2col => "im2col",
            Algorithm::Winograd(WinogradTile::F2x2_3x3) => "winograd-f2",
            Algorithm::Winograd(WinogradTile::F4x4_3x3) => "winograd-f4",
            Algorithm::Depthwise => "depthwise",
            Algorithm::Pointwise => "pointwise",
        }
    }

    /// How many times fewer multiplies than direct it does (1 except for Winograd): the factor
    /// between its effective GFLOP/s roof and the ISA's FMA peak.
    pub fn multiply_reduction(self) -> f64 {
        match self {
            Algorithm::Winograd(t) => t.multiply_reduction(),
            Algorithm::Direct | Algorithm::Im2col | Algorithm::Depthwise | Algorithm::Pointwise => {
                1.0
            }
        }
    }

    /// Parses [`Algorithm::name`].
    pub fn from_name(s: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == s.trim())
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Algorithm::Direct => f.write_str("Direct"),
            Algorithm::Im2col => f.write_str("Im2col"),
            Algorithm::Winograd(WinogradTile::F2x2_3x3) => f.write_str("Winograd F(2x2,3x3)"),
            Algorithm::Winograd(WinogradTile::F4x4_3x3) => f.write_str("Winograd F(4x4,3x3)"),
            Algorithm::Depthwise => f.write_str("Depthwise"),
            Algorithm::Pointwise => f.write_str("Pointwise"),
        }
    }
}

/// The activation fused into the kernel's store, after the bias.
///
/// NaN rule, identical in every variant and in the reference: `max(x, lo)` returns `lo` when `x`
/// is NaN (the x86 `maxps` rule), so ReLU, ReLU6 and Clamp map NaN to their lower bound;
/// `None` lets NaN through.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `min(max(x, min), max)`.
    Clamp {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
}

/// A variant's register tile, read from its microkernel's own constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tile {
    /// A GEMM accumulator tile: `mr` rows (output pixels, or Winograd tiles) x `nr` output
    /// channels.
    Gemm {
        /// Rows per tile.
        mr: usize,
        /// Output channels per tile.
        nr: usize,
    },
    /// Channels per vector (depthwise).
    Channels(usize),
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tile::Gemm { mr, nr } => write!(f, "{mr}x{nr}"),
            Tile::Channels(c) => write!(f, "{c}c"),
        }
    }
}
