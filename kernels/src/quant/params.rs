//! [`QuantParams`]: the scales and zero points of one layer, their checks, and the
//! requantization multiplier.

use crate::{Activation, ConvError};

/// The quantization of one layer: `real = scale * (q - zero)` for activations, and
/// `real = weight_scales[k] * q` for the weights of output channel `k` (symmetric, zero point 0).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantParams {
    /// Input scale.
    pub input_scale: f32,
    /// Input zero point.
    pub input_zero: u8,
    /// Weight scales: one per output channel, or one for all.
    pub weight_scales: Vec<f32>,
    /// Output scale.
    pub output_scale: f32,
    /// Output zero point.
    pub output_zero: u8,
    /// Smallest output value (a fused ReLU raises it to `output_zero`).
    pub output_min: u8,
    /// Largest output value.
    pub output_max: u8,
}

impl QuantParams {
    /// Per-tensor parameters with the full output range.
    pub fn per_tensor(
        input_scale: f32,
        input_zero: u8,
        weight_scale: f32,
        output_scale: f32,
        output_zero: u8,
    ) -> QuantParams {
        QuantParams {
            input_scale,
            input_zero,
            weight_scales: vec![weight_scale],
            output_scale,
            output_zero,
            output_min: 0,
            output_max: 255,
        }
    }

    /// The output bounds of `activation` in this quantization: ReLU clamps at the zero point,
    /// ReLU6 also at `zero + round(6 / scale)`, a clamp at its quantized bounds.
    pub fn with_activation(mut self, activation: Activation) -> Result<QuantParams, ConvError> {
        activation.validate()?;
        check_scale("output_scale", self.output_scale)?;
        let q = |v: f32| {
            let x = (f64::from(v) / f64::from(self.output_scale)).round_ties_even()
                + f64::from(self.output_zero);
            x.clamp(0.0, 255.0) as u8
        };
        let (lo, hi) = match activation {
            Activation::None => (0, 255),
            Activation::Relu => (self.output_zero, 255),
            Activation::Relu6 => (self.output_zero, q(6.0)),
            Activation::Clamp { min, max } => (q(min), q(max)),
        };
        self.output_min = lo;
        self.output_max = hi;
        Ok(self)
    }

    /// Checks the parameters against `k` output channels.
    pub(crate) fn validate(&self, k: usize) -> Result<(), ConvError> {
        check_scale("input_scale", self.input_scale)?;
        check_scale("output_scale", self.output_scale)?;
        if self.weight_scales.len() != 1 && self.weight_scales.len() != k {
            return Err(ConvError::BufferLength {
                buffer: "weight_scales",
                expected: k,
                got: self.weight_scales.len(),
            });
        }
        for &s in &self.weight_scales {
            check_scale("weight_scales", s)?;
        }
        if self.output_min > self.output_max {
            return Err(ConvError::InvalidOption {
                field: "output_min",
                value: self.output_min.to_string(),
                reason: format!("must be <= output_max = {}", self.output_max),
            });
        }
        for c in 0..k {
            let m = self.multiplier(c);
            if !(m.is_finite() && m > 0.0) {
                return Err(ConvError::InvalidOption {
                    field: "weight_scales",
                    value: self.weight_scale(c).to_string(),
                    reason: format!(
                        "input_scale * weight_scale / output_scale for channel {c} is {m} in f32; it must be finite and positive"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The weight scale of output channel `k`.
    pub fn weight_scale(&self, k: usize) -> f32 {
        self.weight_scales[if self.weight_scales.len() == 1 { 0 } else { k }]
    }

    /// `m[k]`, the requantization multiplier, rounded once to f32 (see the module docs).
    pub fn multiplier(&self, k: usize) -> f32 {
        (f64::from(self.input_scale) * f64::from(self.weight_scale(k))
            / f64::from(self.output_scale)) as f32
    }
}

fn check_scale(field: &'static str, v: f32) -> Result<(), ConvError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(ConvError::InvalidOption {
            field,
            value: v.to_string(),
            reason: "a scale must be finite and positive".into(),
        })
    }
}
