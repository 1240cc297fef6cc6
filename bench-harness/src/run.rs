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
    gflops, BlockRecord, CoverageGap, Interval, Record, Results, Settings, ShapeRecord, StepRecord,
    SCHEMA,
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
    /// Batch sizes every layer is measured at (a layer's own batch keeps its name; another n
    /// adds `<layer>_b<n>`); empty: each layer at its own (1 in the catalogue).
    pub batch: Vec<usize>,
    /// The user's layers (`--shapes`), measured instead of the suite's when given.
    pub shapes: Vec<Layer>,
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
            batch: Vec::new(),
            shapes: Vec::new(),
        }
    }
}

/// The layers of a selection and its (layer, variant) pairs.
pub(crate) type Selection = (Vec<Layer>, Vec<(Layer, &'static Variant)>);

/// The (layer, variant) pairs a run would measure; an empty selection is an error (except for
/// the blocks suite, which has no single layers).
pub(crate) fn select(opts: &RunOptions) -> Result<Selection, String> {
    let isa_words = |list: &[Isa]| list.iter().map(|i| i.name()).collect::<Vec<_>>().join(",");
    if let Some(list) = &opts.isas {
        if !list.iter().any(|i| i.is_available()) {
            let here: Vec<Isa> = Isa::ALL.into_iter().filter(|i| i.is_available()).collect();
            return Err(format!(
                "--isa {}: none of these runs on this CPU (it runs {})",
                isa_words(list),
                isa_words(&here)
            ));
        }
    }
    let layers = source_layers(opts);
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
            "nothing to run: no (layer, variant){} of suite \"{}\" matches filter {:?} with {} on this CPU",
            if opts.suite.has_blocks() { " or building-block claim (blocks/<claim>)" } else { "" },
            opts.suite,
            opts.filter.as_ref().map_or("", Filter::as_str),
            opts.isas.as_deref().map_or("every ISA".to_string(), |l| format!("--isa {}", isa_words(l)))
        ));
    }
    let used: Vec<Layer> = layers
        .into_iter()
        .filter(|l| pairs.iter().any(|(pl, _)| pl.name == l.name))
        .collect();
    let parallel = opts.threads.iter().any(|&t| t > 1);
    check_memory(&used, parallel, machine::available_memory())?;
    Ok((used, pairs))
}

/// The layers the options name (the suite's or the `--shapes` files'), at each batch size.
fn source_layers(opts: &RunOptions) -> Vec<Layer> {
    let source = if opts.shapes.is_empty() {
        opts.suite.layers()
    } else {
        opts.shapes.clone()
    };
    source
        .iter()
        .flat_map(|l| {
            let own = [l.batch()];
            let ns = if opts.batch.is_empty() {
                &own[..]
            } else {
                &opts.batch
            };
            ns.iter().map(|&n| l.with_batch(n)).collect::<Vec<_>>()
        })
        .collect()
}

/// The layers the filter keeps that no SIMD variant of this CPU (within `--isa`) computes.
pub(crate) fn coverage(opts: &RunOptions) -> Vec<CoverageGap> {
    let named = |l: &Layer| {
        variants()
            .iter()
            .any(|v| here::passes(opts.filter.as_ref(), &format!("{}/{}", l.name, v.name())))
    };
    source_layers(opts)
        .iter()
        .filter(|l| named(l))
        .filter_map(|l| {
            let reason = match l.shape() {
                Ok(s) => here::coverage_gap(&s, opts.isas.as_deref())?,
                Err(e) => e.to_string(),
            };
            Some(CoverageGap {
                layer: l.name.clone(),
                reason,
            })
        })
        .collect()
}

/// Refuses, before measuring, a selection whose largest layer would not fit in `avail` bytes
/// (`None`: unknown, not checked), with the estimate.
pub(crate) fn check_memory(
    layers: &[Layer],
    parallel: bool,
    avail: Option<u64>,
) -> Result<(), String> {
    let (Some(avail), Some(big)) = (
        avail,
        layers.iter().max_by_key(|l| layer_bytes(l, parallel)),
    ) else {
        return Ok(());
    };
    let need = layer_bytes(big, parallel);
    if need > avail {
        return Err(format!(
            "layer {} ({}) needs about {:.1} GB to measure (input, output{}, weights packed and \
             not, the reference of one image), over the {:.1} GB this process may still use: \
             choose a smaller --batch",
            big.name,
            big.shape,
            need as f64 / 1e9,
            if parallel {
                ", its one-thread copy"
            } else {
                ""
            },
            avail as f64 / 1e9
        ));
    }
    Ok(())
}

/// Bytes measuring `l` holds at once, about: its input and output (twice with thread counts
/// over 1: the one-thread output is kept to compare), the weights twice (the seeded ones and a
/// plan's packed copy), and one image's reference output (f32) and magnitudes (f64). Scratch is
/// left out (at most about one more image's worth); `u64::MAX` for a shape that is invalid.
fn layer_bytes(l: &Layer, parallel: bool) -> u64 {
    let Ok(s) = l.shape() else { return u64::MAX };
    let per_image = (s.output_len() / s.n().max(1)) as u64;
    let outputs = if parallel { 2 } else { 1 };
    4 * (s.input_len() as u64 + outputs * s.output_len() as u64 + 2 * s.weights_len() as u64)
        + 12 * per_image
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
        coverage: coverage(opts),
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

/// Two rounds of one row: the lower median, the union of the intervals.
fn rounds(a: Interval, b: Interval) -> Interval {
    Interval {
        point: a.point.min(b.point),
        lower: a.lower.min(b.lower),
        upper: a.upper.max(b.upper),
    }
}

/// Merges a new run into an earlier one (`run --append`), layer results and claims alike. A (layer, variant) measured in both is
/// combined as repeated rounds are: the point estimate is the lower median (the usual estimator
/// of a kernel's time under interference) and the interval is the union of both intervals, so
/// round-to-round drift widens it instead of passing for a real difference.
pub(crate) fn merge(mut old: Results, mut new: Results) -> Results {
    // Rows the old file holds twice (written by another tool, or by hand) are combined first,
    // by the same rule, so the merged file has each row once and the gate can read it.
    let mut once: Vec<Record> = Vec::with_capacity(old.results.len());
    for r in std::mem::take(&mut old.results) {
        match once.iter_mut().find(|o| o.key() == r.key()) {
            Some(o) => {
                let t = rounds(o.time_ns, r.time_ns);
                o.set_time(t, &old.machine.at_threads(o.threads));
            }
            None => once.push(r),
        }
    }
    old.results = once;
    for n in &mut new.results {
        if let Some(o) = old.results.iter().find(|o| o.key() == n.key()) {
            let t = rounds(o.time_ns, n.time_ns);
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
    old.coverage
        .retain(|o| !new.coverage.iter().any(|n| n.layer == o.layer));
    old.coverage.extend(new.coverage);
    old.created_unix = new.created_unix;
    old.settings.filter = None;
    // The merged file was made by both commands, in order.
    old.settings.command = match (old.settings.command.take(), new.settings.command) {
        (Some(a), Some(b)) => Some(format!("{a}, then {b}")),
        (a, b) => a.or(b),
    };
    old
}
