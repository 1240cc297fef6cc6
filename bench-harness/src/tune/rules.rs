//! Scoring pickers by regret: for a layer, `time(picked variant) / time(best measured variant)`,
//! on **held-out** layers (a fixed quarter of the map, by a hash of the name, that the auto rule
//! does not learn from). The rules, each re-implemented over this suite's variants at the widest
//! ISA allowed (tile as `ConvPlan::new` picks it; depthwise layers go to depthwise, and an
//! algorithm that cannot compute a layer falls back to direct):
//! - `auto`: `ConvPlan::auto` with the map of the other layers (nearest measured neighbours);
//! - `cost-model`: `ConvPlan::auto` without a map (this machine's measured ceilings);
//! - `onednn`: `convolution_auto`'s forward-inference rule: Winograd F(4,3) for 3x3 stride 1
//!   only at batch >= 4, else direct;
//! - `ncnn`: Winograd for 3x3 stride 1 when C > 8 or K > 8, the tile from its profiled tables
//!   (F(6,3) for C < 64 and K < 64, which this suite lacks, so F(4,3); F(2,3) for C and K >= 256
//!   on maps of 14 or less; else F(4,3)); otherwise 1x1 stride 1 as one GEMM (pointwise), im2col
//!   + GEMM when C > 16 or the weights exceed L2, else direct;
//! - `tvm`: Winograd F(4,3) for 3x3 stride 1 when 64 < K < 512 (its x86 strategy), else direct;
//! - `mlas` (onnxruntime): 1x1 stride 1 unpadded as one GEMM (pointwise), else im2col + GEMM;
//! - `always-direct`, `always-im2col`.

use std::sync::Arc;

use simdconv::auto::{self, AutoOptions, TuningMap};
use simdconv::{ConvShape, Isa, Variant};

use crate::libraries;

use crate::schema::tuning::{Evaluation, Pick, Rule, RuleScore, TuningFile};

/// What a rule may use.
pub(crate) struct Context {
    /// The map the auto rule reads.
    pub map: Arc<TuningMap>,
    /// ISAs allowed.
    pub isas: Option<Vec<Isa>>,
    /// Bytes of L2 (ncnn's rule).
    pub l2: u64,
    /// Ceilings for the cost model.
    pub ceilings: Option<auto::Ceilings>,
}

/// The variant `rule` picks for `shape`: auto and the cost model through `ConvPlan::auto`, the
/// libraries' rules at the widest allowed ISA that has their algorithm.
pub(crate) fn pick(rule: Rule, shape: &ConvShape, ctx: &Context) -> Option<&'static Variant> {
    if matches!(rule, Rule::Auto | Rule::CostModel) {
        let opts = AutoOptions {
            map: (rule == Rule::Auto).then(|| ctx.map.clone()),
            isas: ctx.isas.clone(),
            ceilings: ctx.ceilings.clone(),
            max_relative_error: None,
        };
        return auto::choose(shape, &opts).ok().map(|c| c.variant);
    }
    let algorithm = libraries::algorithm(rule, shape, ctx.l2)?;
    crate::here::isas(ctx.isas.as_deref())
        .into_iter()
        .find_map(|isa| libraries::variant_on(shape, algorithm, isa))
}

/// Whether a layer is held out from learning (a fixed quarter, by name).
pub(crate) fn held_out(name: &str) -> bool {
    crate::fnv(name).is_multiple_of(4)
}

/// A rule's score over its picks; `None` when it picked on no layer.
fn score(rule: Rule, picks: &[Pick]) -> Option<RuleScore> {
    let mine: Vec<&Pick> = picks.iter().filter(|p| p.rule == rule).collect();
    let s = crate::autopick::summarise(mine.iter().map(|p| (p.layer.as_str(), p.regret)))?;
    Some(RuleScore {
        rule,
        description: rule.describe().into(),
        geomean_regret: s.geomean,
        max_regret: s.max,
        worst_layer: s.worst,
        picked_best: mine.iter().filter(|p| p.regret <= 1.0).count(),
        best_or_tied: mine.iter().filter(|p| p.regret <= 1.0 || p.tied).count(),
        over_1_10: mine.iter().filter(|p| p.regret > 1.10).count(),
    })
}

/// The pick of `rule` on a measured layer with its regret; `None` when the rule picks nothing
/// or a variant the map has no time for.
fn regret(rule: Rule, layer: &simdconv::auto::TunedLayer, ctx: &Context) -> Option<Pick> {
    let shape = layer.shape.shape().ok()?;
    let v = pick(rule, &shape, ctx)?;
    let best = layer.best(|_| true)?;
    let t = layer.time(v.name())?;
    Some(Pick {
        layer: layer.name.clone(),
        rule,
        variant: v.name().into(),
        regret: t.time_ns.point / best.time_ns.point,
        tied: t.time_ns.lower <= best.time_ns.upper,
    })
}

/// Scores every rule on the held-out layers of `file`, and auto's leave-one-out picks; `None`
/// until at least one held-out and one learning layer are measured (and auto picked on one).
pub(crate) fn evaluate(file: &TuningFile) -> Option<Evaluation> {
    let isas = file
        .settings
        .isas
        .as_ref()
        .map(|l| l.iter().filter_map(|n| Isa::from_name(n)).collect());
    let (held, learn): (Vec<_>, Vec<_>) = file
        .map
        .layers
        .iter()
        .cloned()
        .partition(|l| held_out(&l.name));
    let context = |layers: Vec<simdconv::auto::TunedLayer>| Context {
        map: Arc::new(TuningMap {
            layers,
            ..file.map.clone()
        }),
        isas: isas.clone(),
        l2: file.machine.cache_size(2).unwrap_or(1 << 20),
        ceilings: file.map.ceilings.clone(),
    };
    if held.is_empty() || learn.is_empty() {
        return None;
    }
    let ctx = context(learn.clone());
    let picks: Vec<Pick> = held
        .iter()
        .flat_map(|l| Rule::ALL.iter().filter_map(|&r| regret(r, l, &ctx)))
        .collect();
    let leave_one_out = file
        .map
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let mut others = file.map.layers.clone();
            others.remove(i);
            regret(Rule::Auto, l, &context(others))
        })
        .collect();
    let baselines: Vec<RuleScore> = Rule::ALL.iter().filter_map(|&r| score(r, &picks)).collect();
    let auto = baselines.iter().find(|b| b.rule == Rule::Auto)?;
    Some(Evaluation {
        held_out: held.len(),
        learned_from: learn.len(),
        geomean_regret: auto.geomean_regret,
        max_regret: auto.max_regret,
        baselines,
        picks,
        leave_one_out,
    })
}
