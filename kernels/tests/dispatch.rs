//! `ConvPlan::new` picks among the register tiles registered for one (algorithm, ISA): least
//! output-channel padding, then the widest tile, then the first registered.

use simdconv::{variants, Activation, Algorithm, ConvPlan, ConvShape, Isa};

/// The tile the rule picks, computed from the registry itself.
fn expected(algorithm: Algorithm, isa: Isa, k: usize) -> &'static str {
    let mut best: Option<(usize, usize, &'static str)> = None;
    for v in variants()
        .iter()
        .filter(|v| v.algorithm() == algorithm && v.isa() == isa)
    {
        let nr = v.tile_nr().expect("GEMM variants have an MRxNR tile");
        let waste = k.div_ceil(nr) * nr - k;
        if best.is_none_or(|(w, n, _)| waste < w || (waste == w && nr > n)) {
            best = Some((waste, nr, v.name()));
        }
    }
    best.expect("a variant is registered").2
}

#[test]
fn plan_picks_the_tile_that_pads_k_least() {
    for isa in Isa::ALL {
        if !isa.is_available() {
            println!("skipped: {isa:?} not on this CPU");
            continue;
        }
        for algorithm in [Algorithm::Direct, Algorithm::Pointwise] {
            for k in [1, 16, 32, 33, 48, 64, 96, 144, 256] {
                let shape = ConvShape::builder(1, 3, 3, 4, k, 1, 1).build().unwrap();
                let w = vec![0.5; shape.weights_len()];
                let plan =
                    ConvPlan::new(&shape, algorithm, isa, &w, None, Activation::None).unwrap();
                assert_eq!(plan.variant_name(), expected(algorithm, isa, k), "K = {k}");
            }
        }
    }
    // On this registry the rule means, for AVX-512 direct: 64 -> 6x64, 96 and 144 -> 8x48, 32
    // -> 14x32.
    if Isa::Avx512.is_available() {
        for (k, tile) in [(64, "6x64"), (96, "8x48"), (144, "8x48"), (32, "14x32")] {
            let shape = ConvShape::builder(1, 3, 3, 4, k, 1, 1).build().unwrap();
            let w = vec![0.5; shape.weights_len()];
            let plan = ConvPlan::new(
                &shape,
                Algorithm::Direct,
                Isa::Avx512,
                &w,
                None,
                Activation::None,
            )
            .unwrap();
            assert_eq!(plan.variant_name(), format!("direct-avx512-{tile}"));
        }
    }
}
