//! The correctness sweep: every registered variant that this CPU runs, on every shape of the sweep
//! it supports, with every activation, with and without bias, against `reference`.
//! `SIMDCONV_VARIANTS=NAME[,NAME]` runs only the variants whose names contain one of the parts.

mod common;

use std::collections::BTreeMap;

use common::{selected, shape, sweep, Case, ACTIVATIONS};
use simdconv::Algorithm;

#[test]
#[cfg_attr(
    miri,
    ignore = "minutes under Miri; tiny_shapes_every_variant covers every variant"
)]
fn every_variant_matches_the_reference() {
    let shapes = sweep();
    assert!(shapes.len() >= 40, "the sweep has {} shapes", shapes.len());
    let mut failures = Vec::new();
    let mut worst: BTreeMap<&str, f64> = BTreeMap::new();
    let (available, unavailable): (Vec<_>, Vec<_>) =
        selected().into_iter().partition(|v| v.is_available());
    // Shapes outside, variants inside: each reference is computed once.
    let mut ran = vec![0usize; available.len()];
    for (i, s) in shapes.iter().enumerate() {
        let here: Vec<usize> = (0..available.len())
            .filter(|&x| available[x].supports(s).is_ok())
            .collect();
        for &x in &here {
            ran[x] += 1;
        }
        for (j, &act) in ACTIVATIONS.iter().enumerate() {
            for bias in [false, true] {
                let case = Case::new(s, act, bias, (i * 8 + j * 2 + bias as usize) as u64)
                    .unwrap_or_else(|e| panic!("reference on {s}: {e}"));
                for &x in &here {
                    let v = available[x];
                    match case.check(v) {
                        Ok(c) => {
                            let e = worst.entry(v.algorithm().name()).or_insert(0.0);
                            *e = e.max(c.err / (c.tol / tol_factor(v.algorithm())));
                        }
                        Err(e) => failures.push(e),
                    }
                }
            }
        }
    }
    for v in &unavailable {
        println!("skipped: {} (no {} on this CPU)", v.name(), v.isa());
    }
    for (v, n) in available.iter().zip(&ran) {
        assert!(*n > 0, "{} supports no shape of the sweep", v.name());
    }
    let pairs: usize = ran.iter().sum();
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
        Algorithm::Winograd(t) => simdconv::reference::winograd_factor(t),
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
    let available: Vec<_> = selected()
        .into_iter()
        .filter(|v| v.is_available())
        .collect();
    for alg in [
        Algorithm::Direct,
        Algorithm::Pointwise,
        Algorithm::Depthwise,
    ] {
        let of_alg: Vec<_> = available.iter().filter(|v| v.algorithm() == alg).collect();
        if of_alg.is_empty() {
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
                let act = ACTIVATIONS[(c + k) % 4];
                let case = Case::new(&s, act, (c + k) % 2 == 0, (c * 64 + k) as u64)
                    .unwrap_or_else(|e| panic!("reference on {s}: {e}"));
                for v in &of_alg {
                    pairs += 1;
                    if let Err(e) = case.check(v) {
                        failures.push(e);
                    }
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

/// Whether `a` is not a Winograd tile, or the first point set of its tile size. Under Miri the
/// others are left out: the points are constants of the same code, whose memory accesses are
/// what Miri checks (the sweep above runs every point set against the reference).
fn first_point_set(a: Algorithm) -> bool {
    match a {
        Algorithm::Winograd(t) => simdconv::WinogradTile::ALL
            .iter()
            .find(|o| o.m() == t.m())
            .is_some_and(|&o| o == t),
        _ => true,
    }
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
        // Interior Winograd tiles (F2, F4 and F6), full vectors and tails of the 8-lane ISAs:
        // the transforms' unchecked paths.
        shape(1, 8, 8, 9, 9, 3, 3),
        // Depthwise rows wide enough for the window path, one row pair and one single row, at
        // vertical stride 1 and 2.
        shape(1, 3, 7, 10, 10, 3, 3).pad(1).groups(10),
        shape(1, 5, 11, 10, 10, 3, 3).stride(2).pad(1).groups(10),
        // Grouped: direct and im2col group by group.
        shape(1, 3, 4, 8, 12, 3, 3).pad(1).groups(2),
        // Twelve rows 4 KiB apart (stride 2 over 512 channels): tiles of more than 8 rows copy
        // them before use.
        shape(1, 6, 8, 512, 8, 1, 1).stride(2),
    ];
    let mut pairs = 0;
    for (i, b) in shapes.iter().enumerate() {
        let s = b.build().unwrap();
        let case = Case::new(&s, ACTIVATIONS[i % 4], i % 2 == 0, i as u64).unwrap();
        for v in selected()
            .into_iter()
            .filter(|v| v.is_available() && v.supports(&s).is_ok())
        {
            if cfg!(miri) && !first_point_set(v.algorithm()) {
                continue;
            }
            case.check(v).unwrap();
            pairs += 1;
        }
    }
    println!("{pairs} tiny (variant, shape) pairs");
}
