//! What this CPU runs, narrowed by the user's ISA list: the one place the harness asks the
//! registry and the CPU (run, blocks, tune and the rules all select through it).

use simdconv::{variants, ConvShape, Isa, Variant};

/// The ISAs this CPU runs, within `allow` when given, widest first.
pub(crate) fn isas(allow: Option<&[Isa]>) -> Vec<Isa> {
    let mut out: Vec<Isa> = Isa::ALL
        .into_iter()
        .filter(|i| i.is_available() && allow.is_none_or(|l| l.contains(i)))
        .collect();
    out.sort_by_key(|&i| std::cmp::Reverse(i.rank()));
    out
}

/// Whether `v` runs on this CPU, within `allow`, and computes `shape`.
pub(crate) fn runs(v: &Variant, shape: &ConvShape, allow: Option<&[Isa]>) -> bool {
    v.is_available() && allow.is_none_or(|l| l.contains(&v.isa())) && v.supports(shape).is_ok()
}

/// Every registry row that [`runs`] `shape`, in registry order.
pub(crate) fn variants_for(shape: &ConvShape, allow: Option<&[Isa]>) -> Vec<&'static Variant> {
    variants()
        .iter()
        .filter(|v| runs(v, shape, allow))
        .collect()
}

/// What computes `shape` here: `None` when a SIMD variant (AVX2, AVX-512, NEON) of this CPU
/// does, else why not (no variant at all, or only the scalar and portable ones), with the
/// refusal of the widest SIMD direct row (the most general algorithm: its reason is the one a
/// user can act on).
pub(crate) fn coverage_gap(shape: &ConvShape, allow: Option<&[Isa]>) -> Option<String> {
    let simd = |i: Isa| !matches!(i, Isa::Scalar | Isa::Portable);
    let ok = variants_for(shape, allow);
    if ok.iter().any(|v| simd(v.isa())) {
        return None;
    }
    let here: Vec<&Variant> = variants()
        .iter()
        .filter(|v| v.is_available() && simd(v.isa()))
        .collect();
    let why = if here.iter().any(|v| v.supports(shape).is_ok()) {
        "the SIMD variants that compute it were left out by --isa".to_string()
    } else {
        here.iter()
            .max_by_key(|v| (v.algorithm() == simdconv::Algorithm::Direct, v.isa().rank()))
            .and_then(|v| {
                v.supports(shape)
                    .err()
                    .map(|e| format!("{}: {e}", v.name()))
            })
            .unwrap_or_else(|| "this CPU has no SIMD variant".to_string())
    };
    Some(if ok.is_empty() {
        format!("no variant computes it ({why})")
    } else {
        format!("only scalar/portable variants compute it ({why})")
    })
}

/// A `--filter` pattern, parsed once (as the command line is read) and matched against
/// `layer/variant`, `blocks/<claim>` or a layer name.
#[derive(Debug, Clone)]
pub(crate) struct Filter(regex::Regex);

impl Filter {
    /// Parses `pattern`; the error names the flag and the pattern.
    pub(crate) fn parse(pattern: &str) -> Result<Filter, String> {
        regex::Regex::new(pattern)
            .map(Filter)
            .map_err(|e| format!("--filter \"{pattern}\": {e}"))
    }

    /// Whether `name` matches.
    pub(crate) fn matches(&self, name: &str) -> bool {
        self.0.is_match(name)
    }

    /// The pattern as given.
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Whether `name` passes `filter` (everything passes no filter).
pub(crate) fn passes(filter: Option<&Filter>, name: &str) -> bool {
    filter.is_none_or(|f| f.matches(name))
}
