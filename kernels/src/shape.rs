//! `ConvShape`: the geometry of one 2-D convolution, validated on construction, with its
//! derived output size, FLOP count and compulsory traffic. All size arithmetic is checked.

use crate::{ConvError, Element};

/// Padding on each side of the input, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Padding {
    /// Rows added above.
    pub top: usize,
    /// Columns added on the left.
    pub left: usize,
    /// Rows added below.
    pub bottom: usize,
    /// Columns added on the right.
    pub right: usize,
}

impl Padding {
    /// The same padding on all four sides.
    pub const fn uniform(p: usize) -> Self {
        Padding {
            top: p,
            left: p,
            bottom: p,
            right: p,
        }
    }
}

/// The unvalidated description of a convolution; [`ConvShapeBuilder::build`] checks it.
///
/// Activations are NHWC (`n` images of `h` x `w` pixels with `c` channels); the output has `k`
/// channels; the kernel is `r` x `s` (rows x columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvShapeBuilder {
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    k: usize,
    r: usize,
    s: usize,
    stride: (usize, usize),
    padding: Padding,
    dilation: (usize, usize),
    groups: usize,
}

impl ConvShapeBuilder {
    /// Stride `sh` x `sw` (rows, columns).
    pub fn stride_hw(mut self, sh: usize, sw: usize) -> Self {
        self.stride = (sh, sw);
        self
    }
    /// The same stride along both axes.
    pub fn stride(self, s: usize) -> Self {
        self.stride_hw(s, s)
    }
    /// Padding per side.
    pub fn padding(mut self, p: Padding) -> Self {
        self.padding = p;
        self
    }
    /// The same padding on all four sides.
    pub fn pad(self, p: usize) -> Self {
        self.padding(Padding::uniform(p))
    }
    /// Dilation `dh` x `dw` (rows, columns).
    pub fn dilation_hw(mut self, dh: usize, dw: usize) -> Self {
        self.dilation = (dh, dw);
        self
    }
    /// The same dilation along both axes.
    pub fn dilation(self, d: usize) -> Self {
        self.dilation_hw(d, d)
    }
    /// Number of groups (`c` and `k` must be multiples of it; `groups == c == k` is depthwise).
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }

    /// Every count at least 1 and the groups dividing both channel counts.
    fn check_fields(&self) -> Result<(), ConvError> {
        let positive = [
            ("n", self.n),
            ("h", self.h),
            ("w", self.w),
            ("c", self.c),
            ("k", self.k),
            ("r", self.r),
            ("s", self.s),
            ("stride_h", self.stride.0),
            ("stride_w", self.stride.1),
            ("dilation_h", self.dilation.0),
            ("dilation_w", self.dilation.1),
            ("groups", self.groups),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ConvError::InvalidShape {
                    field,
                    value,
                    reason: "must be at least 1".into(),
                });
            }
        }
        if !self.c.is_multiple_of(self.groups) {
            return Err(ConvError::InvalidShape {
                field: "groups",
                value: self.groups,
                reason: format!("does not divide the input channels c = {}", self.c),
            });
        }
        if !self.k.is_multiple_of(self.groups) {
            return Err(ConvError::InvalidShape {
                field: "groups",
                value: self.groups,
                reason: format!("does not divide the output channels k = {}", self.k),
            });
        }
        Ok(())
    }

    /// The output rows and columns, after checking that the dilated kernel fits the padded
    /// input.
    fn output_size(&self) -> Result<(usize, usize), ConvError> {
        let ovf = |what| ConvError::Overflow { what };
        let extent = |taps: usize, dil: usize, what| {
            (taps - 1)
                .checked_mul(dil)
                .and_then(|x| x.checked_add(1))
                .ok_or(ovf(what))
        };
        let er = extent(
            self.r,
            self.dilation.0,
            "dilated kernel height (r-1)*dilation_h+1",
        )?;
        let es = extent(
            self.s,
            self.dilation.1,
            "dilated kernel width (s-1)*dilation_w+1",
        )?;
        let ph = self
            .h
            .checked_add(self.padding.top)
            .and_then(|x| x.checked_add(self.padding.bottom))
            .ok_or(ovf("padded height h+top+bottom"))?;
        let pw = self
            .w
            .checked_add(self.padding.left)
            .and_then(|x| x.checked_add(self.padding.right))
            .ok_or(ovf("padded width w+left+right"))?;
        if er > ph {
            return Err(ConvError::InvalidShape {
                field: "r",
                value: self.r,
                reason: format!(
                    "the dilated kernel height {er} exceeds the padded input height {ph}: no output rows"
                ),
            });
        }
        if es > pw {
            return Err(ConvError::InvalidShape {
                field: "s",
                value: self.s,
                reason: format!(
                    "the dilated kernel width {es} exceeds the padded input width {pw}: no output columns"
                ),
            });
        }
        let p = (ph - er) / self.stride.0 + 1;
        let q = (pw - es) / self.stride.1 + 1;
        Ok((p, q))
    }

    /// Validates every field and derives the output size; sizes that overflow are errors.
    pub fn build(self) -> Result<ConvShape, ConvError> {
        self.check_fields()?;
        let (p, q) = self.output_size()?;
        let ovf = |what| ConvError::Overflow { what };
        let mul = |xs: &[usize], what| {
            xs.iter()
                .try_fold(1usize, |acc, &x| acc.checked_mul(x))
                .ok_or(ovf(what))
        };
        let input_len = mul(&[self.n, self.h, self.w, self.c], "input length n*h*w*c")?;
        let output_len = mul(&[self.n, p, q, self.k], "output length n*p*q*k")?;
        let cg = self.c / self.groups;
        let weights_len = mul(
            &[self.k, self.r, self.s, cg],
            "weights length k*r*s*(c/groups)",
        )?;
        let macs = mul(
            &[self.n, p, q, self.k, cg, self.r, self.s],
            "MAC count n*p*q*k*(c/groups)*r*s",
        )?;
        let flops = (macs as u64).checked_mul(2).ok_or(ovf("FLOP count"))?;
        // Bytes of input + weights + bias + output, each touched once, in f32.
        let bytes = [input_len, weights_len, self.k, output_len]
            .iter()
            .try_fold(0usize, |acc, &x| acc.checked_add(x))
            .and_then(|x| x.checked_mul(f32::BYTES))
            .ok_or(ovf("compulsory bytes"))?;
        Ok(ConvShape {
            b: self,
            p,
            q,
            input_len,
            output_len,
            weights_len,
            flops,
            bytes: bytes as u64,
        })
    }
}

/// A validated convolution geometry. Construct with [`ConvShape::builder`].
///
/// ```
/// use simdconv::ConvShape;
/// let s = ConvShape::builder(1, 224, 224, 3, 64, 7, 7).stride(2).pad(3).build().unwrap();
/// assert_eq!((s.p(), s.q()), (112, 112));
/// assert_eq!(s.flops(), 236_027_904);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvShape {
    b: ConvShapeBuilder,
    p: usize,
    q: usize,
    input_len: usize,
    output_len: usize,
    weights_len: usize,
    flops: u64,
    bytes: u64,
}

impl ConvShape {
    /// Output pixels `m0, m0 + 1, ...` of the flattened (image, row, column) order as
    /// `(image, oy, ox)`: one division for the first, then stepping along the rows.
    pub(crate) fn output_pixels(&self, m0: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        let (p, q) = (self.p(), self.q());
        let (b, rem) = (m0 / (p * q), m0 % (p * q));
        std::iter::successors(Some((b, rem / q, rem % q)), move |&(b, oy, ox)| {
            Some(if ox + 1 < q {
                (b, oy, ox + 1)
            } else if oy + 1 < p {
                (b, oy + 1, 0)
            } else {
                (b + 1, 0, 0)
            })
        })
    }

    /// Starts a description: batch `n`, input `h` x `w` x `c`, `k` output channels, an `r` x `s`
    /// kernel; stride 1, no padding, dilation 1, one group until set otherwise.
    pub fn builder(
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        k: usize,
        r: usize,
        s: usize,
    ) -> ConvShapeBuilder {
        ConvShapeBuilder {
            n,
            h,
            w,
            c,
            k,
            r,
            s,
            stride: (1, 1),
            padding: Padding::default(),
            dilation: (1, 1),
            groups: 1,
        }
    }

    /// Batch size.
    pub fn n(&self) -> usize {
        self.b.n
    }
    /// Input height.
    pub fn h(&self) -> usize {
        self.b.h
    }
    /// Input width.
    pub fn w(&self) -> usize {
        self.b.w
    }
    /// Input channels.
    pub fn c(&self) -> usize {
        self.b.c
    }
    /// Output channels.
    pub fn k(&self) -> usize {
        self.b.k
    }
    /// Kernel height.
    pub fn r(&self) -> usize {
        self.b.r
    }
    /// Kernel width.
    pub fn s(&self) -> usize {
        self.b.s
    }
    /// Stride (rows, columns).
    pub fn stride(&self) -> (usize, usize) {
        self.b.stride
    }
    /// Padding per side.
    pub fn padding(&self) -> Padding {
        self.b.padding
    }
    /// Dilation (rows, columns).
    pub fn dilation(&self) -> (usize, usize) {
        self.b.dilation
    }
    /// Number of groups.
    pub fn groups(&self) -> usize {
        self.b.groups
    }
    /// Output height.
    pub fn p(&self) -> usize {
        self.p
    }
    /// Output width.
    pub fn q(&self) -> usize {
        self.q
    }
    /// Input channels per group (the reduction's channel extent).
    pub fn c_per_group(&self) -> usize {
        self.b.c / self.b.groups
    }
    /// Output channels per group.
    pub fn k_per_group(&self) -> usize {
        self.b.k / self.b.groups
    }
    /// Terms summed per output value: `(c/groups) * r * s`.
    pub fn reduction_len(&self) -> usize {
        self.c_per_group() * self.b.r * self.b.s
    }
    /// True when every group has one input and one output channel (`groups == c == k`).
    pub fn is_depthwise(&self) -> bool {
        self.b.groups == self.b.c && self.b.groups == self.b.k
    }
    /// Floats in the NHWC input.
    pub fn input_len(&self) -> usize {
        self.input_len
    }
    /// Floats in the NHWC output (`n * p * q * k`).
    pub fn output_len(&self) -> usize {
        self.output_len
    }
    /// Floats in the OHWI weights (`k * r * s * c/groups`; for depthwise this equals `r * s * c`).
    pub fn weights_len(&self) -> usize {
        self.weights_len
    }
    /// Direct-equivalent FLOPs `2 * n * p * q * k * (c/groups) * r * s`, for every algorithm.
    pub fn flops(&self) -> u64 {
        self.flops
    }
    /// Input + weights + bias + output bytes (f32), each counted once.
    pub fn compulsory_bytes(&self) -> u64 {
        self.bytes
    }
    /// FLOPs per compulsory byte.
    pub fn arithmetic_intensity(&self) -> f64 {
        self.flops as f64 / self.bytes as f64
    }
}

impl std::fmt::Display for ConvShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pd = self.b.padding;
        write!(
            f,
            "n{} {}x{}x{} -> k{} {}x{} s{}x{} p{},{},{},{} d{}x{} g{}",
            self.b.n,
            self.b.h,
            self.b.w,
            self.b.c,
            self.b.k,
            self.b.r,
            self.b.s,
            self.b.stride.0,
            self.b.stride.1,
            pd.top,
            pd.left,
            pd.bottom,
            pd.right,
            self.b.dilation.0,
            self.b.dilation.1,
            self.b.groups
        )
    }
}
