//! `cargo bench`: one criterion group per layer of the catalogue, one function per registered
//! variant that supports the layer and runs on this CPU. Throughput is `Elements(flops)`, so
//! criterion's "elem/s" reads as FLOP/s (direct-equivalent FLOPs for every algorithm).
//!
//! Select with criterion's filter, e.g. `cargo bench -- resnet_3x3_56/direct`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use simdconv::{variants, Activation, AlignedBuf};
use simdconv_bench::{catalogue, seeded};

fn bench(c: &mut Criterion) {
    for layer in catalogue::quick() {
        let shape = layer.shape().expect("catalogue layers are valid");
        // 64-byte aligned activations, as a framework would hand them over.
        let input = AlignedBuf::from_slice(&seeded(shape.input_len(), 1));
        let weights = seeded(shape.weights_len(), 2);
        let bias = seeded(shape.k(), 3);
        let mut output = AlignedBuf::zeroed(shape.output_len());
        let mut group = c.benchmark_group(layer.name.clone());
        group.throughput(Throughput::Elements(shape.flops()));
        for v in variants() {
            if !v.is_available() || v.supports(&shape).is_err() {
                continue;
            }
            // Packing happens here, outside the timed closure.
            let mut plan = v
                .plan(&shape, &weights, Some(&bias), Activation::Relu)
                .expect("a supported, available variant plans");
            group.bench_function(v.name(), |b| {
                b.iter(|| plan.run(black_box(&input), black_box(&mut output)).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
