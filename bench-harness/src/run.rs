//! The run command: every registered variant this CPU runs on every layer of a suite that it
//! supports, measured by criterion (used as a library: the one measurement engine), each
//! variant's error against the reference measured once outside the timed part.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use indicatif::{ProgressBar, ProgressStyle};
use regex::Regex;
use serde::Deserialize;
use simdconv::{reference, variants, Activation, AlignedBuf, Isa, Variant};

use crate::blocks;
use crate::catalogue::{self, Layer};
use crate::machine;
use crate::results::{Interval, Record, Results, Settings, ShapeRecord, SCHEMA};
use crate::seeded;

/// What to run and where.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `smoke`, `quick` or `full`.
    pub suite: String,
    /// Keeps (layer, variant) pairs where `layer/variant` matches.
    pub filter: Option<String>,
    /// Keeps variants of these ISAs only.
    pub isas: Option<Vec<Isa>>,
    /// Output directory (results.json, index.html, criterion's data).
    pub out: PathBuf,
    /// criterion warm-up time, s.
    pub warm_up_s: f64,
    /// criterion measurement time, s.
    pub measurement_s: f64,
    /// criterion samples.
    pub sample_size: usize,
}

impl RunOptions {
    /// Defaults per suite: short for smoke, longer for the others.
    pub fn for_suite(suite: &str, out: PathBuf) -> RunOptions {
        let (w, m) = if suite == "smoke" {
            (0.05, 0.2)
        } else {
            (0.3, 1.0)
        };
        RunOptions {
            suite: suite.into(),
            filter: None,
            isas: None,
            out,
            warm_up_s: w,
            measurement_s: m,
            sample_size: 10,
        }
    }
}

/// The layers of a selection and its (layer, variant) pairs.
pub type Selection = (Vec<Layer>, Vec<(Layer, &'static Variant)>);

/// The (layer, variant) pairs a run would measure.
pub fn select(opts: &RunOptions) -> Result<Selection, String> {
    let layers = catalogue::suite(&opts.suite)
        .ok_or_else(|| format!("unknown suite \"{}\" (smoke, quick, full)", opts.suite))?;
    let filter = match &opts.filter {
        Some(f) => Some(Regex::new(f).map_err(|e| format!("--filter \"{f}\": {e}"))?),
        None => None,
    };
    let mut pairs = Vec::new();
    for l in &layers {
        let shape = l.shape().map_err(|e| format!("layer {}: {e}", l.name))?;
        for v in variants() {
            if !v.is_available() || v.supports(&shape).is_err() {
                continue;
            }
            if let Some(isas) = &opts.isas {
                if !isas.contains(&v.isa()) {
                    continue;
                }
            }
            if let Some(f) = &filter {
                if !f.is_match(&format!("{}/{}", l.name, v.name())) {
                    continue;
                }
            }
            pairs.push((l.clone(), v));
        }
    }
    if pairs.is_empty() && opts.suite != "blocks" {
        return Err(format!(
            "nothing to run: no (layer, variant) of suite \"{}\" matches filter {:?} and isa list {:?} on this CPU",
            opts.suite,
            opts.filter.as_deref().unwrap_or(""),
            opts.isas
        ));
    }
    let used: Vec<Layer> = layers
        .into_iter()
        .filter(|l| pairs.iter().any(|(pl, _)| pl.name == l.name))
        .collect();
    Ok((used, pairs))
}

#[derive(Deserialize)]
struct CritEstimate {
    point_estimate: f64,
    confidence_interval: CritInterval,
}
#[derive(Deserialize)]
struct CritInterval {
    lower_bound: f64,
    upper_bound: f64,
}
#[derive(Deserialize)]
struct CritEstimates {
    median: CritEstimate,
}

/// Reads criterion's median estimate for one benchmark.
fn read_estimate(dir: &Path, group: &str, id: &str) -> Result<Interval, String> {
    let path = dir.join(group).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let est: CritEstimates =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Interval {
        point: est.median.point_estimate,
        lower: est.median.confidence_interval.lower_bound,
        upper: est.median.confidence_interval.upper_bound,
    })
}

/// Runs the suite and returns the results (the caller writes them). `machine` reuses a profile
/// measured earlier (appending to a results file); otherwise the ceilings are measured first.
pub fn run(opts: &RunOptions, machine: Option<machine::MachineProfile>) -> Result<Results, String> {
    let (layers, pairs) = select(opts)?;
    std::fs::create_dir_all(&opts.out).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    let machine = machine.unwrap_or_else(|| {
        eprintln!("measuring the machine's ceilings ...");
        machine::profile()
    });
    let crit_dir = opts.out.join("criterion");
    let mut crit = Criterion::default()
        .output_directory(&crit_dir)
        .warm_up_time(Duration::from_secs_f64(opts.warm_up_s))
        .measurement_time(Duration::from_secs_f64(opts.measurement_s))
        .sample_size(opts.sample_size)
        .without_plots();
    let bar = ProgressBar::new(pairs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let mut records = Vec::new();
    for layer in &layers {
        let shape = layer.shape().map_err(|e| e.to_string())?;
        let input = AlignedBuf::from_slice(&seeded(shape.input_len(), 1));
        let weights = seeded(shape.weights_len(), 2);
        let bias = seeded(shape.k(), 3);
        let act = Activation::Relu;
        let mut output = AlignedBuf::zeroed(shape.output_len());
        // The oracle, once per layer.
        let (want, mag) =
            reference::conv_with_magnitude(&shape, &input, &weights, Some(&bias), act)
                .map_err(|e| format!("{}: {e}", layer.name))?;
        let mut group = crit.benchmark_group(layer.name.clone());
        group.throughput(Throughput::Elements(shape.flops()));
        for (_, v) in pairs.iter().filter(|(l, _)| l.name == layer.name) {
            bar.set_message(format!("{}/{}", layer.name, v.name()));
            let mut plan = v
                .plan(&shape, &weights, Some(&bias), act)
                .map_err(|e| format!("{}/{}: {e}", layer.name, v.name()))?;
            plan.run(&input, &mut output).map_err(|e| e.to_string())?;
            let err = reference::max_relative_error(&output, &want, &mag);
            group.bench_function(v.name(), |b| {
                b.iter(|| plan.run(black_box(&input), black_box(&mut output)))
            });
            let t = read_estimate(&crit_dir, &layer.name, v.name())?;
            let flops = shape.flops() as f64;
            let gflops = Interval {
                point: flops / t.point,
                lower: flops / t.upper,
                upper: flops / t.lower,
            };
            let peak = machine.peak(v.isa().name());
            let (sh, pd) = (shape.stride(), shape.padding());
            records.push(Record {
                layer: layer.name.clone(),
                variant: v.name().into(),
                algorithm: v.algorithm().name().into(),
                isa: v.isa().name().into(),
                tile: v.tile().to_string(),
                shape: ShapeRecord {
                    n: shape.n(),
                    h: shape.h(),
                    w: shape.w(),
                    c: shape.c(),
                    k: shape.k(),
                    r: shape.r(),
                    s: shape.s(),
                    stride: sh.0,
                    pad: pd.top,
                    groups: shape.groups(),
                    p: shape.p(),
                    q: shape.q(),
                },
                flops: shape.flops(),
                bytes: shape.compulsory_bytes(),
                intensity: shape.arithmetic_intensity(),
                time_ns: t,
                gflops,
                fraction_of_peak: peak.map(|p| gflops.point / p),
                scratch_bytes: plan.scratch_bytes() as u64,
                max_rel_error: err,
                tolerance: reference::tolerance(&shape, v.algorithm()),
            });
            bar.inc(1);
        }
        group.finish();
    }
    bar.finish_and_clear();
    let blocks = if opts.suite == "blocks" || opts.suite == "full" {
        run_blocks(&mut crit, &crit_dir, opts)?
    } else {
        Vec::new()
    };
    Ok(Results {
        schema: SCHEMA.into(),
        created_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        settings: Settings {
            suite: opts.suite.clone(),
            filter: opts.filter.clone(),
            warm_up_s: opts.warm_up_s,
            measurement_s: opts.measurement_s,
            sample_size: opts.sample_size,
        },
        machine,
        layers,
        results: records,
        blocks,
    })
}

/// The widest ISA this CPU runs among `allowed` (per-step timings are taken for it).
fn widest(allowed: &[Isa]) -> Option<Isa> {
    [
        Isa::Avx512,
        Isa::Neon,
        Isa::Avx2,
        Isa::Portable,
        Isa::Scalar,
    ]
    .into_iter()
    .find(|i| allowed.contains(i))
}

/// Measures every claim's sides on every ISA (best variant per layer), each side also with one
/// fixed algorithm (direct) on the widest ISA, and per-step times on the widest ISA.
fn run_blocks(
    crit: &mut Criterion,
    crit_dir: &Path,
    opts: &RunOptions,
) -> Result<Vec<blocks::BlockRecord>, String> {
    let isas: Vec<Isa> = Isa::ALL
        .into_iter()
        .filter(|i| i.is_available() && opts.isas.as_ref().is_none_or(|l| l.contains(i)))
        .collect();
    let wide = widest(&isas).ok_or("no ISA selected")?;
    let filter = match &opts.filter {
        Some(f) => Some(Regex::new(f).map_err(|e| format!("--filter \"{f}\": {e}"))?),
        None => None,
    };
    let claims: Vec<_> = blocks::claims()
        .into_iter()
        .filter(|c| {
            filter
                .as_ref()
                .is_none_or(|f| f.is_match(&format!("blocks/{}", c.id)))
        })
        .collect();
    let mut modes: Vec<blocks::Mode> = isas.iter().map(|&i| blocks::Mode::Best(i)).collect();
    modes.push(blocks::Mode::Fixed(wide, simdconv::Algorithm::Direct));
    let total = claims.iter().map(|c| c.sides.len()).sum::<usize>() * modes.len();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let mut out = Vec::new();
    for claim in &claims {
        let group_name = format!("blocks-{}", claim.id);
        let mut group = crit.benchmark_group(group_name.clone());
        for (side, block) in claim.sides.iter().enumerate() {
            let input = seeded(block.buffers[0], 9);
            for &mode in &modes {
                bar.set_message(format!("{}/{} {}", claim.id, side, mode.isa()));
                let mut prep = blocks::Prepared::new(block, mode)?;
                prep.set_input(&input);
                let id = format!("s{side}-{}-{}", mode.isa().name(), mode.label());
                group.bench_function(id.clone(), |b| {
                    b.iter(|| prep.run().expect("checked block"))
                });
                let time_ns = read_estimate(crit_dir, &group_name, &id)?;
                let mut steps = Vec::new();
                if mode == blocks::Mode::Best(wide) {
                    // Per-step shares need less precision than the blocks themselves.
                    group.warm_up_time(Duration::from_secs_f64(opts.warm_up_s.min(0.1)));
                    group.measurement_time(Duration::from_secs_f64(opts.measurement_s.min(0.4)));
                    let names = prep.variant_names();
                    for (i, step) in block.steps.iter().enumerate() {
                        // Run the block once so every step's inputs hold real data.
                        prep.run()?;
                        let sid = format!("s{side}-{}-step{i}", mode.isa().name());
                        group.bench_function(sid.clone(), |b| {
                            b.iter(|| prep.run_step(i).expect("checked step"))
                        });
                        let flops = match &step.op {
                            blocks::Op::Conv { shape, .. } => shape.flops(),
                            _ => 0,
                        };
                        steps.push(blocks::StepRecord {
                            name: step.name.clone(),
                            variant: if names[i] == "-" {
                                format!("{}-{}", step_kind(&step.op), mode.isa().name())
                            } else {
                                names[i].clone()
                            },
                            flops,
                            bytes: blocks::step_bytes(block, step),
                            time_ns: read_estimate(crit_dir, &group_name, &sid)?,
                        });
                    }
                    group.warm_up_time(Duration::from_secs_f64(opts.warm_up_s));
                    group.measurement_time(Duration::from_secs_f64(opts.measurement_s));
                }
                out.push(blocks::BlockRecord {
                    claim: claim.id.clone(),
                    title: claim.title.clone(),
                    side,
                    name: block.name.clone(),
                    isa: mode.isa().name().into(),
                    mode: mode.label(),
                    flops: block.flops(),
                    time_ns,
                    steps,
                    scaling: claim.scaling,
                });
                bar.inc(1);
            }
        }
        group.finish();
    }
    bar.finish_and_clear();
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

/// Merges a new run into an earlier one (`run --append`). A (layer, variant) measured in both is
/// combined as repeated rounds are: the point estimate is the lower median (the usual estimator
/// of a kernel's time under interference) and the interval is the union of both intervals, so
/// round-to-round drift widens it instead of passing for a real difference.
pub fn merge(mut old: Results, mut new: Results) -> Results {
    for n in &mut new.results {
        if let Some(o) = old
            .results
            .iter()
            .find(|o| o.layer == n.layer && o.variant == n.variant)
        {
            let t = Interval {
                point: o.time_ns.point.min(n.time_ns.point),
                lower: o.time_ns.lower.min(n.time_ns.lower),
                upper: o.time_ns.upper.max(n.time_ns.upper),
            };
            let f = n.flops as f64;
            n.time_ns = t;
            n.gflops = Interval {
                point: f / t.point,
                lower: f / t.upper,
                upper: f / t.lower,
            };
            n.fraction_of_peak = old.machine.peak(&n.isa).map(|p| n.gflops.point / p);
        }
    }
    old.results.retain(|o| {
        !new.results
            .iter()
            .any(|n| n.layer == o.layer && n.variant == o.variant)
    });
    old.results.extend(new.results);
    for l in new.layers {
        if !old.layers.iter().any(|o| o.name == l.name) {
            old.layers.push(l);
        }
    }
    old.created_unix = new.created_unix;
    old.settings.filter = None;
    old
}
