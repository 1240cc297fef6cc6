//! The vocabulary every layer of the crate speaks: which algorithm, which Winograd tile, which
//! fused activation, which register tile. Plain data with names; what each one accepts is checked
//! in `checks.rs`, which sits above the shape and error types.

use std::fmt;

/// Winograd output tile x kernel size, with its interpolation points (which set the rounding
/// error at no cost in speed: see `toom_cook.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WinogradTile {
    /// F(2x2, 3x3), points {0, 1, -1}: 4x4 input tiles, 16 GEMMs, 2.25x fewer multiplies.
    F2x2_3x3,
    /// F(4x4, 3x3), points {0, 1, -1, 2, -2} (Lavin & Gray): 6x6 input tiles, 36 GEMMs, 4x
    /// fewer multiplies, larger rounding error.
    F4x4_3x3,
    /// F(4x4, 3x3), points {0, -1, 1, 1/2, -2} (Barabasz et al., the most accurate published
    /// set for F(4,3)): same cost, smaller error.
    F4x4_3x3Half,
    /// F(6x6, 3x3), points {0, 1, -1, 2, -2, 1/2, -1/2} (Lavin; NNPACK, ncnn): 8x8 input tiles,
    /// 64 GEMMs, 5.06x fewer multiplies.
    F6x6_3x3,
    /// F(6x6, 3x3), integer points {0, 1, -1, 2, -2, 3, -3}: the plain Toom-Cook choice, about
    /// 100x less accurate than [`WinogradTile::F6x6_3x3`] at the same cost (measured, for the
    /// accuracy/speed front).
    F6x6_3x3Integer,
}

impl WinogradTile {
    /// Every tile and point set.
    pub const ALL: [WinogradTile; 5] = [
        WinogradTile::F2x2_3x3,
        WinogradTile::F4x4_3x3,
        WinogradTile::F4x4_3x3Half,
        WinogradTile::F6x6_3x3,
        WinogradTile::F6x6_3x3Integer,
    ];

    /// Output tile edge m of F(m x m, 3x3).
    pub const fn m(self) -> usize {
        match self {
            WinogradTile::F2x2_3x3 => 2,
            WinogradTile::F4x4_3x3 | WinogradTile::F4x4_3x3Half => 4,
            WinogradTile::F6x6_3x3 | WinogradTile::F6x6_3x3Integer => 6,
        }
    }

    /// The m + 1 finite interpolation points, in the order the transforms use (a pair a, -a
    /// adjacent); the point at infinity is implied.
    pub const fn points(self) -> &'static [f64] {
        match self {
            WinogradTile::F2x2_3x3 => &[0.0, 1.0, -1.0],
            WinogradTile::F4x4_3x3 => &[0.0, 1.0, -1.0, 2.0, -2.0],
            WinogradTile::F4x4_3x3Half => &[0.0, -1.0, 1.0, 0.5, -2.0],
            WinogradTile::F6x6_3x3 => &[0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5],
            WinogradTile::F6x6_3x3Integer => &[0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0],
        }
    }

    /// Multiplies saved against direct: `(m * 3)^2` per output tile become `(m + 2)^2`
    /// (2.25 for F2, 4 for F4, 5.06 for F6). The ISA peak times this is Winograd's effective roof.
    pub fn multiply_reduction(self) -> f64 {
        let (m, a) = (self.m() as f64, (self.m() + 2) as f64);
        (m * 3.0 / a).powi(2)
    }

    /// The bound on the growth of values through the transforms:
    /// `|Y| <= growth * C * max|x| * max|w|` before the bias (81 for F2, 36100 for F4 with the
    /// standard points), from the row sums of the transform matrices.
    pub fn growth(self) -> f64 {
        use crate::toom_cook::{g_row_sum, Tables};
        let (p, g) = (self.points(), g_row_sum(self.points()));
        match self.m() {
            2 => Tables::<4>::new(p).growth(g),
            4 => Tables::<6>::new(p).growth(g),
            _ => Tables::<8>::new(p).growth(g),
        }
    }
}

impl fmt::Display for WinogradTile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.m();
        write!(f, "F({m}x{m},3x3)")?;
        if matches!(
            self,
            WinogradTile::F4x4_3x3Half | WinogradTile::F6x6_3x3Integer
        ) {
            let p: Vec<String> = self.points().iter().map(|&x| point(x)).collect();
            write!(f, " {{{}}}", p.join(","))?;
        }
        Ok(())
    }
}

/// A point as it is usually written: `1/2`, `-2`.
fn point(x: f64) -> String {
    if x != 0.0 && x.abs() < 1.0 {
        format!(
            "{}1/{}",
            if x < 0.0 { "-" } else { "" },
            (1.0 / x.abs()).round()
        )
    } else {
        format!("{x}")
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
    pub const ALL: [Algorithm; 9] = [
        Algorithm::Direct,
        Algorithm::Im2col,
        Algorithm::Winograd(WinogradTile::F2x2_3x3),
        Algorithm::Winograd(WinogradTile::F4x4_3x3),
        Algorithm::Winograd(WinogradTile::F4x4_3x3Half),
        Algorithm::Winograd(WinogradTile::F6x6_3x3),
        Algorithm::Winograd(WinogradTile::F6x6_3x3Integer),
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
            Algorithm::Winograd(WinogradTile::F4x4_3x3Half) => "winograd-f4-half",
            Algorithm::Winograd(WinogradTile::F6x6_3x3) => "winograd-f6",
            Algorithm::Winograd(WinogradTile::F6x6_3x3Integer) => "winograd-f6-int",
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
            Algorithm::Winograd(t) => write!(f, "Winograd {t}"),
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
