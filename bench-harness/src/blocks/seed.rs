//! The seed essay's claims as blocks: Network in Network, Inception 3a, depthwise-separable
//! convolution, the MobileNetV2 inverted residual and EfficientNet's compound scaling, each with
//! the designs it is compared with.

use super::ConvKind::{Depthwise, Full};
use super::*;

/// One claim: side 0 is the design the claim is about; the others are what it is compared with
/// (for `scaling`, the sides are the scaled steps phi = 0, 1, 2, 3).
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    /// Short id.
    pub id: String,
    /// What is claimed.
    pub title: String,
    /// The blocks compared.
    pub sides: Vec<Block>,
    /// EfficientNet-style scaling series instead of a pair.
    pub scaling: bool,
}

const RELU: Activation = Activation::Relu;
const RELU6: Activation = Activation::Relu6;
const LINEAR: Activation = Activation::None;

/// Network in Network: a 3x3 conv followed by two 1x1 convs (ReLU), against the 3x3 alone.
fn nin() -> Claim {
    let mut b = Builder::new("mlpconv: 3x3 + 1x1 + 1x1", 28, 96);
    let x = b.conv(0, 28, 96, 96, Full(3), RELU);
    let x = b.conv(x, 28, 96, 96, Full(1), RELU);
    b.conv(x, 28, 96, 96, Full(1), RELU);
    let mut a = Builder::new("3x3 alone", 28, 96);
    a.conv(0, 28, 96, 96, Full(3), RELU);
    Claim {
        id: "nin".into(),
        title:
            "Network in Network: the 1x1 layers of an mlpconv are cheap next to the spatial conv"
                .into(),
        sides: vec![b.finish(), a.finish()],
        scaling: false,
    }
}

/// GoogLeNet Inception 3a with 1x1 reductions against the naive module.
fn inception() -> Claim {
    let (hw, cin) = (28, 192);
    let mut b = Builder::new("Inception 3a (1x1 reductions)", hw, cin);
    let b1 = b.conv(0, hw, cin, 64, Full(1), RELU);
    let r3 = b.conv(0, hw, cin, 96, Full(1), RELU);
    let b3 = b.conv(r3, hw, 96, 128, Full(3), RELU);
    let r5 = b.conv(0, hw, cin, 16, Full(1), RELU);
    let b5 = b.conv(r5, hw, 16, 32, Full(5), RELU);
    let p = b.max_pool3(0, hw, cin);
    let bp = b.conv(p, hw, cin, 32, Full(1), RELU);
    b.concat(&[b1, b3, b5, bp], &[64, 128, 32, 32], hw);
    let mut n = Builder::new("naive module (no reductions)", hw, cin);
    let n1 = n.conv(0, hw, cin, 64, Full(1), RELU);
    let n3 = n.conv(0, hw, cin, 128, Full(3), RELU);
    let n5 = n.conv(0, hw, cin, 32, Full(5), RELU);
    let np = n.max_pool3(0, hw, cin);
    n.concat(&[n1, n3, n5, np], &[64, 128, 32, cin], hw);
    Claim {
        id: "inception".into(),
        title: "GoogLeNet Inception: 1x1 reductions cut the computation of the module sharply"
            .into(),
        sides: vec![b.finish(), n.finish()],
        scaling: false,
    }
}

/// MobileNet: depthwise 3x3 + pointwise 1x1 against a standard 3x3, same channels.
fn dwsep(hw: usize, c: usize) -> Claim {
    let mut d = Builder::new(&format!("depthwise-separable @{hw}x{hw}x{c}"), hw, c);
    let x = d.conv(0, hw, c, c, Depthwise(3), RELU);
    d.conv(x, hw, c, c, Full(1), RELU);
    let mut s = Builder::new(&format!("standard 3x3 @{hw}x{hw}x{c}"), hw, c);
    s.conv(0, hw, c, c, Full(3), RELU);
    Claim {
        id: format!("dwsep-{hw}"),
        title: format!("MobileNet: depthwise-separable costs 1/K + 1/9 of a standard 3x3 ({hw}x{hw}, {c} -> {c})"),
        sides: vec![d.finish(), s.finish()],
        scaling: false,
    }
}

/// MobileNetV2 inverted residual (t = 6) against ResNet-style bottlenecks with the same in/out.
fn invres() -> Claim {
    let (hw, c, t) = (56, 24, 6);
    let h = c * t;
    let mut ir = Builder::new("inverted residual 24->144->24 (dw 3x3)", hw, c);
    let x = ir.conv(0, hw, c, h, Full(1), RELU6);
    let x = ir.conv(x, hw, h, h, Depthwise(3), RELU6);
    let x = ir.conv(x, hw, h, c, Full(1), LINEAR);
    ir.add(x, 0);
    let mut rb = Builder::new("ResNet bottleneck 24->6->6->24", hw, c);
    let x = rb.conv(0, hw, c, c / 4, Full(1), RELU);
    let x = rb.conv(x, hw, c / 4, c / 4, Full(3), RELU);
    let x = rb.conv(x, hw, c / 4, c, Full(1), LINEAR);
    rb.add(x, 0);
    let mut wb = Builder::new("wide bottleneck 24->144->144->24 (full 3x3)", hw, c);
    let x = wb.conv(0, hw, c, h, Full(1), RELU);
    let x = wb.conv(x, hw, h, h, Full(3), RELU);
    let x = wb.conv(x, hw, h, c, Full(1), LINEAR);
    wb.add(x, 0);
    Claim {
        id: "invres".into(),
        title:
            "MobileNetV2: an inverted residual affords a 6x expansion because its 3x3 is depthwise"
                .into(),
        sides: vec![ir.finish(), rb.finish(), wb.finish()],
        scaling: false,
    }
}

/// EfficientNet's channel rounding: to a multiple of 8, never below 90% of the target.
pub(crate) fn round_filters(c: usize, width: f64) -> usize {
    let target = c as f64 * width;
    let mut r = (((target + 4.0) as usize) / 8 * 8).max(8);
    if (r as f64) < 0.9 * target {
        r += 8;
    }
    r
}

/// One MBConv stage (expansion 6, 3x3 depthwise, first layer changes channels) scaled by phi.
pub(crate) fn mbconv_stage(phi: i32) -> Block {
    let (d, w, r) = (1.2f64.powi(phi), 1.1f64.powi(phi), 1.15f64.powi(phi));
    let layers = (2.0 * d).ceil() as usize;
    let cin = round_filters(24, w);
    let cout = round_filters(40, w);
    let hw = (28.0 * r).round() as usize;
    let mut b = Builder::new(
        &format!("phi={phi}: {layers} layers, {cin}->{cout}, {hw}x{hw}"),
        hw,
        cin,
    );
    let mut x = 0;
    let mut c = cin;
    for i in 0..layers {
        let h = c * 6;
        let e = b.conv(x, hw, c, h, Full(1), RELU6);
        let dw = b.conv(e, hw, h, h, Depthwise(3), RELU6);
        let p = b.conv(dw, hw, h, cout, Full(1), LINEAR);
        x = if i > 0 { b.add(p, x) } else { p };
        c = cout;
    }
    b.finish()
}

fn effnet() -> Claim {
    Claim {
        id: "effnet".into(),
        title: "EfficientNet compound scaling: depth 1.2^phi, width 1.1^phi, resolution 1.15^phi roughly doubles FLOPs per step".into(),
        sides: (0..4).map(mbconv_stage).collect(),
        scaling: true,
    }
}

/// Every claim, in the order of the report.
pub(crate) fn claims() -> Vec<Claim> {
    let mut v = vec![nin(), inception()];
    for (hw, c) in [(56, 128), (28, 256), (14, 512), (7, 1024)] {
        v.push(dwsep(hw, c));
    }
    v.push(invres());
    v.push(effnet());
    v
}
