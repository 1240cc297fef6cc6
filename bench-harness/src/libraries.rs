//! Other libraries' algorithm choices, re-implemented over this suite's variants (the rules are
//! described in `tune/rules.rs`): which algorithm each picks for a shape, and the variant that
//! means on one ISA (`ConvPlan::new`'s tile; depthwise layers go to depthwise, and an algorithm
//! that cannot compute a layer falls back to direct). Functions of the shape alone, so a view
//! can apply them to a results file from any machine.

use simdconv::auto;
use simdconv::{Algorithm, ConvShape, Element, Isa, Variant, WinogradTile};

use crate::schema::tuning::Rule;

/// The algorithm `rule` picks for `shape` (`l2`: bytes of L2, for ncnn's rule); `None` for the
/// rules that are not fixed functions of the shape (auto, the cost model, unknown ones).
pub(crate) fn algorithm(rule: Rule, shape: &ConvShape, l2: u64) -> Option<Algorithm> {
    use Algorithm::{Direct, Im2col, Pointwise, Winograd};
    use WinogradTile::{F2x2_3x3 as F2, F4x4_3x3 as F4};
    let (c, k) = (shape.c(), shape.k());
    let wino_ok = Winograd(F4).supports(shape).is_ok();
    let one_by_one = Pointwise.supports(shape).is_ok();
    Some(match rule {
        Rule::Auto | Rule::CostModel | Rule::Unknown => return None,
        Rule::Onednn if wino_ok && shape.n() >= 4 => Winograd(F4),
        Rule::Onednn => Direct,
        Rule::Ncnn if wino_ok && (c > 8 || k > 8) => {
            if c >= 256 && k >= 256 && shape.h().min(shape.w()) <= 14 {
                Winograd(F2)
            } else {
                Winograd(F4)
            }
        }
        Rule::Ncnn if one_by_one => Pointwise,
        Rule::Ncnn if c > 16 || (shape.weights_len() * f32::BYTES) as u64 > l2 => Im2col,
        Rule::Ncnn => Direct,
        Rule::Tvm if wino_ok && 64 < k && k < 512 => Winograd(F4),
        Rule::Tvm => Direct,
        Rule::Mlas if one_by_one => Pointwise,
        Rule::Mlas | Rule::AlwaysIm2col => Im2col,
        Rule::AlwaysDirect => Direct,
    })
}

/// The variant `algorithm` means for `shape` on `isa`: `ConvPlan::new`'s tile, depthwise for
/// depthwise layers, direct where the algorithm cannot compute the shape.
pub(crate) fn variant_on(
    shape: &ConvShape,
    algorithm: Algorithm,
    isa: Isa,
) -> Option<&'static Variant> {
    let algorithm = if shape.is_depthwise() {
        Algorithm::Depthwise
    } else if algorithm.supports(shape).is_err() {
        Algorithm::Direct
    } else {
        algorithm
    };
    auto::pick_tile(shape, algorithm, isa).filter(|v| v.supports(shape).is_ok())
}
