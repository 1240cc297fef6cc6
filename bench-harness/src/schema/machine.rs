//! The machine profile as results and tuning files store it: the CPU fingerprint, the measured
//! ceilings (one thread and N threads) and how stable they were. Probing lives in `machine.rs`
//! and `stability.rs`; this file only describes and reads what they measured.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A ceiling that moves more than this (spread over rounds, or start against end) is reported.
pub(crate) const DRIFT_WARN: f64 = 0.10;
/// Other runnable tasks on average above this, or steal above [`STEAL_WARN_PCT`], is a busy
/// machine.
pub(crate) const OTHERS_WARN: f64 = 0.5;
/// Hypervisor steal, percent of CPU time, above which the machine counts as busy.
pub(crate) const STEAL_WARN_PCT: f64 = 2.0;

/// How busy the machine was over a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// 1-minute load average at the end of the period.
    pub load1: f64,
    /// Runnable tasks not of this process, averaged over the samples.
    pub others_running: f64,
    /// CPU time stolen by the hypervisor, percent of all CPU time.
    pub steal_pct: f64,
    /// Samples taken.
    pub samples: usize,
}

/// The ceilings' stability, stored in the machine profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CeilingCheck {
    /// Interleaved rounds each one-thread ceiling was measured in (the best is kept).
    pub rounds: usize,
    /// (best - worst) / best over the rounds, per ceiling (ISA name, or memory level).
    pub spread: BTreeMap<String, f64>,
    /// Each ceiling measured again at the end of the run (empty when not re-measured).
    #[serde(default)]
    pub end: BTreeMap<String, f64>,
    /// Load while the ceilings were measured.
    pub load_ceilings: Option<Load>,
    /// Load over the whole run.
    #[serde(default)]
    pub load_run: Option<Load>,
}

impl CeilingCheck {
    /// Every reason to doubt the ceilings, one sentence each; `start` holds the ceilings used
    /// (same names as `spread` and `end`).
    pub(crate) fn warnings(&self, start: &BTreeMap<String, f64>) -> Vec<String> {
        let mut w = Vec::new();
        for (name, &s) in &self.spread {
            if s > DRIFT_WARN {
                w.push(format!(
                    "{name}: varied {:.0}% across {} interleaved rounds (the best is used)",
                    s * 100.0,
                    self.rounds
                ));
            }
        }
        for (name, &end) in &self.end {
            if let Some(&s) = start.get(name) {
                let d = end / s - 1.0;
                if s > 0.0 && d.abs() > DRIFT_WARN {
                    w.push(format!(
                        "{name}: {s:.1} at the start of the run, {end:.1} at the end ({:+.0}%): the machine's speed changed while measuring",
                        d * 100.0
                    ));
                }
            }
        }
        for (when, load) in [
            ("while measuring the ceilings", &self.load_ceilings),
            ("during the run", &self.load_run),
        ] {
            if let Some(l) = load {
                if l.others_running > OTHERS_WARN {
                    w.push(format!(
                        "busy {when}: {:.1} other runnable tasks on average (load average {:.2})",
                        l.others_running, l.load1
                    ));
                }
                if l.steal_pct > STEAL_WARN_PCT {
                    w.push(format!(
                        "busy {when}: the hypervisor stole {:.1}% of CPU time",
                        l.steal_pct
                    ));
                }
            }
        }
        w
    }

    /// The spread as text: `avx2 3%, L1 1%, ...`.
    pub(crate) fn spread_text(&self) -> String {
        let v: Vec<String> = self
            .spread
            .iter()
            .map(|(n, s)| format!("{n} {:.0}%", s * 100.0))
            .collect();
        format!("{} (over {} interleaved rounds)", v.join(", "), self.rounds)
    }

    /// The end-of-run drift as text: `avx2 -2%, L1 +1%, ...`, empty if not re-measured.
    pub(crate) fn drift_text(&self, start: &BTreeMap<String, f64>) -> String {
        self.end
            .iter()
            .filter_map(|(n, &e)| {
                let s = *start.get(n)?;
                Some(format!("{n} {:+.0}%", (e / s - 1.0) * 100.0))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One cache level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cache {
    /// 1, 2, 3.
    pub level: u32,
    /// "Data", "Instruction" or "Unified".
    pub kind: String,
    /// Bytes.
    pub size: u64,
}

/// Measured read bandwidth for one working-set size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bandwidth {
    /// "L1", "L2", "L3" or "DRAM".
    pub level: String,
    /// Working set in bytes.
    pub bytes: u64,
    /// Best sustained read bandwidth, GB/s (1e9 bytes per second).
    pub gbs: f64,
}

fn f32_types() -> String {
    simdconv::Types::F32.name()
}

/// Ceilings measured with several threads at once (aggregate over the threads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadCeilings {
    /// Threads running the probe together.
    pub threads: usize,
    /// Aggregate peak GFLOP/s per ISA, in the profile's `peak_types`.
    pub peak_gflops: BTreeMap<String, f64>,
    /// Aggregate read bandwidth per memory level: private levels with a working set per thread,
    /// shared ones (L3, DRAM) with the one-thread set divided among the threads.
    pub bandwidth: Vec<Bandwidth>,
}

/// What the machine is and what it can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineProfile {
    /// CPU vendor string.
    pub vendor: String,
    /// CPU model name.
    pub model: String,
    /// `target_arch` of the build.
    pub arch: String,
    /// ISA flags that matter to these kernels, as detected at run time.
    pub flags: Vec<String>,
    /// Logical CPUs.
    pub logical_cores: usize,
    /// Physical cores, where known.
    pub physical_cores: Option<usize>,
    /// Cache hierarchy of cpu0.
    pub caches: Vec<Cache>,
    /// Nominal clock in GHz, where the OS reports one (for FLOP/cycle).
    pub clock_ghz: Option<f64>,
    /// Operating system.
    pub os: String,
    /// `rustc --version` at run time, if a rustc is on the PATH.
    pub rustc: String,
    /// The git revision the binary was built from (embedded at build time), `-dirty` when
    /// tracked files differed from that commit.
    pub git_revision: String,
    /// Target features the binary was compiled with (the Portable row depends on them).
    pub build_target_features: Vec<String>,
    /// Peak GFLOP/s per ISA in the element types `peak_types` names, one core (name of
    /// [`Isa`] -> GFLOP/s).
    pub peak_gflops: BTreeMap<String, f64>,
    /// The element types the peaks were measured in (`simdconv::Types::name`: `f32`; absent in
    /// older files, which were f32). A record of other types has no roof from these peaks.
    #[serde(default = "f32_types")]
    pub peak_types: String,
    /// Peak int8 GOP/s (2 per multiply-add) per int8 ISA as the variant names spell it
    /// (`avx512vnni`), one core, from `simdconv::quant::probe`; measured only by runs with int8.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub int8_peak_gops: BTreeMap<String, f64>,
    /// Peak bf16 GFLOP/s (2 per multiply-add) per bf16 ISA (`avx512bf16`), one core, from the
    /// same probe; measured only by runs with bf16.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bf16_peak_gflops: BTreeMap<String, f64>,
    /// Read bandwidth per memory level, one core.
    pub bandwidth: Vec<Bandwidth>,
    /// The ceilings with 2..N threads (absent in older files and for one-thread runs).
    #[serde(default)]
    pub threads: Vec<ThreadCeilings>,
    /// How stable the one-thread ceilings were: spread over interleaved rounds, drift to the
    /// end of the run, load (absent in older files).
    #[serde(default)]
    pub check: Option<CeilingCheck>,
}

impl MachineProfile {
    /// A short identity of the hardware (vendor, model, arch, flags, caches): equal fingerprints
    /// mean results are comparable as times.
    pub(crate) fn fingerprint(&self) -> String {
        let caches: Vec<String> = self
            .caches
            .iter()
            .map(|c| {
                let kind = c.kind.chars().next().unwrap_or('?');
                format!("L{}{kind}:{}", c.level, c.size)
            })
            .collect();
        format!(
            "{}|{}|{}|{}|{}",
            self.vendor,
            self.model,
            self.arch,
            self.flags.join(","),
            caches.join(",")
        )
    }

    /// A file-name-safe slug of the CPU model, e.g. `intel-xeon-processor-2-50ghz`.
    pub(crate) fn slug(&self) -> String {
        let mut s = String::new();
        for ch in self.model.to_ascii_lowercase().chars() {
            if ch.is_ascii_alphanumeric() {
                s.push(ch);
            } else if !s.ends_with('-') {
                s.push('-');
            }
        }
        let s = s
            .trim_matches('-')
            .replace("-r-", "-")
            .replace("-tm-", "-")
            .replace("-cpu-", "-");
        if s.is_empty() {
            "unknown-cpu".into()
        } else {
            s
        }
    }

    /// The measured peaks as `isa GFLOP/s` pairs with `digits` decimals, e.g. `avx2 116.1`.
    pub(crate) fn peaks_text(&self, digits: usize) -> String {
        let v: Vec<String> = self
            .peak_gflops
            .iter()
            .map(|(k, v)| format!("{k} {v:.digits$}"))
            .collect();
        v.join(", ")
    }

    /// The measured read bandwidths as `level GB/s` pairs with `digits` decimals.
    pub(crate) fn bandwidth_text(&self, digits: usize) -> String {
        let v: Vec<String> = self
            .bandwidth
            .iter()
            .map(|b| format!("{} {:.digits$}", b.level, b.gbs))
            .collect();
        v.join(", ")
    }

    /// The measured peak of an ISA in element types `types` (a record's), if it was measured.
    pub(crate) fn peak(&self, types: &str, isa: &str) -> Option<f64> {
        if types != self.peak_types {
            return None;
        }
        self.peak_gflops.get(isa).copied()
    }

    /// The measured ceilings in the form the cost model reads (bandwidth per cache size).
    pub(crate) fn ceilings(&self) -> simdconv::auto::Ceilings {
        let mut bandwidth: Vec<(u64, f64)> = Vec::new();
        for (level, size) in [
            ("L1", self.cache_size(1)),
            ("L2", self.cache_size(2)),
            ("L3", self.cache_size(3)),
        ] {
            if let (Some(size), Some(b)) = (size, self.bandwidth.iter().find(|b| b.level == level))
            {
                bandwidth.push((size, b.gbs));
            }
        }
        if let Some(b) = self.bandwidth.iter().find(|b| b.level == "DRAM") {
            bandwidth.push((u64::MAX, b.gbs));
        }
        simdconv::auto::Ceilings {
            peak_gflops: self
                .peak_gflops
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            bandwidth,
        }
    }

    /// This profile with the ceilings for `threads` threads in place of the one-thread ones,
    /// where they were measured (unchanged otherwise).
    pub(crate) fn at_threads(&self, threads: usize) -> MachineProfile {
        let mut m = self.clone();
        if let Some(t) = self.threads.iter().find(|t| t.threads == threads) {
            m.peak_gflops = t.peak_gflops.clone();
            m.bandwidth = t.bandwidth.clone();
            // The spread and the end-of-run values are one-thread figures; the load stays.
            if let Some(c) = &mut m.check {
                c.spread.clear();
                c.end.clear();
            }
        }
        m
    }

    /// Size of a cache level (data or unified), bytes.
    pub(crate) fn cache_size(&self, level: u32) -> Option<u64> {
        self.caches
            .iter()
            .find(|c| c.level == level && c.kind != "Instruction")
            .map(|c| c.size)
    }
}

impl MachineProfile {
    /// The one-thread ceilings by name (ISA, memory level), as [`CeilingCheck`] names them.
    pub(crate) fn ceiling_values(&self) -> BTreeMap<String, f64> {
        named(&self.peak_gflops, &self.bandwidth)
    }

    /// Every reason to doubt this profile's ceilings (see [`CeilingCheck::warnings`]).
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.check
            .as_ref()
            .map_or_else(Vec::new, |c| c.warnings(&self.ceiling_values()))
    }
}

/// Peaks and bandwidths in one map by ceiling name.
pub(crate) fn named(
    peaks: &BTreeMap<String, f64>,
    bandwidth: &[Bandwidth],
) -> BTreeMap<String, f64> {
    let mut v = peaks.clone();
    v.extend(bandwidth.iter().map(|b| (b.level.clone(), b.gbs)));
    v
}

impl std::fmt::Display for MachineProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "model:      {} ({})", self.model, self.vendor)?;
        writeln!(
            f,
            "arch:       {}, flags: {}",
            self.arch,
            self.flags.join(" ")
        )?;
        writeln!(
            f,
            "cores:      {} logical, {} physical",
            self.logical_cores,
            self.physical_cores.map_or("?".into(), |p| p.to_string())
        )?;
        let caches: Vec<String> = self
            .caches
            .iter()
            .map(|c| format!("L{} {} {} KiB", c.level, c.kind, c.size / 1024))
            .collect();
        writeln!(f, "caches:     {}", caches.join(", "))?;
        writeln!(
            f,
            "clock:      {}",
            self.clock_ghz
                .map_or("unknown".into(), |g| format!("{g:.2} GHz (nominal)"))
        )?;
        writeln!(f, "os:         {}", self.os)?;
        writeln!(f, "rustc:      {}", self.rustc)?;
        writeln!(f, "git:        {}", self.git_revision)?;
        writeln!(f, "build tf:   {}", self.build_target_features.join(" "))?;
        for (isa, g) in &self.peak_gflops {
            writeln!(f, "peak {isa:<9} {g:8.1} GFLOP/s")?;
        }
        for b in &self.bandwidth {
            writeln!(
                f,
                "read {:<9} {:8.1} GB/s  ({} KiB working set)",
                b.level,
                b.gbs,
                b.bytes / 1024
            )?;
        }
        if let Some(c) = &self.check {
            writeln!(f, "spread:     {}", c.spread_text())?;
            let drift = c.drift_text(&self.ceiling_values());
            if !drift.is_empty() {
                writeln!(f, "at the end: {drift}")?;
            }
            if let Some(l) = &c.load_ceilings {
                writeln!(
                    f,
                    "load:       {:.1} other runnable tasks, {:.1}% steal, load average {:.2}",
                    l.others_running, l.steal_pct, l.load1
                )?;
            }
            for w in self.warnings() {
                writeln!(f, "WARNING:    {w}")?;
            }
        }
        for t in &self.threads {
            let m = self.at_threads(t.threads);
            writeln!(
                f,
                "{} threads:  peak {}; read {}",
                t.threads,
                m.peaks_text(1),
                m.bandwidth_text(1)
            )?;
        }
        Ok(())
    }
}
