//! What a NaN or an infinity in the weights does, and the border fix-up that makes every
//! algorithm but Winograd follow the reference's rule.
//!
//! The rule (the reference's): an output is the activation of its bias plus the sum of its real
//! taps; padding taps are skipped, not multiplied by zero. So a non-finite input reaches exactly
//! the outputs whose receptive field holds it, and a non-finite weight of output channel `k`
//! reaches the outputs of channel `k` whose receptive field puts a real input under it.
//!
//! The fast drivers read padding as zeros, and `0 * NaN` and `0 * inf` are NaN: with a
//! non-finite weight, the border outputs of its channel (those with a padding tap) would turn
//! NaN where the reference stays finite. Inputs need nothing: padding is zero, never a copy of a
//! non-finite input. So a plan whose weights hold a non-finite value keeps those channels'
//! weights and recomputes their border outputs in the reference's order after the fast run;
//! finite weights (every real network) cost nothing.
//!
//! Winograd is the documented exception: its transforms mix a whole (m+2)² input tile, so a
//! non-finite input reaches every output of the tiles that read it, a non-finite weight reaches
//! every output of its channel, and transform intermediates overflow long before the reference
//! does (see `winograd`'s module docs for the threshold).

use crate::reference;
use crate::simd::Act;
use crate::{ConvError, ConvShape};

/// The channels with a non-finite weight, their weights and bias, and the border pixels.
pub(crate) struct BorderFix {
    shape: ConvShape,
    /// Output channels to recompute, each with its `R*S*C/groups` weights (OHWI) and bias.
    channels: Vec<(usize, Vec<f32>, Option<f32>)>,
    act: Act,
}

impl BorderFix {
    /// `None` when every weight is finite or no output has a padding tap (nothing to fix).
    pub(crate) fn new(
        shape: &ConvShape,
        weights: &[f32],
        bias: Option<&[f32]>,
        act: Act,
    ) -> Result<Option<BorderFix>, ConvError> {
        let pad = shape.padding();
        if pad.top + pad.bottom + pad.left + pad.right == 0 {
            return Ok(None);
        }
        let per_k = shape.weights_len() / shape.k().max(1);
        let mut channels = Vec::new();
        for (k, w) in weights.chunks_exact(per_k.max(1)).enumerate() {
            if w.iter().all(|x| x.is_finite()) {
                continue;
            }
            let mut copy = Vec::new();
            copy.try_reserve_exact(w.len())
                .map_err(|_| ConvError::OutOfMemory {
                    what: "weights of non-finite channels",
                    bytes: w.len().saturating_mul(4),
                })?;
            copy.extend_from_slice(w);
            channels.push((k, copy, bias.map(|b| b[k])));
        }
        Ok((!channels.is_empty()).then_some(BorderFix {
            shape: *shape,
            channels,
            act,
        }))
    }

    /// Recomputes the marked channels at every output pixel with a padding tap.
    pub(crate) fn apply(&self, input: &[f32], output: &mut [f32]) {
        let s = &self.shape;
        let (p, q, k) = (s.p(), s.q(), s.k());
        let pad = s.padding();
        // Whether some tap of output row (column) `o` falls in the padding.
        let border = |o: usize, taps: usize, stride: usize, dil: usize, lead: usize, len: usize| {
            o * stride < lead || o * stride + (taps - 1) * dil >= lead + len
        };
        let (sh, sw) = s.stride();
        let (dh, dw) = s.dilation();
        for b in 0..s.n() {
            for oy in 0..p {
                let by = border(oy, s.r(), sh, dh, pad.top, s.h());
                for ox in (0..q).filter(|&ox| by || border(ox, s.s(), sw, dw, pad.left, s.w())) {
                    for (ko, wk, bias) in &self.channels {
                        let g = ko / s.k_per_group();
                        let (acc, _) = reference::output_sum(s, input, wk, g, *bias, (b, oy, ox));
                        output[((b * p + oy) * q + ox) * k + ko] = self.act.apply_f32(acc as f32);
                    }
                }
            }
        }
    }
}
