//! `cargo bench --bench int8`: what int8 buys on this CPU. One criterion group per quick-catalogue
//! layer (`int8/<layer>`), one function per int8 variant that runs here (scalar left out: it is
//! the reference, not a contender) and per f32 variant of the widest ISA, both with ReLU fused
//! and the same direct-equivalent FLOP count, so GFLOP/s (GOP/s for int8) compare directly.
//! `scripts/int8-summary.py` reads criterion's estimates and prints, per layer, the best of each
//! and their ratio with its interval.
//!
//! Select with criterion's filter, e.g. `cargo bench --bench int8 -- resnet_3x3_56`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simdconv::quant::{variants as int8_variants, QConvPlan, QuantParams};
use simdconv::{variants, Activation, ConvShape, Isa};
use simdconv_bench::bench::{layer_group, Bench, FlopTime, LayerData, Suite};

/// Seeded int8 data: inputs over the whole u8 range, per-channel weight scales.
fn int8_data(shape: &ConvShape) -> (Vec<u8>, Vec<i8>, Vec<i32>, QuantParams) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let input = (0..shape.input_len())
        .map(|_| rng.random_range(0..=255u8))
        .collect();
    let weights = (0..shape.weights_len())
        .map(|_| rng.random_range(-127..=127i8))
        .collect();
    let bias = (0..shape.k())
        .map(|_| rng.random_range(-5000..=5000))
        .collect();
    let params = QuantParams {
        input_scale: 0.02,
        input_zero: 128,
        weight_scales: (0..shape.k())
            .map(|_| rng.random_range(0.001..0.01))
            .collect(),
        output_scale: 0.05 * (shape.reduction_len() as f32).sqrt(),
        output_zero: 100,
        output_min: 0,
        output_max: 255,
    }
    .with_activation(Activation::Relu)
    .expect("valid parameters");
    (input, weights, bias, params)
}

fn bench(c: &mut Bench) {
    let widest = Isa::ALL
        .into_iter()
        .filter(|i| i.is_available())
        .max_by_key(|i| i.rank());
    for layer in Suite::Quick.layers() {
        let shape = layer.shape().expect("catalogue layers are valid");
        let mut data = LayerData::new(shape).expect("catalogue layers fit in memory");
        let mut group = layer_group(c, &format!("int8_{}", layer.name), &shape);
        for v in variants() {
            if Some(v.isa()) != widest || v.supports(&shape).is_err() {
                continue;
            }
            let mut plan = data.plan(v).expect("a supported, available variant plans");
            let id = plan.variant_name();
            data.bench(&mut group, &mut plan, id, None);
        }
        let (input, weights, bias, params) = int8_data(&shape);
        let mut output = vec![0u8; shape.output_len()];
        for v in int8_variants() {
            if !v.is_available() || v.supports(&shape).is_err() || v.isa() == Isa::Scalar {
                continue;
            }
            let mut plan = QConvPlan::new(v, &shape, &weights, Some(&bias), &params)
                .expect("a supported, available int8 variant plans");
            group.bench_function(v.name(), |b| {
                b.iter(|| plan.run(black_box(&input), black_box(&mut output)))
            });
        }
        group.finish();
    }
}

fn flop_time() -> Bench {
    Criterion::default().with_measurement(FlopTime)
}

criterion_group! {
    name = benches;
    config = flop_time();
    targets = bench
}
criterion_main!(benches);
