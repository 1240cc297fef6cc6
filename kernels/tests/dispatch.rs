//! `ConvPlan::new` picks among the register tiles registered for one (algorithm, ISA): the tile
//! that pads the GEMM least (rows to a multiple of MR, output channels to a multiple of NR),
//! tiles within 3 percentage points of the least counting as equal; then the widest; then the
//! first registered.

use simdconv::{variants, Activation, Algorithm, ConvPlan, ConvShape, Isa, WinogradTile};

/// GEMM rows of `shape` for `algorithm`: output pixels, or Winograd tiles.
fn rows(algorithm: Algorithm, shape: &ConvShape) -> usize {
    match algorithm {
        Algorithm::Winograd(t) => shape.n() * shape.p().div_ceil(t.m()) * shape.q().div_ceil(t.m()),
        _ => shape.n() * shape.p() * shape.q(),
    }
}

/// The tile the rule picks, computed from the registry itself (padding in f64 here, as a check
/// on the integer arithmetic of the implementation).
fn expected(algorithm: Algorithm, isa: Isa, shape: &ConvShape) -> &'static str {
    let (m, k) = (rows(algorithm, shape), shape.k());
    let candidates: Vec<_> = variants()
        .iter()
        .filter(|v| v.algorithm() == algorithm && v.isa() == isa)
        .map(|v| {
            let (mr, nr) = (v.tile_mr().unwrap(), v.tile_nr().unwrap());
            let padded = (m.div_ceil(mr) * mr * k.div_ceil(nr) * nr) as f64;
            let percent = (100.0 * (padded / (m * k) as f64 - 1.0) + 1e-9).floor();
            (percent, nr, v.name())
        })
        .collect();
    let least = candidates.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let mut best: Option<(usize, &'static str)> = None;
    for &(percent, nr, name) in &candidates {
        if percent <= least + 3.0 && best.is_none_or(|(n, _)| nr > n) {
            best = Some((nr, name));
        }
    }
    best.expect("a variant is registered").1
}

fn pick(shape: &ConvShape, algorithm: Algorithm, isa: Isa) -> &'static str {
    let w = vec![0.5; shape.weights_len()];
    ConvPlan::new(shape, algorithm, isa, &w, None, Activation::None)
        .unwrap()
        .variant_name()
}

#[test]
fn plan_picks_the_tile_that_pads_least() {
    for isa in Isa::ALL {
        if !isa.is_available() {
            println!("skipped: {isa:?} not on this CPU");
            continue;
        }
        for algorithm in [Algorithm::Direct, Algorithm::Pointwise] {
            for hw in [3, 7, 14, 56] {
                for k in [1, 16, 32, 33, 48, 64, 96, 144, 256] {
                    let shape = ConvShape::builder(1, hw, hw, 4, k, 1, 1).build().unwrap();
                    let want = expected(algorithm, isa, &shape);
                    assert_eq!(pick(&shape, algorithm, isa), want, "{hw}x{hw}, K = {k}");
                }
            }
        }
        for tile in [WinogradTile::F2x2_3x3, WinogradTile::F4x4_3x3] {
            for (hw, c) in [(56, 64), (28, 128), (14, 256), (7, 512), (9, 48)] {
                let shape = ConvShape::builder(1, hw, hw, c, c, 3, 3)
                    .pad(1)
                    .build()
                    .unwrap();
                let algorithm = Algorithm::Winograd(tile);
                let want = expected(algorithm, isa, &shape);
                assert_eq!(pick(&shape, algorithm, isa), want, "{tile:?} {hw}x{hw}x{c}");
            }
        }
    }
    // On this registry the rule means, for AVX-512: direct on a 56x56 image, K = 64 -> 6x64
    // (14x32 pads nothing, 6x64 0.06%), 96 and 144 -> 8x48, 32 -> 14x32; a 14x14 1x1 layer with
    // K = 256 -> 6x64 (1% of rows padded); Winograd F2 on 7x7x512 (16 tiles) -> 8x48, F4 on
    // 28x28x128 (49 tiles) -> 7x32.
    if Isa::Avx512.is_available() {
        for (k, tile) in [(64, "6x64"), (96, "8x48"), (144, "8x48"), (32, "14x32")] {
            let shape = ConvShape::builder(1, 56, 56, 4, k, 1, 1).build().unwrap();
            let want = format!("f32-direct-avx512-{tile}");
            assert_eq!(pick(&shape, Algorithm::Direct, Isa::Avx512), want);
        }
        let shape = ConvShape::builder(1, 14, 14, 1024, 256, 1, 1)
            .build()
            .unwrap();
        let got = pick(&shape, Algorithm::Pointwise, Isa::Avx512);
        assert_eq!(got, "f32-pointwise-avx512-6x64");
        for (tile, hw, c, want) in [
            (
                WinogradTile::F2x2_3x3,
                7,
                512,
                "f32-winograd-f2-avx512-8x48",
            ),
            (
                WinogradTile::F4x4_3x3,
                28,
                128,
                "f32-winograd-f4-avx512-7x32",
            ),
        ] {
            let shape = ConvShape::builder(1, hw, hw, c, c, 3, 3)
                .pad(1)
                .build()
                .unwrap();
            assert_eq!(pick(&shape, Algorithm::Winograd(tile), Isa::Avx512), want);
        }
    }
}
