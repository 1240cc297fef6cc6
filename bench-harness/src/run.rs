//! The run command: every registered variant this CPU runs on every layer of a suite that it
//! supports, measured by criterion (through `measure`, the one measurement engine), each
//! variant's error against the reference measured once outside the timed part.

use std::path::{Path, PathBuf};

use simdconv::{reference, variants, Isa, Variant};

use crate::blocks;
use crate::console::{self, Console};
use crate::here::{self, Filter};
use crate::machine;
use crate::measure::{self, Bench, LayerData, Session};
use crate::schema::layer::Layer;
use crate::schema::results::{
    gflops, BlockRecord, Interval, Record, Results, Settings, ShapeRecord, StepRecord, SCHEMA,
};
use crate::schema::suite::SuiteName;
use crate::seeded;
use crate::suite::{Suite, Timing};

/// What to run and where.
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    /// The suite.
    pub suite: Suite,
    /// Keeps (layer, variant) pairs where `layer/variant` matches.
    pub filter: Option<Filter>,
    /// Keeps variants of these ISAs only.
    pub isas: Option<Vec<Isa>>,
    /// Output directory (results.json, index.html, criterion's data).
    pub out: PathBuf,
    /// criterion warm-up and measurement time.
    pub timing: Timing,
    /// criterion samples.
    pub sample_size: usize,
    /// Keep criterion's own console output.
    pub verbose: bool,
    /// The tuning map auto reads (else `SIMDCONV_TUNING`, else `out/tuning.json`).
    pub tuning: Option<PathBuf>,
    /// Thread counts every variant is measured with (1 = `ConvPlan::run`; more =
    /// `run_parallel` on a pool of that many threads).
    pub threads: Vec<usize>,
    /// Batch sizes every layer is measured at (1 keeps the catalogue's name; n > 1 adds
    /// `<layer>_b<n>`).
    pub batch: Vec<usize>,
}

impl RunOptions {
    /// The suite's default timing, 10 samples.
    pub(crate) fn for_suite(suite: Suite, out: PathBuf) -> RunOptions {
        RunOptions {
            suite,
            filter: None,
            isas: None,
            out,
            timing: suite.timing(),
            sample_size: 10,
            verbose: false,
            tuning: None,
            threads: vec![1],
            batch: vec![1],
        }
    }
}

/// The layers of a selection and its (layer, variant) pairs.
pub(crate) type Selection = (Vec<Layer>, Vec<(Layer, &'static Variant)>);

/// The (layer, variant) pairs a run would measure; an empty selection is an error (except for
/// the blocks suite, which has no single layers).
pub(crate) fn select(opts: &RunOptions) -> Result<Selection, String> {
    let layers: Vec<Layer> = opts
        .suite
        .layers()
        .iter()
        .flat_map(|l| opts.batch.iter().map(|&n| l.with_batch(n)))
        .collect();
    let filter = opts.filter.as_ref();
    let mut pairs = Vec::new();
    for l in &layers {
        let shape = l.shape().map_err(|e| format!("layer {}: {e}", l.name))?;
        for v in variants() {
            let name_ok = here::passes(filter, &format!("{}/{}", l.name, v.name()));
            if name_ok && here::runs(v, &shape, opts.isas.as_deref()) {
                pairs.push((l.clone(), v));
            }
        }
    }
    let claims = if opts.suite.has_blocks() {
        selected_claims(opts)?.len()
    } else {
        0
    };
    if pairs.is_empty() && claims == 0 {
        return Err(format!(
            "nothing to run: no (layer, variant){} of suite \"{}\" matches filter {:?} and isa list {:?} on this CPU",
            if opts.suite.has_blocks() { " or building-block claim (blocks/<claim>)" } else { "" },
            opts.suite,
            opts.filter.as_ref().map_or("", Filter::as_str),
            opts.isas
        ));
    }
    let used: Vec<Layer> = layers
        .into_iter()
        .filter(|l| pairs.iter().any(|(pl, _)| pl.name == l.name))
        .collect();
    Ok((used, pairs))
}

/// The building-block claims whose `blocks/<id>` matches the filter.
fn selected_claims(opts: &RunOptions) -> Result<Vec<blocks::Claim>, String> {
    Ok(blocks::claims()
        .into_iter()
        .filter(|c| here::passes(opts.filter.as_ref(), &format!("blocks/{}", c.id)))
        .collect())
}

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
    let mut con = Console::new(pairs.len() * opts.threads.len(), opts.verbose);
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
    let crit_dir = opts.out.join("criterion");
    let mut crit = measure::criterion(&crit_dir, opts.timing, opts.sample_size);
    let mut records = Vec::new();
    for layer in &layers {
        let variants: Vec<_> = pairs
            .iter()
            .filter(|(l, _)| l.name == layer.name)
            .map(|(_, v)| *v)
            .collect();
        let recs = run_layer(
            &mut crit, &crit_dir, layer, &variants, &pools, &machine, &mut con,
        )?;
        records.extend(recs);
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
    })
}

/// Measures `variants` on one layer: the error against the reference once, then criterion on
/// each pool (a pool of one thread times `ConvPlan::run`, larger ones `run_parallel`, whose
/// output is first checked to be bit-identical to `run`'s).
fn run_layer(
    crit: &mut Bench,
    crit_dir: &Path,
    layer: &Layer,
    variants: &[&'static Variant],
    pools: &[(usize, simdconv::rayon::ThreadPool)],
    machine: &crate::schema::machine::MachineProfile,
    con: &mut Console,
) -> Result<Vec<Record>, String> {
    let shape = layer.shape().map_err(|e| e.to_string())?;
    con.line(&format!(
        "-- {}: {}, {:.1} MFLOP",
        layer.name,
        ShapeRecord::of(&shape),
        shape.flops() as f64 / 1e6
    ));
    let mut data = LayerData::new(shape);
    // The oracle, once per layer, on one image: every image of a batch holds the same data
    // (`LayerData`), so every image is checked against it.
    let one = Layer {
        batch: 1,
        ..layer.clone()
    }
    .shape()
    .map_err(|e| e.to_string())?;
    let (want, mag) = reference::conv_with_magnitude(
        &one,
        &data.input[..one.input_len()],
        &data.weights,
        Some(&data.bias),
        measure::ACTIVATION,
    )
    .map_err(|e| format!("{}: {e}", layer.name))?;
    let (want, mag) = (want.repeat(shape.n()), mag.repeat(shape.n()));
    let mut session = Session::new(crit, crit_dir, &layer.name, Some(shape.flops()));
    let mut records = Vec::new();
    for &v in variants {
        con.status(&format!("{}/{}", layer.name, v.name()));
        let mut plan = data
            .plan(v)
            .map_err(|e| format!("{}/{}: {e}", layer.name, v.name()))?;
        plan.run(&data.input, &mut data.output)
            .map_err(|e| e.to_string())?;
        let err = reference::max_relative_error(&data.output, &want, &mag);
        let serial = data.output.to_vec();
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
    con.quiet(|| session.finish());
    Ok(records)
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

/// Merges a new run into an earlier one (`run --append`), layer results and claims alike. A (layer, variant) measured in both is
/// combined as repeated rounds are: the point estimate is the lower median (the usual estimator
/// of a kernel's time under interference) and the interval is the union of both intervals, so
/// round-to-round drift widens it instead of passing for a real difference.
pub(crate) fn merge(mut old: Results, mut new: Results) -> Results {
    for n in &mut new.results {
        if let Some(o) = old
            .results
            .iter()
            .find(|o| o.layer == n.layer && o.variant == n.variant && o.threads == n.threads)
        {
            let t = Interval {
                point: o.time_ns.point.min(n.time_ns.point),
                lower: o.time_ns.lower.min(n.time_ns.lower),
                upper: o.time_ns.upper.max(n.time_ns.upper),
            };
            n.set_time(t, &old.machine.at_threads(n.threads));
        }
    }
    old.results.retain(|o| {
        !new.results
            .iter()
            .any(|n| n.layer == o.layer && n.variant == o.variant && n.threads == o.threads)
    });
    for t in new.machine.threads {
        if !old.machine.threads.iter().any(|o| o.threads == t.threads) {
            old.machine.threads.push(t);
        }
    }
    old.results.extend(new.results);
    for l in new.layers {
        if !old.layers.iter().any(|o| o.name == l.name) {
            old.layers.push(l);
        }
    }
    // Claims measured again replace their earlier records; new claims are added.
    old.blocks.retain(|o| {
        !new.blocks
            .iter()
            .any(|n| n.claim == o.claim && n.side == o.side && n.isa == o.isa && n.mode == o.mode)
    });
    old.blocks.extend(new.blocks);
    old.created_unix = new.created_unix;
    old.settings.filter = None;
    // The merged file was made by both commands, in order.
    old.settings.command = match (old.settings.command.take(), new.settings.command) {
        (Some(a), Some(b)) => Some(format!("{a}, then {b}")),
        (a, b) => a.or(b),
    };
    old
}
