//! `cargo bench`: one criterion group per layer of the quick catalogue, one function per
//! registered variant that supports the layer and runs on this CPU, through the same plumbing as
//! `simdconv-bench run` (`simdconv_bench::bench`). Throughput prints as GFLOP/s
//! (direct-equivalent FLOPs for every algorithm) through the `FlopTime` measurement.
//!
//! Select with criterion's filter, e.g. `cargo bench -- resnet_3x3_56/direct`.

use criterion::{criterion_group, criterion_main, Criterion};
use simdconv::variants;
use simdconv_bench::bench::{layer_group, Bench, FlopTime, LayerData, Suite};

fn bench(c: &mut Bench) {
    for layer in Suite::Quick.layers() {
        let shape = layer.shape().expect("catalogue layers are valid");
        let mut data = LayerData::new(shape).expect("catalogue layers fit in memory");
        let mut group = layer_group(c, &layer.name, &shape);
        for v in variants() {
            if !v.is_available() || v.supports(&shape).is_err() {
                continue;
            }
            let mut plan = data.plan(v).expect("a supported, available variant plans");
            let id = plan.variant_name();
            data.bench(&mut group, &mut plan, id, None);
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
