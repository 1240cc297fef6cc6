//! The tuning map (`tuning.json`, schema `simdconv-tuning/2`, written by `simdconv-bench tune`
//! and documented in its reports/README.md): measured layers, each with the time of every
//! variant that ran on it, and the nearest-neighbour rule `auto` reads it with.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cost::Ceilings;
use crate::registry::Variant;
use crate::{ConvError, ConvShape, Interval, ShapeRecord};

/// The schema identifier of tuning maps.
pub const TUNING_SCHEMA: &str = "simdconv-tuning/2";
/// The schema of maps written before the full shape record and `time_ns` (still read).
pub const TUNING_SCHEMA_V1: &str = "simdconv-tuning/1";

/// Times a map may hold, ns: a run is at least a nanosecond and at most a day; `lower <= point
/// <= upper`. Times of 1e308 or 5e-324 would decide every pick.
fn check_time(t: &Interval) -> Result<(), String> {
    let ok = |v: f64| v.is_finite() && (1.0..=8.64e13).contains(&v);
    if !(ok(t.point) && ok(t.lower) && ok(t.upper)) {
        return Err(format!(
            "[{}, {}, {}] must be finite, within 1 ns to a day",
            t.lower, t.point, t.upper
        ));
    }
    if !(t.lower <= t.point && t.point <= t.upper) {
        return Err(format!(
            "[{}, {}] does not hold its point {}",
            t.lower, t.upper, t.point
        ));
    }
    Ok(())
}

/// The largest tuning map read (the harness's full grid is well under a megabyte).
pub const MAX_MAP_BYTES: u64 = 64 << 20;

/// A regular file of at most `cap` bytes as text: devices (`/dev/zero` never ends) and FIFOs
/// (their open blocks) are refused before they are read, and the read stops at the cap.
fn read_bounded(path: &Path, cap: u64) -> Result<String, String> {
    use std::io::Read as _;
    let regular = |m: std::fs::Metadata| {
        m.is_file()
            .then_some(())
            .ok_or("not a regular file (devices, FIFOs and directories are not read)")
    };
    regular(std::fs::metadata(path).map_err(|e| e.to_string())?)?;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    regular(f.metadata().map_err(|e| e.to_string())?)?;
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!("over the cap of {cap} bytes for a tuning map"));
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))
}

/// Measured layers that vote when the map has no layer of exactly the asked shape.
pub const NEIGHBOURS: usize = 3;

/// One variant's measured time on a layer: the median with a distribution-free confidence
/// interval for it (order statistics), ns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TimeWire")]
pub struct TunedTime {
    /// Registry name (older maps' names read with their element type, `f32-`).
    pub variant: String,
    /// Median time per run with its interval, ns.
    pub time_ns: Interval,
    /// Timed samples (3 single runs when those were already far slower than the best of the
    /// layer).
    pub samples: usize,
}

/// A time as maps store it: `time_ns`, or the flat `median_ns`, `lower_ns`, `upper_ns` of maps
/// written before (`simdconv-tuning/1`).
#[derive(Deserialize)]
struct TimeWire {
    #[serde(deserialize_with = "crate::record::variant_name")]
    variant: String,
    time_ns: Option<Interval>,
    median_ns: Option<f64>,
    lower_ns: Option<f64>,
    upper_ns: Option<f64>,
    samples: usize,
}

impl TryFrom<TimeWire> for TunedTime {
    type Error = String;
    fn try_from(w: TimeWire) -> Result<TunedTime, String> {
        let time_ns = match (w.time_ns, w.median_ns, w.lower_ns, w.upper_ns) {
            (Some(t), ..) => t,
            (None, Some(point), Some(lower), Some(upper)) => Interval {
                point,
                lower,
                upper,
            },
            _ => return Err(format!("{}: no time_ns", w.variant)),
        };
        Ok(TunedTime {
            variant: w.variant,
            time_ns,
            samples: w.samples,
        })
    }
}

/// One measured layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunedLayer {
    /// Name (catalogue layer, or `grid_...`).
    pub name: String,
    /// Geometry.
    pub shape: ShapeRecord,
    /// Every variant measured on it.
    pub times: Vec<TunedTime>,
}

impl TunedLayer {
    /// The measured time of a variant.
    pub fn time(&self, variant: &str) -> Option<&TunedTime> {
        self.times.iter().find(|t| t.variant == variant)
    }

    /// The fastest of the variants `keep` accepts (by median; the first on a tie).
    pub fn best(&self, keep: impl Fn(&str) -> bool) -> Option<&TunedTime> {
        self.times
            .iter()
            .filter(|t| keep(&t.variant) && t.time_ns.point.is_finite() && t.time_ns.point > 0.0)
            .fold(None, |b: Option<&TunedTime>, t| match b {
                Some(b) if b.time_ns.point <= t.time_ns.point => Some(b),
                _ => Some(t),
            })
    }
}

/// A tuning map: what `simdconv-bench tune` measured on one CPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuningMap {
    /// Always [`TUNING_SCHEMA`].
    pub schema: String,
    /// The CPU it was measured on (the harness's machine fingerprint).
    pub fingerprint: String,
    /// The ceilings measured with it, for the cost model.
    #[serde(default)]
    pub ceilings: Option<Ceilings>,
    /// The measured layers.
    pub layers: Vec<TunedLayer>,
}

/// Kind of layer: kernel rows, columns, strides, and whether depthwise. Only layers of one
/// kind are neighbours.
type Kind = (usize, usize, usize, usize, bool);

fn kind(s: &ConvShape) -> Kind {
    (s.r(), s.s(), s.stride().0, s.stride().1, s.is_depthwise())
}

/// (log2 of the output side, sqrt(N x P x Q), log2 input channels, log2 output channels): a
/// step of one is a doubling of the image side or of a channel count.
fn position(s: &ConvShape) -> [f64; 3] {
    [
        (s.n() as f64 * s.p() as f64 * s.q() as f64).log2() / 2.0,
        (s.c() as f64).log2(),
        (s.k() as f64).log2(),
    ]
}

impl TuningMap {
    /// An empty map for the CPU `fingerprint`.
    pub fn new(fingerprint: &str) -> TuningMap {
        TuningMap {
            schema: TUNING_SCHEMA.into(),
            fingerprint: fingerprint.into(),
            ceilings: None,
            layers: Vec::new(),
        }
    }

    /// Reads and checks a map (schema, and every stored shape valid).
    pub fn read(path: &Path) -> Result<TuningMap, ConvError> {
        let fail = |reason: String| ConvError::Tuning {
            path: path.display().to_string(),
            reason,
        };
        let text = read_bounded(path, MAX_MAP_BYTES).map_err(fail)?;
        TuningMap::from_json(&text).map_err(|e| match e {
            ConvError::Tuning { reason, .. } => fail(reason),
            other => other,
        })
    }

    /// Parses and checks a map.
    pub fn from_json(text: &str) -> Result<TuningMap, ConvError> {
        let fail = |reason: String| ConvError::Tuning {
            path: "(text)".into(),
            reason,
        };
        let mut map: TuningMap = serde_json::from_str(text).map_err(|e| fail(e.to_string()))?;
        if map.schema == TUNING_SCHEMA_V1 {
            map.schema = TUNING_SCHEMA.into();
        }
        if map.schema != TUNING_SCHEMA {
            return Err(fail(format!(
                "schema = \"{}\", this build reads \"{TUNING_SCHEMA}\"",
                map.schema
            )));
        }
        if let Some(c) = &map.ceilings {
            c.check().map_err(fail)?;
        }
        let mut names = std::collections::BTreeSet::new();
        for l in &map.layers {
            l.shape
                .shape()
                .map_err(|e| fail(format!("layer {}: {e}", l.name)))?;
            if !names.insert(l.name.as_str()) {
                return Err(fail(format!("layer {} appears twice", l.name)));
            }
            let mut variants = std::collections::BTreeSet::new();
            for t in &l.times {
                if !variants.insert(t.variant.as_str()) {
                    return Err(fail(format!(
                        "layer {}: {} appears twice",
                        l.name, t.variant
                    )));
                }
                check_time(&t.time_ns)
                    .map_err(|e| fail(format!("layer {}: {}: time_ns {e}", l.name, t.variant)))?;
            }
        }
        Ok(map)
    }

    /// The nearest-neighbour pick among `cands` for `shape`: the measured layers of the same
    /// kind, nearest first (at most [`NEIGHBOURS`], or only the layer itself when the map holds
    /// exactly this shape), weighted by `1 / (distance + 0.5)`; each candidate scored by its
    /// weighted mean, over the neighbours it was measured on (needing at least half of the
    /// weight), of its measured slowdown there less the slowdown `model` predicts there, plus
    /// the slowdown `model` predicts here (all as logs; a slowdown is against the fastest
    /// candidate): the neighbours correct the model where it is wrong, and the model carries
    /// what differs between their shapes and this one (tile padding, transforms against GEMM
    /// work). The least score wins, the earlier candidate on a tie.
    /// `None` when no layer of this kind has a time for any candidate.
    pub fn nearest(
        &self,
        shape: &ConvShape,
        cands: &[&'static Variant],
        model: &dyn Fn(&ConvShape, &Variant) -> f64,
    ) -> Option<(&'static Variant, Vec<(String, f64)>)> {
        // ln(predicted time / least predicted time among the candidates).
        let predicted = |s: &ConvShape| -> Vec<f64> {
            let t: Vec<f64> = cands.iter().map(|v| model(s, v).max(1e-9).ln()).collect();
            let least = t.iter().copied().fold(f64::INFINITY, f64::min);
            t.iter().map(|x| x - least).collect()
        };
        let (k, at) = (kind(shape), position(shape));
        let listed = |name: &str| cands.iter().any(|v| v.name() == name);
        // A shape measured under two names (a network's layer and a grid layer) votes once.
        let mut seen = std::collections::HashSet::new();
        let mut near: Vec<(f64, &TunedLayer, f64, ConvShape)> = self
            .layers
            .iter()
            .filter(|l| seen.insert(l.shape))
            .filter_map(|l| {
                let s = l.shape.shape().ok()?;
                if kind(&s) != k {
                    return None;
                }
                let best = l.best(listed)?.time_ns.point;
                let p = position(&s);
                let d = (0..3).map(|i| (p[i] - at[i]).powi(2)).sum::<f64>().sqrt();
                Some((d, l, best, s))
            })
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        if near.first()?.0 == 0.0 {
            near.truncate(1);
        } else {
            near.truncate(NEIGHBOURS);
        }
        let total: f64 = near.iter().map(|(d, ..)| 1.0 / (d + 0.5)).sum();
        let here = predicted(shape);
        let there: Vec<Vec<f64>> = near.iter().map(|(_, _, _, s)| predicted(s)).collect();
        let mut pick: Option<(f64, &'static Variant)> = None;
        for (j, &v) in cands.iter().enumerate() {
            let (mut sum, mut weight) = (0.0, 0.0);
            for (i, (d, l, best, _)) in near.iter().enumerate() {
                if let Some(t) = l.time(v.name()).filter(|t| t.time_ns.point > 0.0) {
                    let w = 1.0 / (d + 0.5);
                    sum += w * ((t.time_ns.point / best).ln() - there[i][j]);
                    weight += w;
                }
            }
            if weight < total / 2.0 {
                continue;
            }
            let score = sum / weight + here[j];
            if pick.is_none_or(|(s, _)| score < s) {
                pick = Some((score, v));
            }
        }
        let names = near.iter().map(|(d, l, ..)| (l.name.clone(), *d)).collect();
        pick.map(|(_, v)| (v, names))
    }
}
