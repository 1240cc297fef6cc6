//! Named real layer shapes and the suites built from them: every conv layer of ResNet-50,
//! ResNeXt-50 (32x4d), MobileNetV2, GoogLeNet (Inception v1) and EfficientNet-B0 at 224x224 (de-duplicated, each
//! tagged with the networks it appears in), plus the 15 layers of the first catalogue.

use crate::schema::layer::{square, Layer};

/// (name, network, hw, c, k, rs, stride, pad, groups)
type Row = (
    &'static str,
    &'static str,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

const QUICK_ROWS: &[Row] = &[
    ("resnet_3x3_56", "resnet50", 56, 64, 64, 3, 1, 1, 1),
    ("resnet_3x3_28", "resnet50", 28, 128, 128, 3, 1, 1, 1),
    ("resnet_3x3_14", "resnet50", 14, 256, 256, 3, 1, 1, 1),
    ("resnet_3x3_7", "resnet50", 7, 512, 512, 3, 1, 1, 1),
    ("resnet_1x1_56", "resnet50", 56, 64, 256, 1, 1, 0, 1),
    ("resnet_1x1_14", "resnet50", 14, 1024, 256, 1, 1, 0, 1),
    ("stem_7x7", "resnet50", 224, 3, 64, 7, 2, 3, 1),
    ("mbv2_dw_112", "mobilenetv2", 112, 32, 32, 3, 1, 1, 32),
    ("mbv2_dw_112_s2", "mobilenetv2", 112, 96, 96, 3, 2, 1, 96),
    ("mbv2_dw_14", "mobilenetv2", 14, 576, 576, 3, 1, 1, 576),
    ("mbv2_pw_expand_56", "mobilenetv2", 56, 24, 144, 1, 1, 0, 1),
    ("mbv2_pw_project_14", "mobilenetv2", 14, 576, 96, 1, 1, 0, 1),
    (
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
    ("inception_5x5_28", "googlenet", 28, 32, 96, 5, 1, 2, 1),
    ("resnext_3x3_g32_28", "resnext50", 28, 256, 256, 3, 1, 1, 32),
];

const SMOKE_ROWS: &[Row] = &[
    ("smoke_3x3_14", "smoke", 14, 32, 32, 3, 1, 1, 1),
    ("smoke_1x1_14", "smoke", 14, 64, 64, 1, 1, 0, 1),
    ("mbv2_dw_14", "mobilenetv2", 14, 576, 576, 3, 1, 1, 576),
    ("smoke_5x5_14", "smoke", 14, 16, 32, 5, 1, 2, 1),
];

fn from_rows(rows: &[Row]) -> Vec<Layer> {
    rows.iter()
        .map(|&(name, net, hw, c, k, rs, stride, pad, groups)| {
            let shape =
                square(hw, (c, k), rs, stride, pad, groups).expect("catalogue layers are valid");
            Layer::new(name, vec![net.into()], &shape)
        })
        .collect()
}

/// The first catalogue: 15 layers covering every algorithm's sweet spot and trouble spot.
pub(crate) fn quick() -> Vec<Layer> {
    from_rows(QUICK_ROWS)
}

/// A handful of small layers, one per algorithm family, for a run of under a minute.
pub(crate) fn smoke() -> Vec<Layer> {
    from_rows(SMOKE_ROWS)
}

/// A catalogue layer's geometry: (H = W, C, K, R = S, stride, groups).
type Geometry = (usize, usize, usize, usize, usize, usize);

/// Collects layers, merging duplicates (same geometry) into one entry tagged with every network.
struct Collector {
    layers: Vec<Layer>,
}

impl Collector {
    /// A layer of `net`: (H = W, C, K, R = S, stride, groups), "same" padding.
    fn add(&mut self, net: &str, (hw, c, k, rs, stride, groups): Geometry) {
        let pad = (rs - 1) / 2;
        let tag = if groups == c && groups == k && groups > 1 {
            "_dw".to_string()
        } else if groups > 1 {
            format!("_g{groups}")
        } else {
            String::new()
        };
        let shape = square(hw, (c, k), rs, stride, pad, groups).expect("network layers are valid");
        let l = Layer::new(
            format!("{net}_{rs}x{rs}{tag}_s{stride}_{hw}_{c}_{k}"),
            vec![net.into()],
            &shape,
        );
        if let Some(e) = self.layers.iter_mut().find(|e| e.key() == l.key()) {
            if !e.networks.iter().any(|n| n == net) {
                e.networks.push(net.into());
            }
        } else {
            self.layers.push(l);
        }
    }
}

impl Collector {
    /// A ResNet-style network: the 7x7 stem, then 3, 4, 6 and 3 bottleneck blocks per stage of
    /// `widths` (1x1 in, 3x3 of `groups` groups, 1x1 out to `width * expansion`), the first
    /// block of each stage after the first at stride 2, with a 1x1 projection shortcut.
    fn bottlenecks(&mut self, net: &str, widths: [usize; 4], expansion: usize, groups: usize) {
        self.add(net, (224, 3, 64, 7, 2, 1));
        let (mut cin, mut hw) = (64, 56);
        for (stage, (width, blocks)) in widths.into_iter().zip([3, 4, 6, 3]).enumerate() {
            let out = width * expansion;
            for b in 0..blocks {
                let stride = if b == 0 && stage > 0 { 2 } else { 1 };
                self.add(net, (hw, cin, width, 1, 1, 1));
                self.add(net, (hw, width, width, 3, stride, groups));
                let out_hw = hw / stride;
                self.add(net, (out_hw, width, out, 1, 1, 1));
                if b == 0 {
                    self.add(net, (hw, cin, out, 1, stride, 1));
                }
                cin = out;
                hw = out_hw;
            }
        }
    }
}

/// Every conv layer of the five networks at 224x224, de-duplicated.
pub(crate) fn networks() -> Vec<Layer> {
    let mut col = Collector { layers: Vec::new() };
    // ResNet-50 (torchvision v1.5: the stride sits on the 3x3 of each stage's first block);
    // ResNeXt-50 (32x4d): the same bottlenecks twice as wide, with a 3x3 of 32 groups.
    col.bottlenecks("resnet50", [64, 128, 256, 512], 4, 1);
    col.bottlenecks("resnext50", [128, 256, 512, 1024], 2, 32);
    // MobileNetV2: (expansion t, channels c, repeats n, stride s).
    col.add("mobilenetv2", (224, 3, 32, 3, 2, 1));
    let (mut cin, mut hw) = (32, 112);
    for (t, c, n, s) in [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ] {
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            let hidden = cin * t;
            if t != 1 {
                col.add("mobilenetv2", (hw, cin, hidden, 1, 1, 1));
            }
            col.add("mobilenetv2", (hw, hidden, hidden, 3, stride, hidden));
            hw /= stride;
            col.add("mobilenetv2", (hw, hidden, c, 1, 1, 1));
            cin = c;
        }
    }
    col.add("mobilenetv2", (7, 320, 1280, 1, 1, 1));
    // GoogLeNet (Inception v1): stem, then (in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj).
    col.add("googlenet", (224, 3, 64, 7, 2, 1));
    col.add("googlenet", (56, 64, 64, 1, 1, 1));
    col.add("googlenet", (56, 64, 192, 3, 1, 1));
    for (hw, cin, a, br, b, cr, c, p) in [
        (28, 192, 64, 96, 128, 16, 32, 32),
        (28, 256, 128, 128, 192, 32, 96, 64),
        (14, 480, 192, 96, 208, 16, 48, 64),
        (14, 512, 160, 112, 224, 24, 64, 64),
        (14, 512, 128, 128, 256, 24, 64, 64),
        (14, 512, 112, 144, 288, 32, 64, 64),
        (14, 528, 256, 160, 320, 32, 128, 128),
        (7, 832, 256, 160, 320, 32, 128, 128),
        (7, 832, 384, 192, 384, 48, 128, 128),
    ] {
        col.add("googlenet", (hw, cin, a, 1, 1, 1));
        col.add("googlenet", (hw, cin, br, 1, 1, 1));
        col.add("googlenet", (hw, br, b, 3, 1, 1));
        col.add("googlenet", (hw, cin, cr, 1, 1, 1));
        col.add("googlenet", (hw, cr, c, 5, 1, 1));
        col.add("googlenet", (hw, cin, p, 1, 1, 1));
    }
    // EfficientNet-B0: (expansion, kernel, stride, channels, repeats); squeeze-and-excitation
    // convs are 1x1 on a 1x1 image (reduce to max(1, in/4), expand back).
    col.add("efficientnet-b0", (224, 3, 32, 3, 2, 1));
    let (mut cin, mut hw) = (32, 112);
    for (e, k, s, c, n) in [
        (1, 3, 1, 16, 1),
        (6, 3, 2, 24, 2),
        (6, 5, 2, 40, 2),
        (6, 3, 2, 80, 3),
        (6, 5, 1, 112, 3),
        (6, 5, 2, 192, 4),
        (6, 3, 1, 320, 1),
    ] {
        for i in 0..n {
            let stride = if i == 0 { s } else { 1 };
            let hidden = cin * e;
            if e != 1 {
                col.add("efficientnet-b0", (hw, cin, hidden, 1, 1, 1));
            }
            col.add("efficientnet-b0", (hw, hidden, hidden, k, stride, hidden));
            hw /= stride;
            let se = (cin / 4).max(1);
            col.add("efficientnet-b0", (1, hidden, se, 1, 1, 1));
            col.add("efficientnet-b0", (1, se, hidden, 1, 1, 1));
            col.add("efficientnet-b0", (hw, hidden, c, 1, 1, 1));
            cin = c;
        }
    }
    col.add("efficientnet-b0", (7, 320, 1280, 1, 1, 1));
    col.layers
}

/// The whole catalogue: the quick layers (under their names, tagged with every network they
/// appear in) followed by the other network layers.
pub(crate) fn full() -> Vec<Layer> {
    let mut all = quick();
    for l in networks() {
        if let Some(q) = all.iter_mut().find(|q| q.key() == l.key()) {
            for n in l.networks {
                if !q.networks.contains(&n) {
                    q.networks.push(n);
                }
            }
        } else {
            all.push(l);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_is_valid_and_named_uniquely() {
        let all = full();
        for l in &all {
            l.shape().unwrap_or_else(|e| panic!("{}: {e}", l.name));
        }
        let mut names: Vec<_> = all.iter().map(|l| &l.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert_eq!(quick().len(), 15);
        for net in [
            "resnet50",
            "resnext50",
            "mobilenetv2",
            "googlenet",
            "efficientnet-b0",
        ] {
            assert!(
                all.iter()
                    .filter(|l| l.networks.iter().any(|n| n == net))
                    .count()
                    >= 10,
                "{net}"
            );
        }
    }

    #[test]
    fn known_flop_counts() {
        let all = full();
        let get = |name: &str| {
            all.iter()
                .find(|l| l.name == name)
                .unwrap()
                .shape()
                .unwrap()
        };
        // ResNet-50 conv1: 2 * 112 * 112 * 64 * 3 * 7 * 7.
        assert_eq!(get("stem_7x7").flops(), 236_027_904);
        // 2 * 56 * 56 * 64 * 64 * 9.
        assert_eq!(get("resnet_3x3_56").flops(), 231_211_008);
        // Depthwise 3x3 on 14x14x576: 2 * 14 * 14 * 576 * 9.
        assert_eq!(get("mbv2_dw_14").flops(), 2_032_128);
        // ResNet-50 conv1 appears once and is tagged with ResNet-50 only; GoogLeNet's stem has
        // the same geometry and shares the entry.
        let stem = all.iter().find(|l| l.name == "stem_7x7").unwrap();
        assert!(stem.networks.contains(&"googlenet".to_string()));
    }
}
