//! Each record against its roof: the attainable GFLOP/s (the ISA's FMA peak, Winograd's effective
//! roof, or bandwidth x intensity of the memory level its bytes fit in), what limits it, and
//! whether a record sits above it. Derived from the schema; the report, the CSV and the claims
//! read it.

use simdconv::Algorithm;

use crate::schema::machine::MachineProfile;
use crate::schema::results::Record;

/// The attainable roof for a record: its ISA's FMA peak (times the multiply reduction for
/// Winograd, whose GFLOP/s are effective: its *effective roof*), or bandwidth x intensity of the
/// smallest memory level its compulsory bytes fit in, whichever is lower; with what limits it.
pub(crate) fn attainable(m: &MachineProfile, r: &Record) -> Option<(f64, String)> {
    roof(m, r).map(|(v, why, _)| (v, why))
}

/// [`attainable`], with the name of the limiting ceiling (the ISA, or the memory level) as
/// [`crate::stability::CeilingCheck`] names it.
fn roof<'a>(m: &'a MachineProfile, r: &'a Record) -> Option<(f64, String, &'a str)> {
    let reduction = r.algorithm().map_or(1.0, Algorithm::multiply_reduction);
    let peak = m.peak(&r.types, &r.isa)? * reduction;
    let level = |name: &str| m.bandwidth.iter().find(|b| b.level == name);
    let sizes = [
        ("L1", m.cache_size(1)),
        ("L2", m.cache_size(2)),
        ("L3", m.cache_size(3)),
    ];
    let bw = sizes
        .iter()
        .find(|(_, s)| s.is_some_and(|s| r.bytes <= s))
        .and_then(|(n, _)| level(n))
        .or_else(|| level("DRAM"))?;
    let mem = r.intensity * bw.gbs;
    Some(if mem < peak {
        (mem, format!("{} bandwidth", bw.level), bw.level.as_str())
    } else if reduction > 1.0 {
        (
            peak,
            format!("{} FMA x{reduction:.2} effective", r.isa),
            r.isa.as_str(),
        )
    } else {
        (peak, format!("{} FMA", r.isa), r.isa.as_str())
    })
}

/// Whether `r` sits above its own roof by more than that roof's measured spread (even at the
/// lower end of its interval): a ceiling measured too low, or a FLOP count that overstates the
/// work. Such a result is flagged on the page, never hidden. Returns the fraction of the roof.
pub(crate) fn above_roof(m: &MachineProfile, r: &Record) -> Option<f64> {
    let (roof, _, limit) = roof(m, r)?;
    let spread = m
        .check
        .as_ref()
        .and_then(|c| c.spread.get(limit).copied())
        .unwrap_or(0.0);
    (r.gflops.lower > roof * (1.0 + spread)).then_some(r.gflops.point / roof)
}
