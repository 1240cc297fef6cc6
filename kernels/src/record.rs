//! The records that files share: a convolution's geometry as stored ([`ShapeRecord`]) and a
//! measured value with its confidence interval ([`Interval`]). The tuning map (`auto`) and the
//! harness's results and tuning files all use these two, so a layer and a time mean the same in
//! every file. Files written before the full geometry (square stride and padding, no dilation)
//! still read.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ConvError, ConvShape, Padding};

/// A value with its confidence interval (a time in ns, or a rate).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Point estimate.
    #[serde(with = "float")]
    pub point: f64,
    /// Lower bound of the confidence interval.
    #[serde(with = "float")]
    pub lower: f64,
    /// Upper bound of the confidence interval.
    #[serde(with = "float")]
    pub upper: f64,
}

impl Interval {
    /// `work / time` as an interval: the lower bound from the upper time and vice versa.
    pub fn rate(work: f64, time: Interval) -> Interval {
        Interval {
            point: work / time.point,
            lower: work / time.upper,
            upper: work / time.lower,
        }
    }

    /// A value known exactly (all three bounds equal).
    pub fn exact(v: f64) -> Interval {
        Interval {
            point: v,
            lower: v,
            upper: v,
        }
    }

    /// Whether the two intervals share a value (the measurements cannot tell them apart).
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.lower <= other.upper && other.lower <= self.upper
    }

    /// `self / other` as an interval: the lower bound from `self.lower / other.upper`, the upper
    /// from `self.upper / other.lower`.
    pub fn ratio(&self, other: &Interval) -> Interval {
        Interval {
            point: self.point / other.point,
            lower: self.lower / other.upper,
            upper: self.upper / other.lower,
        }
    }

    /// Every bound divided by `d`.
    pub fn scaled(self, d: f64) -> Interval {
        Interval {
            point: self.point / d,
            lower: self.lower / d,
            upper: self.upper / d,
        }
    }
}

/// f64 fields that may be non-finite: JSON has no NaN or infinity (serde_json writes them as
/// `null`, which then fails to read back), so they are stored as the strings `"nan"`, `"inf"`
/// and `"-inf"`; numbers stay numbers, and `null` (files written before) reads as NaN.
pub mod float {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes a number, or a string for NaN and the infinities.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("nan")
        } else if *v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Num(f64),
        Text(String),
        Null(()),
    }

    /// Reads a number, `"nan"`, `"inf"`, `"-inf"` or `null` (NaN).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Num(v) => Ok(v),
            Repr::Null(()) => Ok(f64::NAN),
            Repr::Text(t) => match t.as_str() {
                "nan" | "NaN" => Ok(f64::NAN),
                "inf" | "+inf" | "Infinity" => Ok(f64::INFINITY),
                "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
                other => Err(serde::de::Error::custom(format!(
                    "expected a number, \"nan\", \"inf\" or \"-inf\", found \"{other}\""
                ))),
            },
        }
    }
}

/// Reads a variant name as this build spells it ([`crate::canonical_name`]: older files' names
/// gain their element type, `f32-`); for `#[serde(deserialize_with = ...)]`.
pub fn variant_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    String::deserialize(d).map(|s| crate::canonical_name(&s))
}

/// A convolution's geometry as files store it: every field of [`ConvShape`], plus the output
/// size (derived, written for readers of the file). Batch is `n`, a field like the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ShapeWire")]
#[allow(missing_docs)]
pub struct ShapeRecord {
    /// Batch, input height, width, channels, output channels, kernel rows, columns.
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub k: usize,
    pub r: usize,
    pub s: usize,
    /// Stride, rows and columns.
    pub stride_h: usize,
    pub stride_w: usize,
    /// Padding per side.
    pub pad_top: usize,
    pub pad_left: usize,
    pub pad_bottom: usize,
    pub pad_right: usize,
    /// Dilation, rows and columns.
    pub dilation_h: usize,
    pub dilation_w: usize,
    /// Groups.
    pub groups: usize,
    /// Output height and width.
    pub p: usize,
    pub q: usize,
}

impl ShapeRecord {
    /// The record of a shape.
    pub fn of(s: &ConvShape) -> ShapeRecord {
        let pad = s.padding();
        ShapeRecord {
            n: s.n(),
            h: s.h(),
            w: s.w(),
            c: s.c(),
            k: s.k(),
            r: s.r(),
            s: s.s(),
            stride_h: s.stride().0,
            stride_w: s.stride().1,
            pad_top: pad.top,
            pad_left: pad.left,
            pad_bottom: pad.bottom,
            pad_right: pad.right,
            dilation_h: s.dilation().0,
            dilation_w: s.dilation().1,
            groups: s.groups(),
            p: s.p(),
            q: s.q(),
        }
    }

    /// The validated shape.
    pub fn shape(&self) -> Result<ConvShape, ConvError> {
        ConvShape::builder(self.n, self.h, self.w, self.c, self.k, self.r, self.s)
            .stride_hw(self.stride_h, self.stride_w)
            .padding(Padding {
                top: self.pad_top,
                left: self.pad_left,
                bottom: self.pad_bottom,
                right: self.pad_right,
            })
            .dilation_hw(self.dilation_h, self.dilation_w)
            .groups(self.groups)
            .build()
    }
}

impl fmt::Display for ShapeRecord {
    /// `56x56x64 -> 64, 3x3 s1 p1`; ` s2x1`, ` p(t,l,b,r)`, ` d2` and ` g32` where they apply.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}x{}x{} -> {}, {}x{} s{}",
            self.h, self.w, self.c, self.k, self.r, self.s, self.stride_h
        )?;
        if self.stride_w != self.stride_h {
            write!(f, "x{}", self.stride_w)?;
        }
        let pads = [self.pad_top, self.pad_left, self.pad_bottom, self.pad_right];
        if pads.iter().all(|&p| p == pads[0]) {
            write!(f, " p{}", pads[0])?;
        } else {
            write!(f, " p({},{},{},{})", pads[0], pads[1], pads[2], pads[3])?;
        }
        match (self.dilation_h, self.dilation_w) {
            (1, 1) => {}
            (d, e) if d == e => write!(f, " d{d}")?,
            (d, e) => write!(f, " d{d}x{e}")?,
        }
        if self.groups > 1 {
            write!(f, " g{}", self.groups)?;
        }
        Ok(())
    }
}

/// What a file may hold: the full geometry, or the square `stride` and `pad` of files written
/// before it (no dilation then).
#[derive(Deserialize)]
struct ShapeWire {
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    k: usize,
    r: usize,
    s: usize,
    stride: Option<usize>,
    pad: Option<usize>,
    stride_h: Option<usize>,
    stride_w: Option<usize>,
    pad_top: Option<usize>,
    pad_left: Option<usize>,
    pad_bottom: Option<usize>,
    pad_right: Option<usize>,
    dilation_h: Option<usize>,
    dilation_w: Option<usize>,
    groups: Option<usize>,
}

impl TryFrom<ShapeWire> for ShapeRecord {
    type Error = String;
    fn try_from(w: ShapeWire) -> Result<ShapeRecord, String> {
        let (sq_stride, sq_pad) = (w.stride.unwrap_or(1), w.pad.unwrap_or(0));
        let rec = ShapeRecord {
            n: w.n,
            h: w.h,
            w: w.w,
            c: w.c,
            k: w.k,
            r: w.r,
            s: w.s,
            stride_h: w.stride_h.unwrap_or(sq_stride),
            stride_w: w.stride_w.unwrap_or(sq_stride),
            pad_top: w.pad_top.unwrap_or(sq_pad),
            pad_left: w.pad_left.unwrap_or(sq_pad),
            pad_bottom: w.pad_bottom.unwrap_or(sq_pad),
            pad_right: w.pad_right.unwrap_or(sq_pad),
            dilation_h: w.dilation_h.unwrap_or(1),
            dilation_w: w.dilation_w.unwrap_or(1),
            groups: w.groups.unwrap_or(1),
            p: 0,
            q: 0,
        };
        // The output size is derived, never trusted from the file.
        let shape = rec.shape().map_err(|e| e.to_string())?;
        Ok(ShapeRecord::of(&shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_and_new_forms_read_the_same_shape() {
        let s = ConvShape::builder(2, 9, 8, 4, 6, 3, 2)
            .stride_hw(2, 1)
            .padding(Padding {
                top: 1,
                left: 0,
                bottom: 2,
                right: 1,
            })
            .dilation_hw(1, 2)
            .groups(2)
            .build()
            .unwrap();
        let rec = ShapeRecord::of(&s);
        let back: ShapeRecord =
            serde_json::from_str(&serde_json::to_string(&rec).unwrap()).unwrap();
        assert_eq!(back, rec);
        assert_eq!(back.shape().unwrap(), s);
        assert_eq!(rec.to_string(), "9x8x4 -> 6, 3x2 s2x1 p(1,0,2,1) d1x2 g2");
        let old = r#"{"n":1,"h":56,"w":56,"c":64,"k":64,"r":3,"s":3,"stride":1,"pad":1,"groups":1,"p":0,"q":0}"#;
        let rec: ShapeRecord = serde_json::from_str(old).unwrap();
        assert_eq!(
            (rec.p, rec.q, rec.pad_right, rec.dilation_w),
            (56, 56, 1, 1)
        );
        assert_eq!(rec.to_string(), "56x56x64 -> 64, 3x3 s1 p1");
        let bad = r#"{"n":1,"h":2,"w":2,"c":4,"k":4,"r":3,"s":3,"groups":3}"#;
        assert!(serde_json::from_str::<ShapeRecord>(bad).is_err());
    }
}
