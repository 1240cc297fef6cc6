//! The tune command: every variant this CPU runs, timed on a broad set of layers (every conv
//! layer of the catalogue's networks at batch 1, and a systematic grid around them), within a
//! time budget, into `tuning.json` (schema `simdconv-tuning/2`, keyed by the machine
//! fingerprint, documented in reports/README.md). `ConvPlan::auto` reads the map; `rules`
//! scores it and the baseline rules by regret on layers the rule did not learn from.
//!
//! Timing here is lighter than criterion's (a few hundred layers x every variant must fit in
//! minutes): one untimed run, then 9 samples of enough runs to last 2 ms each (5 for runs over
//! 4 ms), then a run-off of the variants within 10% of the best (9 more samples each,
//! interleaved); the median of all samples with its order-statistic interval (coverage >= 90%).
//! A variant whose fastest of three single runs is already 2.5x slower than the layer's best so
//! far stops there and is stored with `samples: 3`: it cannot win, and its time is still there
//! for a rule that picks it.

pub(crate) mod rules;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use simdconv::auto::{TunedLayer, TunedTime, TuningMap};
use simdconv::ShapeRecord;
use simdconv::{ConvShape, Isa, Variant};

use crate::catalogue;
use crate::console::{self, Console};
use crate::machine;
use crate::measure::{LayerData, Sampler};
use crate::schema::layer::{square, Layer};
use crate::schema::results::{FileError, Settings};
use crate::schema::suite::{Suite, SuiteName};
use crate::schema::tuning::{TuneSettings, TuningFile};

/// The layers of a tune: the networks' conv layers, then the grid's that are not among them
/// (each shape once: a shape measured twice would vote twice in `auto`'s neighbours).
pub(crate) fn layers() -> Vec<Layer> {
    let mut all = catalogue::networks();
    for l in grid() {
        if !all.iter().any(|a| a.key() == l.key()) {
            all.push(l);
        }
    }
    all
}

/// Largest direct-equivalent FLOPs of a grid layer (0.6 GFLOP: about 5 ms at 120 GFLOP/s, so
/// the grid's slow variants stay affordable).
pub(crate) const GRID_MAX_FLOPS: u64 = 600_000_000;

/// The systematic grid: input 7..112, channels 8..1024 (equal C and K, and 4x expansions and
/// projections for 1x1 and 3x3), kernels 1/3/5/7, strides 1/2, depthwise 3x3/5x5; layers over
/// [`GRID_MAX_FLOPS`] are left out.
pub(crate) fn grid() -> Vec<Layer> {
    let spatial = [7, 14, 28, 56, 112];
    let channels = [8, 16, 32, 64, 128, 256, 512, 1024];
    let mut out = Vec::new();
    let mut add = |hw: usize, c: usize, k: usize, rs: usize, stride: usize, dw: bool| {
        let name = if dw {
            format!("grid_dw{rs}x{rs}_s{stride}_{hw}_{c}")
        } else {
            format!("grid_{rs}x{rs}_s{stride}_{hw}_{c}_{k}")
        };
        let groups = if dw { c } else { 1 };
        if let Ok(shape) = square(hw, (c, k), rs, stride, rs / 2, groups) {
            if shape.flops() <= GRID_MAX_FLOPS {
                out.push(Layer::new(name, vec!["grid".into()], &shape));
            }
        }
    };
    for (rs, stride) in [
        (1, 1),
        (3, 1),
        (3, 2),
        (5, 1),
        (7, 1),
        (7, 2),
        (1, 2),
        (5, 2),
    ] {
        for hw in spatial {
            for c in channels {
                add(hw, c, c, rs, stride, false);
                if rs <= 3 && stride == 1 && c <= 256 {
                    add(hw, c, c * 4, rs, stride, false);
                    add(hw, c * 4, c, rs, stride, false);
                }
            }
        }
    }
    for (rs, stride) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
        for hw in spatial {
            for c in channels {
                add(hw, c, c, rs, stride, true);
            }
        }
    }
    out
}

/// What to tune.
#[derive(Debug, Clone)]
pub(crate) struct TuneOptions {
    /// Stop starting layers after this long (the map is written after every layer, and a
    /// later tune with the same `out` resumes).
    pub budget: Duration,
    /// Output directory (tuning.json, tuning.html).
    pub out: PathBuf,
    /// Only these ISAs.
    pub isas: Option<Vec<Isa>>,
    /// Keep layers whose name matches.
    pub filter: Option<crate::here::Filter>,
    /// The user's layers (`--shapes`), tuned instead of the networks and the grid when given.
    pub shapes: Vec<Layer>,
}

/// Runs (or resumes) a tune and returns the file written.
pub(crate) fn tune(opts: &TuneOptions) -> Result<TuningFile, String> {
    let started = Instant::now();
    let path = opts.out.join("tuning.json");
    let mut planned = if opts.shapes.is_empty() {
        layers()
    } else {
        opts.shapes.clone()
    };
    if let Some(f) = &opts.filter {
        planned.retain(|l| f.matches(&l.name));
    }
    if planned.is_empty() {
        return Err("nothing to tune: no layer matches the filter".into());
    }
    // A fixed shuffle, so a budget that runs out leaves a map spread over the whole set.
    planned.sort_by_key(|l| crate::fnv(&l.name));
    let mut con = Console::new(planned.len(), false);
    let mut file = open(opts, &path, planned.len(), &mut con)?;
    let todo = unmeasured(&file, &planned, &path)?;
    file.settings.layers_planned = file.map.layers.len() + todo.len();
    con.phase(todo.len());
    for layer in todo {
        if started.elapsed() > opts.budget {
            con.line(&format!(
                "budget of {} spent: {} of {} layers measured; run tune again with the same --out to continue",
                console::duration(opts.budget),
                file.map.layers.len(),
                file.settings.layers_planned
            ));
            break;
        }
        let shape = layer.shape().map_err(|e| format!("{}: {e}", layer.name))?;
        con.status(&layer.name);
        let tuned = measure_layer(layer, &shape, opts.isas.as_deref())?;
        let best = tuned
            .best(|_| true)
            .map(|t| t.variant.clone())
            .unwrap_or_default();
        con.finished(&format!(
            "{:<34} {:<32} {} variants, best {best}",
            layer.name,
            crate::schema::results::ShapeRecord::of(&shape).to_string(),
            tuned.times.len()
        ));
        file.map.layers.push(tuned);
        file.created_unix = crate::now_unix();
        file.write(&path).map_err(|e| e.to_string())?;
    }
    file.evaluation = rules::evaluate(&file);
    file.write(&path).map_err(|e| e.to_string())?;
    Ok(file)
}

/// The map to extend: this machine's file in `path` with the same ISA list (resumed), or a new
/// one after measuring the ceilings; a file of another machine or ISA list is an error.
fn open(
    opts: &TuneOptions,
    path: &std::path::Path,
    planned: usize,
    con: &mut Console,
) -> Result<TuningFile, String> {
    let fingerprint_now = machine::fingerprint_only();
    let isa_names = opts
        .isas
        .as_ref()
        .map(|l| l.iter().map(|i| i.name().to_string()).collect::<Vec<_>>());
    match TuningFile::read(path) {
        Ok(f)
            if f.map.fingerprint == fingerprint_now.fingerprint()
                && f.settings.isas == isa_names =>
        {
            con.line(&format!(
                "resuming {}: {} layers measured",
                path.display(),
                f.map.layers.len()
            ));
            Ok(f)
        }
        Ok(_) => Err(format!(
            "{} was tuned on another machine or ISA list; choose another --out",
            path.display()
        )),
        Err(FileError::Io(..)) => {
            con.line("measuring the machine's ceilings ...");
            let m = machine::profile();
            con.line(&console::ceilings(&m));
            let mut map = TuningMap::new(&m.fingerprint());
            map.ceilings = Some(m.ceilings());
            let mut provenance = Settings {
                suite: SuiteName::Known(Suite::Tune),
                ..Settings::default()
            };
            provenance.provenance();
            provenance.started_unix = Some(crate::now_unix());
            Ok(TuningFile {
                map,
                created_unix: crate::now_unix(),
                machine: m,
                settings: TuneSettings {
                    budget_s: opts.budget.as_secs_f64(),
                    isas: isa_names,
                    layers_planned: planned,
                    provenance,
                },
                evaluation: None,
            })
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The planned layers the map lacks; a name it holds with another shape is an error.
fn unmeasured<'a>(
    file: &TuningFile,
    planned: &'a [Layer],
    path: &std::path::Path,
) -> Result<Vec<&'a Layer>, String> {
    let mut todo: Vec<&Layer> = Vec::new();
    for l in planned {
        match file.map.layers.iter().find(|m| m.name == l.name) {
            None => todo.push(l),
            Some(m) if m.shape == l.shape => {}
            Some(m) => {
                return Err(format!(
                    "{} holds a layer {} of another shape ({} there, {} here): rename it or choose another --out",
                    path.display(),
                    l.name,
                    m.shape,
                    l.shape
                ))
            }
        }
    }
    Ok(todo)
}

/// A variant being timed on one layer.
struct Timed {
    variant: &'static Variant,
    plan: simdconv::ConvPlan,
    sampler: Sampler,
}

impl Timed {
    fn sample(&mut self, data: &mut LayerData) {
        let (plan, input, output) = (&mut self.plan, &data.input, &mut data.output);
        self.sampler.sample(|| {
            plan.run(input, output)
                .expect("buffers sized from the plan's own shape")
        });
    }

    fn median(&self) -> f64 {
        self.sampler.interval().point
    }
}

/// Runs per sample: enough for [`SAMPLE_NS`].
const SAMPLE_NS: f64 = 2e6;

/// Times every variant the options allow on one layer, widest ISA first, then the run-off:
/// the variants within 10% of the best are sampled again, interleaved (one sample each per
/// round, 9 rounds), so the close calls are decided under the same conditions.
fn measure_layer(
    layer: &Layer,
    shape: &ConvShape,
    isas: Option<&[Isa]>,
) -> Result<TunedLayer, String> {
    let mut vs = crate::here::variants_for(shape, isas);
    vs.sort_by_key(|v| std::cmp::Reverse(v.isa().rank()));
    let mut data = LayerData::new(*shape).map_err(|e| e.to_string())?;
    let mut timed: Vec<Timed> = Vec::new();
    let mut best = f64::INFINITY;
    for variant in vs {
        let plan = data
            .plan(variant)
            .map_err(|e| format!("{}/{}: {e}", layer.name, variant.name()))?;
        let mut t = Timed {
            variant,
            plan,
            sampler: Sampler::new(),
        };
        t.sample(&mut data); // untimed: first touch of the scratch and output
        t.sampler.samples.clear();
        for _ in 0..3 {
            t.sample(&mut data);
        }
        let first = t.sampler.fastest().max(1.0);
        if first <= 2.5 * best {
            t.sampler.calibrate(SAMPLE_NS);
            let n = if first > 2.0 * SAMPLE_NS { 5 } else { 9 };
            for _ in 0..n {
                t.sample(&mut data);
            }
        }
        best = best.min(t.median());
        timed.push(t);
    }
    let contenders: Vec<usize> = (0..timed.len())
        .filter(|&i| timed[i].median() <= 1.10 * best)
        .collect();
    if contenders.len() > 1 {
        for _ in 0..9 {
            for &i in &contenders {
                timed[i].sample(&mut data);
            }
        }
    }
    Ok(TunedLayer {
        name: layer.name.clone(),
        shape: ShapeRecord::of(shape),
        times: timed
            .into_iter()
            .map(|t| TunedTime {
                variant: t.variant.name().into(),
                time_ns: t.sampler.interval(),
                samples: t.sampler.samples.len(),
            })
            .collect(),
    })
}

/// The console's closing summary: how much was measured and every rule's regret.
pub(crate) fn summary(file: &TuningFile) -> String {
    let mut s = format!(
        "tuning map: {} of {} layers measured on {}\n",
        file.map.layers.len(),
        file.settings.layers_planned,
        file.machine.model
    );
    if file.evaluation.is_none() {
        s.push_str("no regret yet: it needs a measured held-out layer and a layer to learn from\n");
    }
    if let Some(ev) = &file.evaluation {
        s.push_str(&format!(
            "regret on {} held-out layers (time of the pick / time of the fastest):\n",
            ev.held_out
        ));
        s.push_str(&format!(
            "  {:<14} {:>8} {:>8} {:>9} {:>6}  worst layer\n",
            "rule", "geomean", "max", "best/tie", ">1.10"
        ));
        for r in &ev.baselines {
            s.push_str(&format!(
                "  {:<14} {:>8.3} {:>8.3} {:>9} {:>6}  {}\n",
                r.rule, r.geomean_regret, r.max_regret, r.best_or_tied, r.over_1_10, r.worst_layer
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_broad_enough() {
        let all = layers();
        assert!(all.len() >= 300, "{} layers", all.len());
        let mut names: Vec<_> = all.iter().map(|l| l.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len(), "names are unique");
        for rs in [1, 3, 5, 7] {
            assert!(
                grid()
                    .iter()
                    .any(|l| l.shape.r == rs && l.shape.groups == 1),
                "{rs}x{rs}"
            );
        }
        assert!(grid().iter().any(|l| l.shape.groups > 1 && l.shape.r == 5));
        assert!(grid()
            .iter()
            .all(|l| l.shape().unwrap().flops() <= GRID_MAX_FLOPS));
    }
}
