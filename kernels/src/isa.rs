//! `Isa`: the instruction sets a variant can be written for. Run-time detection and the one
//! dispatch from an `Isa` value to its vector type live with the vector types, in `simd/mod.rs`.

use std::fmt;

/// An instruction set a kernel variant is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// Plain Rust, no intrinsics, no explicit vectors.
    Scalar,
    /// The `wide` crate's `f32x8`, compiled for the build's baseline target (no run-time dispatch).
    Portable,
    /// x86-64 AVX2 + FMA (256-bit), chosen at run time.
    Avx2,
    /// x86-64 AVX-512F (512-bit), chosen at run time.
    Avx512,
    /// aarch64 Advanced SIMD (128-bit), always present on aarch64.
    Neon,
}

impl Isa {
    /// Every instruction set, in order of vector width.
    pub const ALL: [Isa; 5] = [
        Isa::Scalar,
        Isa::Portable,
        Isa::Avx2,
        Isa::Avx512,
        Isa::Neon,
    ];

    /// Lower-case name used in variant names, CLI filters and results files.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    /// Parses [`Isa::name`].
    pub fn from_name(s: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|i| i.name() == s.trim().to_ascii_lowercase())
    }

    /// Preference among the ISAs a CPU runs, higher first: the native vector ISAs by width,
    /// the portable `wide` build below any of them (on aarch64 its 8 lanes are two NEON
    /// registers), scalar last. What "the widest ISA" means wherever one is picked.
    pub fn rank(self) -> u8 {
        match self {
            Isa::Scalar => 0,
            Isa::Portable => 1,
            Isa::Neon => 2,
            Isa::Avx2 => 3,
            Isa::Avx512 => 4,
        }
    }

    /// f32 lanes per vector register.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Scalar => 1,
            Isa::Portable | Isa::Avx2 => 8,
            Isa::Avx512 => 16,
            Isa::Neon => 4,
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
