//! Depthwise convolution (groups = c = k): the driver and the generic row body.
//!
//! Vectorised across channels (contiguous in NHWC), one output row per call (two for 3x3 with
//! vertical stride 1, see [`pairs_rows`]). With dilation 1 and 3x3 or 5x5 taps (stride 1 or 2)
//! the interior columns run a register-blocked window: 4 output pixels x 1-2 rows x 1-2 channel
//! vectors, each input vector loaded once and shared by the taps that read it (see
//! [`row_window`]); with "same" padding at stride 1 the border columns are window blocks whose
//! padded taps are dropped at compile time. Everything else, and the channel tail, takes the
//! per-pixel path: one input pointer per tap, all channel vectors walked under it; a tap in the
//! padding points at a zero row instead of being skipped, so border pixels run the same
//! branch-free channel loop as interior ones. The units of parallel work are those output rows (or
//! pairs), each with its worker's pointer slots. Memory-bound on big images: judge it against the
//! bandwidth roof, not the FMA roof.

mod row;

use row::pairs_rows;
use row::row_entry;

use crate::kernel::{Kernel, ScratchSpec};
use crate::par::{Exec, SharedOut};
use crate::simd::{Act, Simd, WithSimd};
use crate::{AlignedBuf, ConvError, ConvShape, Tile};

/// One output row of one image, all channels (two rows when `pair`).
#[derive(Clone, Copy)]
pub(crate) struct DwRow {
    /// `[r]` pointers to the start (x = 0, c = 0) of the input row each kernel row reads; each has
    /// `w * c` readable floats (a zero row in the vertical padding). With `pair`, `r +
    /// pair_step` pointers: the second output row reads `rows[pair_step .. pair_step + r]`
    /// (vertical dilation 1).
    pub rows: *const *const f32,
    /// Compute this output row and the next one, into `out` and `out2`.
    pub pair: bool,
    /// With `pair`: input rows between the two output rows (the vertical stride, 1 or 2).
    pub pair_step: usize,
    /// The second output row when `pair` (`q * c` writable floats), else unused.
    pub out2: *mut f32,
    /// At least `c` zeros: the input of a tap outside the image.
    pub zero: *const f32,
    /// `r * s` writable pointer slots for the run-time-tap path.
    pub taps: *mut *const f32,
    /// Packed weights `[ceil(c / L)][r][s][L]`, zero-padded lanes.
    pub w: *const f32,
    /// Packed bias `[ceil(c / L)][L]` (zeros without bias).
    pub bias: *const f32,
    /// Output row start: `q * c` writable floats.
    pub out: *mut f32,
    pub c: usize,
    pub q: usize,
    pub w_in: usize,
    pub r: usize,
    pub s: usize,
    pub stride: usize,
    pub dil: usize,
    pub left: usize,
    /// Output columns `x_lo .. x_hi` read only inside the row: no column checks.
    pub x_lo: usize,
    pub x_hi: usize,
    pub act: Act,
}

/// One ISA's row microkernel and its channel tile. Calling `row` needs `isa` present on this
/// CPU, besides the contract of [`row`].
#[derive(Clone, Copy)]
pub(crate) struct DwUkernel {
    pub isa: crate::Isa,
    /// The element types its body reads, accumulates and writes.
    pub types: crate::Types,
    pub lanes: usize,
    pub row: unsafe fn(&DwRow),
}

impl DwUkernel {
    /// The channel tile.
    pub(crate) fn tile(&self) -> Tile {
        Tile::Channels(self.lanes)
    }
}

/// The row microkernel on ISA `S`: one vector of `S::LANES` channels.
pub(crate) const fn ukernel<S: Simd>() -> DwUkernel {
    DwUkernel {
        isa: S::ISA,
        types: crate::Types::F32,
        lanes: S::LANES,
        row: row_entry::<S>,
    }
}

struct Depthwise {
    shape: ConvShape,
    uk: DwUkernel,
    w: AlignedBuf,
    bias: AlignedBuf,
    act: Act,
    zero: Vec<f32>,
    x_lo: usize,
    x_hi: usize,
}

pub(crate) fn build(
    shape: &ConvShape,
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    uk: DwUkernel,
) -> Result<Box<dyn Kernel>, ConvError> {
    let (c, r, s, l) = (shape.c(), shape.r(), shape.s(), uk.lanes);
    let blocks = c.div_ceil(l);
    // OHWI with one input channel per group: weight (ch, ky, kx) is at (ch * r + ky) * s + kx.
    let mut w = AlignedBuf::zeroed_for(blocks * r * s * l, "packed weights")?;
    for ch in 0..c {
        for ky in 0..r {
            for kx in 0..s {
                w[((ch / l * r + ky) * s + kx) * l + ch % l] = weights[(ch * r + ky) * s + kx];
            }
        }
    }
    let mut b = AlignedBuf::zeroed_for(blocks * l, "packed bias")?;
    if let Some(bias) = bias {
        b[..c].copy_from_slice(bias);
    }
    // Interior columns: ox * sw >= left and ox * sw - left + (s - 1) * dw < w.
    let (sw, dw, left) = (shape.stride().1, shape.dilation().1, shape.padding().left);
    let span = (s - 1) * dw;
    let x_hi = if shape.w() + left > span {
        ((shape.w() + left - span - 1) / sw + 1).min(shape.q())
    } else {
        0
    };
    let x_lo = left.div_ceil(sw).min(x_hi);
    Ok(Box::new(Depthwise {
        shape: *shape,
        uk,
        w,
        bias: b,
        act,
        zero: crate::aligned::zeros(
            shape.w().checked_mul(c).ok_or(ConvError::Overflow {
                what: "depthwise zero row W*C",
            })?,
            "depthwise zero row",
        )?,
        x_lo,
        x_hi,
    }))
}

impl Kernel for Depthwise {
    fn run(&self, input: &[f32], output: &mut [f32], _shared: &mut [f32], ex: &Exec) {
        let s = &self.shape;
        let (h, w, c, r) = (s.h(), s.w(), s.c(), s.r());
        let (sh, dh, top) = (s.stride().0, s.dilation().0, s.padding().top);
        let row_len = w * c;
        let out_len = s.q() * c;
        let pairs = pairs_rows(s);
        let step = 1 + pairs as usize;
        let per_image = s.p().div_ceil(step);
        let out = SharedOut::new(output);
        ex.for_each(s.n() * per_image, s.flops() as f64, |u, wk| {
            let (b, oy) = (u / per_image, u % per_image * step);
            let img = &input[b * h * row_len..][..h * row_len];
            let (rows, taps) = wk.ptrs.split_at_mut(r + 2);
            let taps = &mut taps[..r * s.s()];
            let pair = pairs && oy + 1 < s.p();
            // Kernel row ky of output row oy (and, paired, ky - sh of row oy + 1).
            for (ky, p) in rows.iter_mut().enumerate().take(r + pair as usize * sh) {
                let y = (oy * sh + ky * dh) as isize - top as isize;
                *p = if (0..h as isize).contains(&y) {
                    img[y as usize * row_len..][..row_len].as_ptr()
                } else {
                    self.zero[..row_len].as_ptr()
                };
            }
            // SAFETY: units are distinct (image, output row) pairs, so no other task touches
            // these rows.
            let out_rows =
                unsafe { out.slice_mut((b * s.p() + oy) * out_len, (1 + pair as usize) * out_len) };
            let (out_row, rest) = out_rows.split_at_mut(out_len);
            let out2 = if pair {
                rest.as_mut_ptr()
            } else {
                std::ptr::null_mut()
            };
            let args = DwRow {
                rows: rows.as_ptr(),
                pair,
                pair_step: sh,
                out2,
                zero: self.zero[..c].as_ptr(),
                taps: taps.as_mut_ptr(),
                w: self.w.as_ptr(),
                bias: self.bias.as_ptr(),
                out: out_row.as_mut_ptr(),
                c,
                q: s.q(),
                w_in: w,
                r,
                s: s.s(),
                stride: s.stride().1,
                dil: s.dilation().1,
                left: s.padding().left,
                x_lo: self.x_lo,
                x_hi: self.x_hi,
                act: self.act,
            };
            // SAFETY: each row pointer comes from a slice of w*c floats (r + sh of them when
            // `pair`, which `pairs_rows` allows only for vertical dilation 1 and sh <= 2, so the
            // second output row's kernel rows are rows[sh..sh + r]); `zero` has c floats and `taps`
            // r*s slots; `out_row` and, paired, `out2` have q*c each; weights and bias were
            // packed for ceil(c/L) blocks of this ISA's L; x_lo/x_hi were derived in `build` so
            // interior taps stay inside the row; the ISA was checked at plan time.
            unsafe { (self.uk.row)(&args) };
        });
    }

    fn tile(&self) -> Tile {
        self.uk.tile()
    }
    fn scratch(&self) -> ScratchSpec {
        ScratchSpec {
            shared_parallel: 0,
            shared: 0,
            floats: 0,
            ptrs: self.shape.r() * (1 + self.shape.s()) + 2,
        }
    }
}
