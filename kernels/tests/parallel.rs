//! `run_parallel` against `run`: every registered variant this CPU runs, on the sweep's shapes and
//! on shapes large enough to split into several row blocks and tile blocks, over pools of 1, 2, 3
//! and 7 threads (odd splits), must give the same bits. Grain 0 makes every unit its own task, so
//! even the smallest shapes split; the default grain is checked on the larger shapes.

mod common;

use common::{data, selected, shape, sweep};
use simdconv::rayon::{ThreadPool, ThreadPoolBuilder};
use simdconv::{Activation, ConvShape, Variant};

fn pools(threads: &[usize]) -> Vec<ThreadPool> {
    threads
        .iter()
        .map(|&t| ThreadPoolBuilder::new().num_threads(t).build().unwrap())
        .collect()
}

/// Shapes with several GEMM row blocks, Winograd tile blocks and depthwise row pairs, a batch,
/// output channels off the register tile, and groups.
fn larger() -> Vec<ConvShape> {
    [
        shape(1, 30, 28, 16, 40, 3, 3).pad(1),
        shape(2, 17, 19, 24, 20, 3, 3).pad(1),
        shape(1, 40, 36, 32, 24, 1, 1),
        shape(1, 23, 21, 3, 16, 7, 7).stride(2).pad(3),
        shape(2, 26, 30, 48, 48, 3, 3).pad(1).groups(48),
        shape(1, 31, 29, 40, 40, 3, 3).stride(2).pad(1).groups(40),
        shape(1, 9, 9, 256, 160, 3, 3).pad(1),
        // Rows 4 KiB apart: tiles of more than 8 rows copy them into each worker's scratch.
        shape(1, 14, 14, 1024, 40, 1, 1),
        // Grouped: each group's GEMM is split on its own.
        shape(1, 15, 14, 64, 96, 3, 3).pad(1).groups(4),
    ]
    .into_iter()
    .map(|b| b.build().unwrap())
    .collect()
}

/// Compares `v`'s parallel runs with its serial run on `s`; the failures, named.
fn compare(
    v: &'static Variant,
    s: &ConvShape,
    pools: &[ThreadPool],
    grains: &[f64],
) -> Vec<String> {
    let input = data(s.input_len(), 7);
    let weights = data(s.weights_len(), 8);
    let bias = data(s.k(), 9);
    let act = Activation::Relu6;
    let mut plan = v.plan(s, &weights, Some(&bias), act).unwrap();
    let mut want = vec![f32::NAN; s.output_len()];
    plan.run(&input, &mut want).unwrap();
    let mut fails = Vec::new();
    for pool in pools {
        for &grain in grains {
            let mut got = vec![f32::NAN; s.output_len()];
            plan.run_parallel_grain(&input, &mut got, pool, grain)
                .unwrap();
            if let Some(i) = (0..got.len()).find(|&i| got[i].to_bits() != want[i].to_bits()) {
                fails.push(format!(
                    "{} on {s}, {} threads, grain {grain}: output {i} is {} serial, {} parallel",
                    v.name(),
                    pool.current_num_threads(),
                    want[i],
                    got[i]
                ));
            }
        }
    }
    fails
}

#[test]
#[cfg_attr(
    miri,
    ignore = "hours under Miri; tiny_parallel_runs covers every algorithm"
)]
fn parallel_runs_are_bit_identical_to_serial() {
    let pools = pools(&[1, 2, 3, 7]);
    let (mut fails, mut pairs) = (Vec::new(), 0);
    for v in selected() {
        if !v.is_available() {
            println!("skipped: {} (no {} on this CPU)", v.name(), v.isa());
            continue;
        }
        for s in sweep().iter().filter(|s| v.supports(s).is_ok()) {
            fails.extend(compare(v, s, &pools, &[0.0]));
            pairs += 1;
        }
        for s in larger().iter().filter(|s| v.supports(s).is_ok()) {
            fails.extend(compare(
                v,
                s,
                &pools,
                &[0.0, 1e5, simdconv::DEFAULT_GRAIN_FLOPS],
            ));
            pairs += 1;
        }
    }
    println!("{pairs} (variant, shape) pairs, each on 1, 2, 3 and 7 threads");
    assert!(pairs > 0);
    assert!(
        fails.is_empty(),
        "{} failures:\n{}",
        fails.len(),
        fails.join("\n")
    );
}

/// Small enough for Miri, whose data-race detector then checks that units never share a write:
/// shapes that split into several units for every algorithm (GEMM column groups, Winograd tile
/// blocks, depthwise rows, direct's padded copy), 3 threads, every unit its own task.
#[test]
fn tiny_parallel_runs() {
    let shapes: Vec<ConvShape> = [
        shape(1, 4, 4, 5, 18, 3, 3).pad(1),
        shape(1, 4, 3, 6, 6, 3, 3).pad(1).groups(6),
        shape(1, 3, 4, 6, 20, 1, 1),
        // Grouped: each group's GEMM split into units of its own.
        shape(1, 4, 4, 4, 8, 3, 3).pad(1).groups(2),
    ]
    .into_iter()
    .map(|b| b.build().unwrap())
    .collect();
    let pools = pools(&[3]);
    let (mut fails, mut pairs) = (Vec::new(), 0);
    let mut chosen: Vec<&'static Variant> = selected()
        .into_iter()
        .filter(|v| v.is_available())
        .collect();
    if cfg!(miri) {
        // The drivers, where units meet, are one generic code path for every ISA: under Miri
        // one variant per algorithm (AVX2's, the widest ISA Miri runs) keeps this to minutes.
        chosen.sort_by_key(|v| std::cmp::Reverse(v.isa().rank()));
        let mut seen = Vec::new();
        chosen.retain(|v| {
            let new = !seen.contains(&v.algorithm());
            seen.push(v.algorithm());
            new
        });
    }
    for v in chosen {
        for s in shapes.iter().filter(|s| v.supports(s).is_ok()) {
            fails.extend(compare(v, s, &pools, &[0.0]));
            pairs += 1;
        }
    }
    println!("{pairs} tiny parallel (variant, shape) pairs");
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

/// A pool larger than any before grows the plan's worker scratch; bad lengths are errors.
#[test]
fn parallel_run_checks_lengths() {
    let s = shape(1, 6, 6, 4, 4, 3, 3).pad(1).build().unwrap();
    let w = data(s.weights_len(), 1);
    let mut plan = simdconv::ConvPlan::new(
        &s,
        simdconv::Algorithm::Direct,
        simdconv::Isa::Scalar,
        &w,
        None,
        Activation::None,
    )
    .unwrap();
    let pool = ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let input = data(s.input_len(), 2);
    let mut short = vec![0.0; s.output_len() - 1];
    let e = plan.run_parallel(&input, &mut short, &pool).unwrap_err();
    assert!(e.to_string().contains("output"), "{e}");
    let e = plan
        .run_parallel(&input[1..], &mut vec![0.0; s.output_len()], &pool)
        .unwrap_err();
    assert!(e.to_string().contains("input"), "{e}");
}
