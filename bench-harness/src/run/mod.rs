//! The run command: every registered variant this CPU runs on every layer of a suite that it
//! supports, measured by criterion (through `measure`, the one measurement engine), each
//! variant's error against the reference measured once outside the timed part.

mod lowp;
mod merge;
mod select;

pub(crate) use merge::merge;
#[cfg(test)]
pub(crate) use select::check_memory;
use select::selected_claims;
pub(crate) use select::{coverage, select, RunOptions, Selection};

use std::path::Path;

use simdconv::{reference, Isa, Variant};

use crate::blocks;
use crate::console::{self, Console};
use crate::here::{self};
use crate::machine;
use crate::measure::{self, Bench, LayerData, Session};
use crate::schema::layer::Layer;
use crate::schema::precision::PrecisionRecord;
use crate::schema::results::{
    gflops, BlockRecord, Record, Results, Settings, ShapeRecord, StepRecord, SCHEMA,
};
use crate::schema::suite::SuiteName;
use crate::seeded;
use crate::suite::Timing;

/// Every record whose error is over its tolerance or not finite, one line each: the run
/// publishes them (a red row on the page) and then fails.
pub(crate) fn tolerance_failures(res: &Results) -> Vec<String> {
    res.results
        .iter()
        .filter(|r| !r.within_tolerance())
        .map(|r| {
            format!(
                "{}/{} ({} thread(s)): max relative error {:e} over its tolerance {:e}",
                r.layer, r.variant, r.threads, r.max_rel_error, r.tolerance
            )
        })
        .collect()
}

/// Runs a selection (from [`select`]) and returns the results (the caller writes them into
/// `opts.out`, which it has created). `machine` reuses a profile measured earlier (appending to
/// a results file); otherwise the ceilings are measured first.
pub(crate) fn run(
    opts: &RunOptions,
    selection: Selection,
    machine: Option<crate::schema::machine::MachineProfile>,
) -> Result<Results, String> {
    let (layers, pairs) = selection;
    let started = crate::now_unix();
    let int8_rows = if opts.int8 || opts.bf16 {
        lowp::count(&layers, opts)
    } else {
        0
    };
    let mut con = Console::new((pairs.len() + int8_rows) * opts.threads.len(), opts.verbose);
    // One sample a second over the run: the sampler shares the pinned core with the kernels.
    let monitor = crate::stability::LoadMonitor::start(std::time::Duration::from_secs(1));
    let machine = match machine {
        Some(m) => m,
        None => {
            con.line("measuring the machine's ceilings ...");
            let m = machine::profile();
            con.line(&console::ceilings(&m));
            for w in m.warnings() {
                con.line(&format!("WARNING: {w}"));
            }
            m
        }
    };
    let mut machine = machine;
    if opts.threads.iter().any(|&t| t > 1) {
        con.line("measuring the ceilings with several threads ...");
        machine::measure_thread_ceilings(&mut machine, &opts.threads);
        for t in &machine.threads {
            con.line(&format!(
                "{} threads: peak {}; read {}",
                t.threads,
                machine.at_threads(t.threads).peaks_text(1),
                machine.at_threads(t.threads).bandwidth_text(1)
            ));
        }
    }
    let pools = opts
        .threads
        .iter()
        .map(|&t| {
            simdconv::rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map(|p| (t, p))
                .map_err(|e| format!("--threads {t}: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    if opts.int8 || opts.bf16 {
        con.line("measuring the dot-product peaks (int8, bf16) ...");
        machine::measure_dot_peaks(&mut machine);
        let peaks: Vec<String> = machine
            .int8_peak_gops
            .iter()
            .chain(&machine.bf16_peak_gflops)
            .map(|(isa, g)| format!("{isa} {g:.0}"))
            .collect();
        con.line(&format!("dot-product peaks, G op/s: {}", peaks.join(", ")));
    }
    let crit_dir = opts.out.join("criterion");
    let mut crit = measure::criterion(&crit_dir, opts.timing, opts.sample_size);
    let mut records = Vec::new();
    let mut precision = Vec::new();
    for layer in &layers {
        let variants: Vec<_> = pairs
            .iter()
            .filter(|(l, _)| l.name == layer.name)
            .map(|(_, v)| *v)
            .collect();
        let (recs, low) = run_layer(
            &mut crit,
            &crit_dir,
            layer,
            &variants,
            &pools,
            &machine,
            &mut con,
            (opts.int8 || opts.bf16).then_some(opts),
        )?;
        records.extend(recs);
        precision.extend(low);
    }
    for p in &mut precision {
        let peaks = [&machine.int8_peak_gops, &machine.bf16_peak_gflops];
        p.fraction_of_peak = peaks
            .iter()
            .find_map(|m| m.get(&p.isa))
            .map(|g| p.gops.point / g);
    }
    let blocks = if opts.suite.has_blocks() {
        run_blocks(&mut crit, &crit_dir, opts, &mut con)?
    } else {
        Vec::new()
    };
    // The ceilings again, and the load over the run: the page says if either moved.
    con.line("measuring the ceilings again (end of run) ...");
    machine::recheck_ceilings(&mut machine);
    if let Some(c) = &mut machine.check {
        c.load_run = monitor.finish();
    }
    for w in machine.warnings() {
        con.line(&format!("WARNING: {w}"));
    }
    let mut settings = Settings {
        suite: SuiteName::Known(opts.suite),
        filter: opts.filter.as_ref().map(|f| f.as_str().to_string()),
        warm_up_s: opts.timing.warm_up_s,
        measurement_s: opts.timing.measurement_s,
        sample_size: opts.sample_size,
        command: None,
        cpus_allowed: None,
        started_unix: Some(started),
    };
    settings.provenance();
    Ok(Results {
        schema: SCHEMA.into(),
        created_unix: crate::now_unix(),
        settings,
        machine,
        layers,
        results: records,
        blocks,
        auto: Vec::new(),
        coverage: coverage(opts),
        precision,
    })
}

/// Measures `variants` on one layer: the error against the reference once, then criterion on
/// each pool (a pool of one thread times `ConvPlan::run`, larger ones `run_parallel`, whose
/// output is first checked to be bit-identical to `run`'s); with `low`, then the int8 and bf16
/// rows it asks for.
#[allow(clippy::too_many_arguments)]
fn run_layer(
    crit: &mut Bench,
    crit_dir: &Path,
    layer: &Layer,
    variants: &[&'static Variant],
    pools: &[(usize, simdconv::rayon::ThreadPool)],
    machine: &crate::schema::machine::MachineProfile,
    con: &mut Console,
    low: Option<&RunOptions>,
) -> Result<(Vec<Record>, Vec<PrecisionRecord>), String> {
    let shape = layer.shape().map_err(|e| e.to_string())?;
    con.line(&format!(
        "-- {}: {}, {:.1} MFLOP",
        layer.name,
        ShapeRecord::of(&shape),
        shape.flops() as f64 / 1e6
    ));
    let mut data = LayerData::new(shape).map_err(|e| format!("{}: {e}", layer.name))?;
    // The oracle, once per layer, on one image: every image of a batch holds the same data
    // (`LayerData`), so every image is checked against it (no batch-sized copy of it).
    let one = layer.key().shape().map_err(|e| e.to_string())?;
    let (want, mag) = reference::conv_with_magnitude(
        &one,
        &data.input[..one.input_len()],
        &data.weights,
        Some(&data.bias),
        measure::ACTIVATION,
    )
    .map_err(|e| format!("{}: {e}", layer.name))?;
    let mut session = Session::new(crit, crit_dir, &layer.name, Some(shape.flops()));
    let mut records = Vec::new();
    for &v in variants {
        con.status(&format!("{}/{}", layer.name, v.name()));
        let mut plan = data
            .plan(v)
            .map_err(|e| format!("{}/{}: {e}", layer.name, v.name()))?;
        plan.run(&data.input, &mut data.output)
            .map_err(|e| e.to_string())?;
        let err = data
            .output
            .chunks(want.len().max(1))
            .map(|image| reference::max_relative_error(image, &want, &mag))
            // NaN (an output NaN where the reference is not) must survive the max.
            .fold(0.0, |a: f64, b| {
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else {
                    a.max(b)
                }
            });
        // The one-thread output, kept only when other thread counts are checked against it.
        let serial = if pools.iter().any(|(t, _)| *t > 1) {
            data.output.to_vec()
        } else {
            Vec::new()
        };
        for (threads, pool) in pools {
            let (threads, pool) = (*threads, (*threads > 1).then_some(pool));
            if let Some(pool) = pool {
                plan.run_parallel(&data.input, &mut data.output, pool)
                    .map_err(|e| e.to_string())?;
                if let Some(i) =
                    (0..serial.len()).find(|&i| data.output[i].to_bits() != serial[i].to_bits())
                {
                    return Err(format!(
                        "{}/{} on {threads} threads: output {i} differs from the one-thread run",
                        layer.name,
                        v.name()
                    ));
                }
            }
            let id = measure::bench_id(v.name(), threads);
            let t = con.quiet(|| session.time(&id, |b| data.iterate(b, &mut plan, pool)))?;
            let mut rec = Record {
                layer: layer.name.clone(),
                variant: v.name().into(),
                algorithm: v.algorithm().into(),
                isa: v.isa().into(),
                tile: v.tile().into(),
                types: v.types().name(),
                shape: ShapeRecord::of(&shape),
                flops: shape.flops(),
                bytes: shape.compulsory_bytes(),
                intensity: shape.arithmetic_intensity(),
                time_ns: t,
                gflops: gflops(shape.flops(), t),
                fraction_of_peak: None,
                scratch_bytes: (plan.scratch_bytes() + (threads - 1) * plan.worker_scratch_bytes())
                    as u64,
                max_rel_error: err,
                tolerance: reference::tolerance(&shape, v.algorithm()),
                threads,
            };
            rec.set_time(t, &machine.at_threads(threads));
            con.finished(&console::result_text(&rec, machine));
            records.push(rec);
        }
    }
    let low = match low {
        Some(o) => lowp::run_lowp(
            &mut session,
            &layer.name,
            &data,
            &want,
            &records,
            pools,
            o,
            con,
        )?,
        None => Vec::new(),
    };
    con.quiet(|| session.finish());
    Ok((records, low))
}

/// The widest ISA this CPU runs among `allowed` (per-step timings are taken for it), by
/// [`Isa::rank`].
fn widest(allowed: &[Isa]) -> Option<Isa> {
    allowed.iter().copied().max_by_key(|&i| i.rank())
}

/// Measures every claim's sides on every ISA (best variant per layer), each side also with one
/// fixed algorithm (direct) on the widest ISA, and per-step times on the widest ISA.
fn run_blocks(
    crit: &mut Bench,
    crit_dir: &Path,
    opts: &RunOptions,
    con: &mut Console,
) -> Result<Vec<BlockRecord>, String> {
    let isas = here::isas(opts.isas.as_deref());
    let wide = widest(&isas).ok_or("no ISA selected")?;
    let claims = selected_claims(opts)?;
    let mut modes: Vec<blocks::Mode> = isas.iter().map(|&i| blocks::Mode::Best(i)).collect();
    modes.push(blocks::Mode::Fixed(wide, simdconv::Algorithm::Direct));
    let total = claims.iter().map(|c| c.sides.len()).sum::<usize>() * modes.len();
    con.phase(total);
    con.line("-- building-block claims");
    let mut out = Vec::new();
    for claim in &claims {
        let group_name = format!("blocks-{}", claim.id);
        let mut session = Session::new(crit, crit_dir, &group_name, None);
        for (side, block) in claim.sides.iter().enumerate() {
            let input = seeded(block.buffers[0], 9);
            for &mode in &modes {
                con.status(&format!("{}/{} {}", claim.id, side, mode.isa()));
                let mut prep = blocks::Prepared::new(block, mode)?;
                prep.set_input(&input);
                let id = format!("s{side}-{}-{}", mode.isa().name(), mode.record());
                let time_ns = con.quiet(|| {
                    session.time(&id, |b| b.iter(|| prep.run().expect("checked block")))
                })?;
                let mut steps = Vec::new();
                if mode == blocks::Mode::Best(wide) {
                    // Per-step shares need less precision than the blocks themselves.
                    session.set_timing(Timing {
                        warm_up_s: opts.timing.warm_up_s.min(0.1),
                        measurement_s: opts.timing.measurement_s.min(0.4),
                    });
                    let names = prep.variant_names();
                    for (i, step) in block.steps.iter().enumerate() {
                        // Run the block once so every step's inputs hold real data.
                        prep.run()?;
                        let sid = format!("s{side}-{}-step{i}", mode.isa().name());
                        let step_ns = con.quiet(|| {
                            session
                                .time(&sid, |b| b.iter(|| prep.run_step(i).expect("checked step")))
                        })?;
                        let flops = match &step.op {
                            blocks::Op::Conv { shape, .. } => shape.flops(),
                            _ => 0,
                        };
                        steps.push(StepRecord {
                            name: step.name.clone(),
                            variant: if names[i] == "-" {
                                format!("{}-{}", step_kind(&step.op), mode.isa().name())
                            } else {
                                names[i].clone()
                            },
                            flops,
                            bytes: blocks::step_bytes(block, step),
                            time_ns: step_ns,
                        });
                    }
                    session.set_timing(opts.timing);
                }
                out.push(BlockRecord {
                    claim: claim.id.clone(),
                    title: claim.title.clone(),
                    side,
                    name: block.name.clone(),
                    isa: mode.isa().name().into(),
                    mode: mode.record(),
                    flops: block.flops(),
                    time_ns,
                    steps,
                    scaling: claim.scaling,
                });
                con.finished(&format!(
                    "{:<24} {:<26} {:>9.3} ms [{:.3}, {:.3}]",
                    format!("{}/{side}", claim.id),
                    format!("{} {}", mode.isa().name(), mode.record()),
                    time_ns.point / 1e6,
                    time_ns.lower / 1e6,
                    time_ns.upper / 1e6
                ));
            }
        }
        con.quiet(|| session.finish());
    }
    Ok(out)
}

fn step_kind(op: &blocks::Op) -> &'static str {
    match op {
        blocks::Op::Conv { .. } => "conv",
        blocks::Op::Pool(_) => "maxpool",
        blocks::Op::Concat { .. } => "concat",
        blocks::Op::Add => "add",
    }
}
