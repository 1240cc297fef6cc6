//! The correctness sweep: every registered variant that this CPU runs, on every shape of the sweep
//! it supports, with every activation, with and without bias, against `reference`.
//! `SIMDCONV_VARIANTS=NAME[,NAME]` runs only the variants whose names contain one of the parts.

mod common;

use std::collections::BTreeMap;

use common::{check, selected, shape, ACTIVATIONS};
use simdconv::{Algorithm, ConvShape, Padding};

/// Shapes chosen to break kernels: channel counts off the vector width, images smaller than any
/// register block, 1x1 images, strides 2 and 3, dilation, asymmetric and oversized padding,
/// batches of 2 and 3, depthwise, pointwise and Winograd-eligible shapes.
fn sweep() -> Vec<ConvShape> {
    let mut v = Vec::new();
    // C and K of 1, 3, 7, 8, 9, 17, 31, 64 on 3x3 pad 1 (Winograd-eligible).
    for &(c, k) in &[
        (1, 1),
        (3, 7),
        (7, 3),
        (8, 8),
        (9, 17),
        (17, 9),
        (31, 64),
        (64, 31),
        (64, 64),
    ] {
        v.push(shape(1, 7, 9, c, k, 3, 3).pad(1));
    }
    v.extend([
        // W smaller than any register block; 1x1 images.
        shape(1, 3, 2, 5, 6, 3, 3).pad(1),
        shape(1, 1, 1, 9, 17, 1, 1),
        shape(1, 1, 1, 4, 3, 3, 3).pad(1),
        shape(2, 1, 1, 33, 5, 1, 1),
        // Winograd tiles that do not divide the output.
        shape(1, 5, 11, 4, 5, 3, 3),
        shape(1, 13, 6, 8, 16, 3, 3).pad(1),
        shape(3, 9, 9, 3, 4, 3, 3).padding(Padding {
            top: 0,
            left: 2,
            bottom: 1,
            right: 0,
        }),
        // Strides 2 and 3, dilation 2.
        shape(1, 11, 12, 5, 7, 3, 3).stride(2).pad(1),
        shape(1, 14, 13, 3, 8, 5, 5).stride(3).pad(2),
        shape(1, 12, 12, 6, 5, 3, 3).dilation(2).pad(2),
        shape(2, 10, 9, 4, 9, 3, 2)
            .stride_hw(2, 1)
            .dilation_hw(1, 2),
        // Asymmetric padding; padding larger than the kernel's half.
        shape(1, 6, 7, 3, 5, 3, 3).padding(Padding {
            top: 2,
            left: 0,
            bottom: 0,
            right: 1,
        }),
        shape(1, 5, 5, 2, 3, 3, 3).pad(3),
        shape(1, 4, 6, 8, 8, 5, 5).padding(Padding {
            top: 4,
            left: 1,
            bottom: 3,
            right: 4,
        }),
        // Batches of 2 and 3; stem-like 7x7 stride 2; 5x5.
        shape(2, 6, 6, 17, 9, 3, 3).pad(1),
        shape(3, 5, 4, 9, 31, 1, 1),
        shape(1, 16, 16, 3, 16, 7, 7).stride(2).pad(3),
        shape(1, 9, 9, 8, 16, 5, 5).pad(2),
        shape(1, 8, 8, 64, 17, 1, 1),
        shape(1, 5, 5, 31, 33, 1, 1),
        // Rectangular kernels.
        shape(1, 6, 8, 4, 4, 1, 3).padding(Padding {
            top: 0,
            left: 1,
            bottom: 0,
            right: 1,
        }),
        shape(1, 8, 6, 4, 4, 3, 1).padding(Padding {
            top: 1,
            left: 0,
            bottom: 1,
            right: 0,
        }),
        // Depthwise: 3x3, 5x5, stride 2, dilation, odd channel counts, border-only images.
        shape(1, 9, 11, 17, 17, 3, 3).pad(1).groups(17),
        shape(1, 8, 8, 32, 32, 3, 3).stride(2).pad(1).groups(32),
        shape(2, 7, 7, 9, 9, 5, 5).pad(2).groups(9),
        shape(1, 6, 10, 1, 1, 3, 3).dilation(2).pad(2).groups(1),
        shape(1, 3, 2, 40, 40, 3, 3).pad(1).groups(40),
        shape(1, 10, 10, 7, 7, 3, 3)
            .stride(3)
            .padding(Padding {
                top: 0,
                left: 2,
                bottom: 1,
                right: 0,
            })
            .groups(7),
        shape(1, 12, 12, 24, 24, 7, 7).pad(3).groups(24),
        shape(3, 5, 5, 16, 16, 3, 3).pad(1).groups(16),
        shape(1, 4, 4, 33, 33, 5, 5).pad(4).groups(33),
        shape(1, 6, 5, 8, 8, 3, 3).groups(8),
        // Depthwise rows wide enough for the register-blocked window path: several blocks and a
        // shifted last one, 1-4 full vectors of every ISA plus tails, both strides, 3x3 and 5x5,
        // no / symmetric / asymmetric padding.
        shape(1, 5, 23, 40, 40, 3, 3).pad(1).groups(40),
        shape(1, 6, 21, 48, 48, 3, 3)
            .stride_hw(1, 2)
            .pad(1)
            .groups(48),
        shape(1, 4, 13, 33, 33, 3, 3).groups(33),
        shape(1, 6, 17, 24, 24, 5, 5).pad(2).groups(24),
        // More than one 64-channel group (the one-vector window path walks the row per group),
        // the last group partial, plus a channel tail.
        shape(1, 6, 9, 84, 84, 3, 3).pad(1).groups(84),
        shape(1, 7, 11, 76, 76, 3, 3).stride(2).pad(1).groups(76),
        shape(1, 9, 19, 72, 72, 5, 5)
            .stride(2)
            .padding(Padding {
                top: 1,
                left: 2,
                bottom: 0,
                right: 1,
            })
            .groups(72),
        // Grouped (not depthwise): only the reference and algorithms that take groups.
        shape(1, 6, 6, 8, 12, 3, 3).pad(1).groups(4),
    ]);
    v.into_iter()
        .map(|b| b.build().expect("sweep shapes are valid"))
        .collect()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes under Miri; tiny_shapes_every_variant covers every variant"
)]
fn every_variant_matches_the_reference() {
    let shapes = sweep();
    assert!(shapes.len() >= 40, "the sweep has {} shapes", shapes.len());
    let mut pairs = 0usize;
    let mut failures = Vec::new();
    let mut worst: BTreeMap<&str, f64> = BTreeMap::new();
    let mut skipped = Vec::new();
    for v in selected() {
        if !v.is_available() {
            skipped.push(format!(
                "skipped: {} (no {} on this CPU)",
                v.name(),
                v.isa()
            ));
            continue;
        }
        let mut ran = 0;
        for (i, s) in shapes.iter().enumerate() {
            if v.supports(s).is_err() {
                continue;
            }
            ran += 1;
            for (j, &act) in ACTIVATIONS.iter().enumerate() {
                for bias in [false, true] {
                    match check(v, s, act, bias, (i * 8 + j * 2 + bias as usize) as u64) {
                        Ok(c) => {
                            let e = worst.entry(v.algorithm().name()).or_insert(0.0);
                            *e = e.max(c.err / (c.tol / tol_factor(v.algorithm())));
                        }
                        Err(e) => failures.push(e),
                    }
                }
            }
        }
        assert!(ran > 0, "{} supports no shape of the sweep", v.name());
        pairs += ran;
    }
    for s in &skipped {
        println!("{s}");
    }
    println!("{pairs} (variant, shape) pairs ran, each with 4 activations x bias on/off");
    for (alg, w) in &worst {
        println!("worst error / ((L+2) 2^-24 M) for {alg}: {w:.3}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn tol_factor(a: Algorithm) -> f64 {
    match a {
        Algorithm::Winograd(simdconv::WinogradTile::F2x2_3x3) => {
            simdconv::reference::WINOGRAD_F2_FACTOR
        }
        Algorithm::Winograd(simdconv::WinogradTile::F4x4_3x3) => {
            simdconv::reference::WINOGRAD_F4_FACTOR
        }
        _ => 1.0,
    }
}

/// Every C and K from 1 to 33 for the vectorised direct, pointwise and depthwise variants: every
/// channel-tail path of every vector width.
#[test]
#[cfg_attr(
    miri,
    ignore = "minutes under Miri; tiny_shapes_every_variant covers the tails"
)]
fn channel_tails_1_to_33() {
    let mut pairs = 0;
    let mut failures = Vec::new();
    for v in selected().into_iter().filter(|v| v.is_available()) {
        let alg = v.algorithm();
        if !matches!(
            alg,
            Algorithm::Direct | Algorithm::Pointwise | Algorithm::Depthwise
        ) {
            continue;
        }
        for c in 1..=33 {
            let ks: Vec<usize> = if alg == Algorithm::Depthwise {
                vec![c]
            } else {
                (1..=33).collect()
            };
            for k in ks {
                let b = match alg {
                    Algorithm::Pointwise => shape(1, 3, 5, c, k, 1, 1),
                    Algorithm::Depthwise => shape(1, 5, 6, c, k, 3, 3).pad(1).groups(c),
                    _ => shape(1, 4, 5, c, k, 3, 3).pad(1),
                };
                let s = b.build().unwrap();
                pairs += 1;
                let act = ACTIVATIONS[(c + k) % 4];
                if let Err(e) = check(v, &s, act, (c + k) % 2 == 0, (c * 64 + k) as u64) {
                    failures.push(e);
                }
            }
        }
    }
    println!("{pairs} (variant, C, K) tail cases ran");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A few tiny shapes through every variant: cheap enough for Miri, still every code path kind
/// (full vectors, channel tails, padding, stride, dilation, depthwise, Winograd tiles).
#[test]
fn tiny_shapes_every_variant() {
    let shapes = [
        shape(1, 3, 4, 17, 9, 3, 3).pad(1),
        shape(1, 2, 3, 5, 18, 1, 1),
        shape(1, 4, 3, 19, 19, 3, 3).stride(2).pad(1).groups(19),
        shape(1, 5, 5, 3, 4, 3, 3).dilation(2).pad(2),
        // Interior Winograd tiles (F2 and F4), full vectors and tails of every x86 ISA: the
        // transforms' unchecked paths.
        shape(1, 6, 6, 9, 17, 3, 3),
        // Depthwise rows wide enough for the window path, one row pair and one single row.
        shape(1, 3, 7, 10, 10, 3, 3).pad(1).groups(10),
    ];
    let mut pairs = 0;
    for (i, b) in shapes.iter().enumerate() {
        let s = b.build().unwrap();
        for v in selected()
            .into_iter()
            .filter(|v| v.is_available() && v.supports(&s).is_ok())
        {
            check(v, &s, ACTIVATIONS[i % 4], i % 2 == 0, i as u64).unwrap();
            pairs += 1;
        }
    }
    println!("{pairs} tiny (variant, shape) pairs");
}
