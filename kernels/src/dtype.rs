//! The data-type axis: the element types a variant reads, accumulates in and writes. The f32
//! registry's variants are f32 throughout, the int8 ones (`quant`) u8s8u8; the types are carried from here to the registry rows, their
//! names (`f32-direct-avx2-6x16`), buffers, scratch sizing and the records the harness writes,
//! so that an int8 or bf16 variant is a vector impl for its types, a body and registry rows.

use std::fmt;

/// One element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// IEEE binary32.
    F32,
    /// bfloat16 (the upper half of an f32).
    Bf16,
    /// Signed 8-bit integer.
    S8,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 32-bit integer (integer accumulators).
    S32,
}

impl DType {
    /// Every type, in name order of the table below.
    pub const ALL: [DType; 5] = [DType::F32, DType::Bf16, DType::S8, DType::U8, DType::S32];

    /// The name oneDNN and XNNPACK use: `f32`, `bf16`, `s8`, `u8`, `s32`.
    pub const fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::Bf16 => "bf16",
            DType::S8 => "s8",
            DType::U8 => "u8",
            DType::S32 => "s32",
        }
    }

    /// The type of this name.
    pub fn from_name(s: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == s)
    }

    /// Bytes per element.
    pub const fn bytes(self) -> usize {
        match self {
            DType::F32 | DType::S32 => 4,
            DType::Bf16 => 2,
            DType::S8 | DType::U8 => 1,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The element types of one kernel: what it reads (input and weights), accumulates in and
/// writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Types {
    /// Activations read.
    pub input: DType,
    /// Weights read.
    pub weight: DType,
    /// Accumulators.
    pub acc: DType,
    /// Activations written.
    pub output: DType,
}

impl Types {
    /// f32 throughout.
    pub const F32: Types = Types {
        input: DType::F32,
        weight: DType::F32,
        acc: DType::F32,
        output: DType::F32,
    };

    /// The name a variant starts with: one type's name when input, weights and output share it
    /// (`f32`, `bf16` with f32 accumulators is still `bf16`), else benchdnn's
    /// source-weights-destination form (`u8s8u8`, `u8s8f32`).
    pub fn name(&self) -> String {
        if self.input == self.weight && self.weight == self.output {
            self.input.name().to_string()
        } else {
            format!("{}{}{}", self.input, self.weight, self.output)
        }
    }
}

impl fmt::Display for Types {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A variant name as this build spells it: names written before the element type led the name
/// (`direct-avx2-6x16`, in older results files and tuning maps) were all f32 and gain the
/// `f32-` prefix; other names are returned as they are.
pub fn canonical_name(name: &str) -> String {
    let head = name.split('-').next().unwrap_or("");
    let typed = DType::from_name(head).is_some()
        || DType::ALL
            .iter()
            .any(|d| head.starts_with(d.name()) && head.len() > d.name().len());
    if typed || name.is_empty() {
        name.to_string()
    } else {
        format!("{}-{name}", Types::F32)
    }
}

/// A Rust type that holds one element of a [`DType`].
///
/// # Safety
/// A value whose bytes are all zero is a valid value of the type (buffers are allocated
/// zeroed), and the type has no drop glue and no padding.
pub unsafe trait Element:
    Copy + Default + Send + Sync + fmt::Debug + PartialEq + 'static
{
    /// The type it holds.
    const DTYPE: DType;
    /// Bytes per element.
    const BYTES: usize = std::mem::size_of::<Self>();
}

/// One bfloat16 value: the upper 16 bits of an f32 (8 exponent bits, 7 mantissa bits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Bf16(u16);

impl Bf16 {
    /// `x` rounded to the nearest bf16, ties to even (what `vcvtneps2bf16` does); NaN stays a
    /// (quiet) NaN, infinities stay infinite.
    pub fn from_f32(x: f32) -> Bf16 {
        let b = x.to_bits();
        if x.is_nan() {
            return Bf16(((b >> 16) | 0x40) as u16);
        }
        let round = 0x7fff + ((b >> 16) & 1);
        Bf16((b.wrapping_add(round) >> 16) as u16)
    }
    /// The f32 of the same value (exact).
    pub fn to_f32(self) -> f32 {
        f32::from_bits(u32::from(self.0) << 16)
    }
    /// The raw bits.
    pub fn to_bits(self) -> u16 {
        self.0
    }
    /// The value of these raw bits.
    pub fn from_bits(b: u16) -> Bf16 {
        Bf16(b)
    }
}

// SAFETY (all five): plain numbers of their size; all-zero bytes are 0 (0.0 for f32 and bf16).
unsafe impl Element for Bf16 {
    const DTYPE: DType = DType::Bf16;
}
unsafe impl Element for f32 {
    const DTYPE: DType = DType::F32;
}
unsafe impl Element for i8 {
    const DTYPE: DType = DType::S8;
}
unsafe impl Element for u8 {
    const DTYPE: DType = DType::U8;
}
unsafe impl Element for i32 {
    const DTYPE: DType = DType::S32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sizes_and_round_trips() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
        }
        assert_eq!(<f32 as Element>::BYTES, DType::F32.bytes());
        assert_eq!(<i8 as Element>::BYTES, DType::S8.bytes());
        assert_eq!(<i32 as Element>::BYTES, DType::S32.bytes());
        assert_eq!(Types::F32.name(), "f32");
        let q = Types {
            input: DType::U8,
            weight: DType::S8,
            acc: DType::S32,
            output: DType::U8,
        };
        assert_eq!(q.name(), "u8s8u8");
    }

    #[test]
    fn bf16_rounds_to_nearest_even() {
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
        assert_eq!(Bf16::from_f32(1.0 + 1.0 / 256.0).to_f32(), 1.0);
        assert_eq!(
            Bf16::from_f32(1.0 + 3.0 / 256.0).to_f32(),
            1.0 + 4.0 / 256.0
        );
        assert_eq!(
            Bf16::from_f32(1.0 + 1.5 / 256.0).to_f32(),
            1.0 + 2.0 / 256.0
        );
        assert_eq!(Bf16::from_f32(-2.5).to_f32(), -2.5);
        assert!(Bf16::from_f32(f32::NAN).to_f32().is_nan());
        assert_eq!(Bf16::from_f32(f32::INFINITY).to_f32(), f32::INFINITY);
        assert_eq!(Bf16::from_f32(f32::MAX).to_f32(), f32::INFINITY);
        assert_eq!(<Bf16 as Element>::BYTES, DType::Bf16.bytes());
    }
}
