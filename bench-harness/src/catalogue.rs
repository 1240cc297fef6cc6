//! Named real layer shapes and the suites built from them.

use simdconv::{ConvError, ConvShape};

/// One named convolution layer (batch 1 unless stated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Stable name used in filters, results files and reports.
    pub name: &'static str,
    /// The network it comes from.
    pub network: &'static str,
    /// Input height = width.
    pub hw: usize,
    /// Input channels.
    pub c: usize,
    /// Output channels.
    pub k: usize,
    /// Kernel size (square).
    pub rs: usize,
    /// Stride.
    pub stride: usize,
    /// Padding on every side.
    pub pad: usize,
    /// Groups.
    pub groups: usize,
}

impl Layer {
    /// The validated shape.
    pub fn shape(&self) -> Result<ConvShape, ConvError> {
        ConvShape::builder(1, self.hw, self.hw, self.c, self.k, self.rs, self.rs)
            .stride(self.stride)
            .pad(self.pad)
            .groups(self.groups)
            .build()
    }
}

#[allow(clippy::too_many_arguments)]
const fn l(
    name: &'static str,
    network: &'static str,
    hw: usize,
    c: usize,
    k: usize,
    rs: usize,
    stride: usize,
    pad: usize,
    groups: usize,
) -> Layer {
    Layer {
        name,
        network,
        hw,
        c,
        k,
        rs,
        stride,
        pad,
        groups,
    }
}

/// The first catalogue: 14 layers covering every algorithm's sweet spot and trouble spot.
pub const QUICK: &[Layer] = &[
    l("resnet_3x3_56", "resnet50", 56, 64, 64, 3, 1, 1, 1),
    l("resnet_3x3_28", "resnet50", 28, 128, 128, 3, 1, 1, 1),
    l("resnet_3x3_14", "resnet50", 14, 256, 256, 3, 1, 1, 1),
    l("resnet_3x3_7", "resnet50", 7, 512, 512, 3, 1, 1, 1),
    l("resnet_1x1_56", "resnet50", 56, 64, 256, 1, 1, 0, 1),
    l("resnet_1x1_14", "resnet50", 14, 1024, 256, 1, 1, 0, 1),
    l("stem_7x7", "resnet50", 224, 3, 64, 7, 2, 3, 1),
    l("mbv2_dw_112", "mobilenetv2", 112, 32, 32, 3, 1, 1, 32),
    l("mbv2_dw_112_s2", "mobilenetv2", 112, 96, 96, 3, 2, 1, 96),
    l("mbv2_dw_14", "mobilenetv2", 14, 576, 576, 3, 1, 1, 576),
    l("mbv2_pw_expand_56", "mobilenetv2", 56, 24, 144, 1, 1, 0, 1),
    l("mbv2_pw_project_14", "mobilenetv2", 14, 576, 96, 1, 1, 0, 1),
    l(
        "effnet_dw5x5_28",
        "efficientnet-b0",
        28,
        240,
        240,
        5,
        1,
        2,
        240,
    ),
    l("inception_5x5_28", "googlenet", 28, 32, 96, 5, 1, 2, 1),
];
