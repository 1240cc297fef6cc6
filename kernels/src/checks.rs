//! What the planner checks before it builds: whether an algorithm can compute a shape, and
//! whether an activation's parameters are usable. Every error names the field and its value.

use crate::{Activation, Algorithm, ConvError, ConvShape};

impl Algorithm {
    /// Whether this algorithm can compute `shape`; the error says which field stops it.
    pub fn supports(self, shape: &ConvShape) -> Result<(), ConvError> {
        let fail = |reason: String| {
            Err(ConvError::Unsupported {
                algorithm: self,
                reason,
            })
        };
        match self {
            // A grouped shape runs group by group; a depthwise one would be a GEMM of one column
            // per channel, hundreds of times slower than the depthwise kernels.
            Algorithm::Direct | Algorithm::Im2col => {
                if shape.is_depthwise() && shape.groups() > 1 {
                    return fail(format!(
                        "needs groups < c or k != c (groups = c = k = {} is depthwise: use the depthwise algorithm)",
                        shape.groups()
                    ));
                }
            }
            Algorithm::Winograd(_) => {
                let (r, s) = (shape.r(), shape.s());
                let (sh, sw) = shape.stride();
                let (dh, dw) = shape.dilation();
                if (r, s, sh, sw, dh, dw) != (3, 3, 1, 1, 1, 1) || shape.groups() != 1 {
                    return fail(format!(
                        "needs a 3x3 kernel, stride 1, dilation 1 and groups 1; got {r}x{s}, stride {sh}x{sw}, dilation {dh}x{dw}, groups {}",
                        shape.groups()
                    ));
                }
            }
            Algorithm::Depthwise => {
                if !shape.is_depthwise() {
                    return fail(format!(
                        "needs groups = c = k; got groups = {}, c = {}, k = {}",
                        shape.groups(),
                        shape.c(),
                        shape.k()
                    ));
                }
            }
            Algorithm::Pointwise => {
                let p = shape.padding();
                if (shape.r(), shape.s()) != (1, 1)
                    || shape.stride() != (1, 1)
                    || (p.top, p.left, p.bottom, p.right) != (0, 0, 0, 0)
                    || shape.groups() != 1
                {
                    return fail(format!(
                        "needs a 1x1 kernel, stride 1, no padding and groups 1; got {}x{}, stride {}x{}, padding {},{},{},{}, groups {}",
                        shape.r(),
                        shape.s(),
                        shape.stride().0,
                        shape.stride().1,
                        p.top,
                        p.left,
                        p.bottom,
                        p.right,
                        shape.groups()
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Activation {
    /// Checks the parameters: clamp bounds must be ordered and not NaN.
    pub fn validate(self) -> Result<(), ConvError> {
        if let Activation::Clamp { min, max } = self {
            if min.is_nan() || max.is_nan() || min > max {
                return Err(ConvError::InvalidActivation {
                    reason: format!(
                        "Clamp needs min <= max and no NaN; got min = {min}, max = {max}"
                    ),
                });
            }
        }
        Ok(())
    }
}
