//! Runs one variant on one shape in a loop, for a profiler (`perf record`, `perf stat`) to look
//! at without the harness's ceiling probes and criterion around it.
//!
//! `cargo run --release -p simdconv --example spin -- VARIANT H W C K R [STRIDE PAD SECONDS]`
//! (square kernel, batch 1, groups 1), e.g. `f32-winograd-f6-avx2-6x16 56 56 64 64 3 1 1 5`.
//! Prints the runs and the median time per run.

use std::time::{Duration, Instant};

use simdconv::{variants, Activation, ConvShape};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 6 {
        return Err("usage: spin VARIANT H W C K R [STRIDE PAD SECONDS]".into());
    }
    let v = variants()
        .iter()
        .find(|v| v.name() == simdconv::canonical_name(&args[0]))
        .ok_or_else(|| format!("no variant named {:?}", args[0]))?;
    let num = |i: usize, default: usize| -> Result<usize, String> {
        args.get(i).map_or(Ok(default), |s| {
            s.parse()
                .map_err(|_| format!("argument {}: {s:?} is not a count", i + 1))
        })
    };
    let (h, w, c, k, r) = (num(1, 0)?, num(2, 0)?, num(3, 0)?, num(4, 0)?, num(5, 0)?);
    let (stride, pad) = (num(6, 1)?, num(7, 0)?);
    let seconds: f64 = args
        .get(8)
        .map_or(Ok(5.0), |s| s.parse())
        .map_err(|_| "SECONDS is not a number")?;
    let shape = ConvShape::builder(1, h, w, c, k, r, r)
        .stride(stride)
        .pad(pad)
        .build()?;
    let data = |n: usize, seed: usize| -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 + seed) % 1000) as f32 / 1000.0 - 0.5)
            .collect()
    };
    let weights = data(shape.weights_len(), 1);
    let bias = data(k, 2);
    let input = data(shape.input_len(), 3);
    let mut out = vec![0.0; shape.output_len()];
    let mut plan = v.plan(&shape, &weights, Some(&bias), Activation::Relu)?;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut times = Vec::new();
    while Instant::now() < deadline {
        let t = Instant::now();
        plan.run(&input, &mut out)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{} on {shape}: {} runs, median {:.1} us = {:.1} GFLOP/s",
        v.name(),
        times.len(),
        median * 1e6,
        shape.flops() as f64 / median / 1e9
    );
    Ok(())
}
