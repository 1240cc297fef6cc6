//! What a run measures: its options, the (layer, variant) pairs they select, the layers no SIMD
//! variant computes, and the checks made before measuring (memory, an empty selection).

use std::path::PathBuf;

use simdconv::{variants, Isa, Variant};

use crate::blocks;
use crate::here::{self, Filter};
use crate::machine;
use crate::schema::layer::Layer;
use crate::schema::results::CoverageGap;
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
    /// Convolutions of the user's models that cannot be measured, with why (listed as coverage).
    pub unknown: Vec<CoverageGap>,
    /// Also measure the int8 variants (`--dtype f32,int8`).
    pub int8: bool,
    /// Also measure the bf16 variants (`--dtype f32,bf16`).
    pub bf16: bool,
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
            unknown: Vec::new(),
            int8: false,
            bf16: false,
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
    let unknown = opts.unknown.iter().cloned();
    let unmeasured = unknown.filter(|g| here::passes(opts.filter.as_ref(), &g.layer));
    let layers = source_layers(opts);
    let gaps = layers.iter().filter(|l| named(l)).filter_map(|l| {
        let reason = match l.shape() {
            Ok(s) => here::coverage_gap(&s, opts.isas.as_deref())?,
            Err(e) => e.to_string(),
        };
        Some(CoverageGap {
            layer: l.name.clone(),
            reason,
        })
    });
    unmeasured.chain(gaps).collect()
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
pub(super) fn selected_claims(opts: &RunOptions) -> Result<Vec<blocks::Claim>, String> {
    Ok(blocks::claims()
        .into_iter()
        .filter(|c| here::passes(opts.filter.as_ref(), &format!("blocks/{}", c.id)))
        .collect())
}
