//! The machine profile: a CPU fingerprint (vendor, model, ISA flags, cores, caches, OS, rustc,
//! git revision) and measured ceilings, Empirical-Roofline-Toolkit style, on one core: peak f32
//! FMA GFLOP/s per available ISA and sustained read bandwidth for working sets sized from the
//! detected caches; then the same with 2..N threads at once, since shared levels (L3, DRAM) do
//! not scale like private ones and an N-thread roofline needs N-thread roofs.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use simdconv::{probe, AlignedBuf, Element, Isa};

use crate::schema::machine::{
    named, Bandwidth, Cache, CeilingCheck, MachineProfile, ThreadCeilings,
};
use crate::stability::LoadMonitor;

/// Detects the fingerprint and measures the ceilings (a few seconds).
pub(crate) fn profile() -> MachineProfile {
    let mut m = fingerprint_only();
    measure_ceilings(&mut m);
    m
}

/// The fingerprint without measurements.
pub(crate) fn fingerprint_only() -> MachineProfile {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let mut vendor = field("vendor_id")
        .or_else(|| field("CPU implementer"))
        .unwrap_or_default();
    let mut model = field("model name")
        .or_else(|| field("Model"))
        .unwrap_or_default();
    if cfg!(target_os = "macos") {
        vendor = sysctl("machdep.cpu.vendor").unwrap_or_else(|| "Apple".into());
        model = sysctl("machdep.cpu.brand_string").unwrap_or_default();
    }
    if model.is_empty() {
        model = format!("unknown {} CPU", std::env::consts::ARCH);
    }
    let logical_cores = match cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count()
    {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        n => n,
    };
    let physical_cores = physical_cores(&cpuinfo);
    let clock_ghz = field("cpu MHz")
        .and_then(|s| s.parse::<f64>().ok())
        .map(|mhz| mhz / 1000.0)
        .or_else(|| {
            model
                .split_whitespace()
                .find_map(|w| w.strip_suffix("GHz").and_then(|g| g.parse::<f64>().ok()))
        });
    let (flags, build_target_features) = (runtime_flags(), build_target_features());
    MachineProfile {
        vendor,
        model,
        arch: std::env::consts::ARCH.to_string(),
        flags,
        logical_cores,
        physical_cores,
        caches: caches(),
        clock_ghz,
        os: format!("{} {}", std::env::consts::OS, os_release()),
        rustc: command(&["rustc", "--version"]).unwrap_or_else(|| "unknown".into()),
        git_revision: env!("SIMDCONV_GIT_REVISION").to_string(),
        build_target_features,
        peak_gflops: BTreeMap::new(),
        // The FMA probe runs the f32 lanes (`simdconv::probe`).
        peak_types: simdconv::Types::F32.name(),
        int8_peak_gops: BTreeMap::new(),
        bf16_peak_gflops: BTreeMap::new(),
        bandwidth: Vec::new(),
        threads: Vec::new(),
        check: None,
    }
}

/// Distinct (physical id, core id) pairs of `/proc/cpuinfo`, else the OS's count.
fn physical_cores(cpuinfo: &str) -> Option<usize> {
    let mut ids = std::collections::BTreeSet::new();
    let (mut phys, mut core) = (None, None);
    for l in cpuinfo.lines() {
        if let Some((k, v)) = l.split_once(':') {
            match k.trim() {
                "physical id" => phys = Some(v.trim().to_string()),
                "core id" => core = Some(v.trim().to_string()),
                _ => {}
            }
        }
        if l.trim().is_empty() {
            if let (Some(p), Some(c)) = (phys.take(), core.take()) {
                ids.insert((p, c));
            }
        }
    }
    (!ids.is_empty())
        .then_some(ids.len())
        .or_else(|| sysctl("hw.physicalcpu").and_then(|s| s.parse().ok()))
}

/// The SIMD features the CPU reports at run time.
fn runtime_flags() -> Vec<String> {
    let mut flags = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! f {
            ($($name:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($name) { flags.push($name.to_string()); }
            )*};
        }
        f!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        flags.push("neon".to_string());
        if std::arch::is_aarch64_feature_detected!("sve") {
            flags.push("sve".to_string());
        }
    }
    flags
}

/// The features the binary was compiled with (its baseline).
fn build_target_features() -> Vec<String> {
    let mut build_target_features = Vec::new();
    macro_rules! tf {
        ($($name:tt),*) => {$( if cfg!(target_feature = $name) { build_target_features.push($name.to_string()); } )*};
    }
    tf!("sse2", "sse4.2", "avx", "avx2", "fma", "avx512f", "neon");
    build_target_features
}

/// Bytes of memory this process may still allocate, where the OS says: the lesser of
/// `MemAvailable` (/proc/meminfo) and the room left under a cgroup v2 limit; `None` elsewhere.
pub(crate) fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    let mut avail = kib * 1024;
    let read = |f: &str| std::fs::read_to_string(Path::new("/sys/fs/cgroup").join(f)).ok();
    if let (Some(max), Some(cur)) = (read("memory.max"), read("memory.current")) {
        if let (Ok(max), Ok(cur)) = (max.trim().parse::<u64>(), cur.trim().parse::<u64>()) {
            avail = avail.min(max.saturating_sub(cur));
        }
    }
    Some(avail)
}

fn command(args: &[&str]) -> Option<String> {
    let out = Command::new(args[0]).args(&args[1..]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn sysctl(name: &str) -> Option<String> {
    command(&["sysctl", "-n", name])
}

fn os_release() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .or_else(|| command(&["uname", "-r"]))
        .unwrap_or_default()
}

fn caches() -> Vec<Cache> {
    simdconv::cache::caches()
        .iter()
        .map(|c| Cache {
            level: c.level,
            kind: c.kind.clone(),
            size: c.size,
        })
        .collect()
}

/// Measures the dot-product peak of every int8 and bf16 ISA this CPU runs (one core, best of 5).
pub(crate) fn measure_dot_peaks(m: &mut MachineProfile) {
    use simdconv::quant::probe::{dot_loop, dot_loop_ops, BF16_ISAS, DOT_ISAS};
    for isa in DOT_ISAS.into_iter().chain(BF16_ISAS) {
        if dot_loop(isa, 1).is_none() {
            continue;
        }
        let g = best_rate(0.03, 5, |n| {
            let iters = n * 1000;
            std::hint::black_box(dot_loop(isa, iters));
            dot_loop_ops(isa, iters).unwrap_or(0) as f64 / 1e9
        });
        let peaks = if BF16_ISAS.contains(&isa) {
            &mut m.bf16_peak_gflops
        } else {
            &mut m.int8_peak_gops
        };
        peaks.insert(isa.to_string(), g);
    }
}

/// Best rate of `work(n)` (which returns the units of work done) over `tries` timed calls, with
/// `n` first doubled until one call takes at least `min_s` (ERT style: long enough to amortise
/// timer and frequency ramp-up, best of several to skip interference).
fn best_rate(min_s: f64, tries: usize, mut work: impl FnMut(usize) -> f64) -> f64 {
    let mut n = 1usize;
    loop {
        let t = Instant::now();
        work(n);
        if t.elapsed().as_secs_f64() >= min_s || n >= 1 << 40 {
            break;
        }
        n *= 2;
    }
    let mut best = 0.0f64;
    for _ in 0..tries {
        let t = Instant::now();
        let units = work(n);
        best = best.max(units / t.elapsed().as_secs_f64());
    }
    best
}

/// `best_rate` with `threads` threads running `work` together: `n` is calibrated on one thread,
/// then each try starts every thread at a barrier, and the rate is all their units over the time
/// from the first start to the last finish.
fn best_rate_threads(
    threads: usize,
    min_s: f64,
    tries: usize,
    work: impl Fn(usize, usize) -> f64 + Sync,
) -> f64 {
    if threads <= 1 {
        return best_rate(min_s, tries, |n| work(0, n));
    }
    let mut n = 1usize;
    loop {
        let t = Instant::now();
        work(0, n);
        if t.elapsed().as_secs_f64() >= min_s || n >= 1 << 40 {
            break;
        }
        n *= 2;
    }
    let barrier = std::sync::Barrier::new(threads);
    let mut best = 0.0f64;
    for _ in 0..tries {
        let spans: Vec<(Instant, Instant, f64)> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let (barrier, work) = (&barrier, &work);
                    sc.spawn(move || {
                        barrier.wait();
                        let t0 = Instant::now();
                        let units = work(i, n);
                        (t0, Instant::now(), units)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("probe thread"))
                .collect()
        });
        let start = spans.iter().map(|s| s.0).min().expect("threads");
        let end = spans.iter().map(|s| s.1).max().expect("threads");
        let units: f64 = spans.iter().map(|s| s.2).sum();
        best = best.max(units / (end - start).as_secs_f64());
    }
    best
}

/// The ceilings of one measurement: peak GFLOP/s per ISA, read bandwidth per level, and the
/// spread of each over the rounds.
type Measured = (BTreeMap<String, f64>, Vec<Bandwidth>, BTreeMap<String, f64>);

/// Peak GFLOP/s per available ISA and read bandwidth per level, with `threads` threads at once,
/// in `rounds` interleaved rounds (every ceiling once per round, so a burst of load hits one
/// round of each rather than every try of one); the best of all rounds is kept, with the spread
/// (best - worst) / best.
fn ceilings(m: &MachineProfile, threads: usize, rounds: usize) -> Measured {
    let isas = crate::here::isas(None);
    // Bandwidth with the widest vector ISA, for working sets of half of L1 and L2, a few MB of
    // the shared L3, and a DRAM set four times the last level.
    let isa = isas
        .iter()
        .copied()
        .max_by_key(|i| i.rank())
        .unwrap_or(Isa::Portable);
    let l1 = m.cache_size(1).unwrap_or(32 << 10);
    let l2 = m.cache_size(2).unwrap_or(1 << 20);
    let l3 = m.cache_size(3);
    let mut sets = vec![("L1", l1 / 2, false), ("L2", l2 / 2, false)];
    if let Some(l3) = l3 {
        sets.push(("L3", (l3 / 4).clamp(l2 * 3, 16 << 20), true));
    }
    let last = l3.unwrap_or(l2);
    sets.push(("DRAM", (last * 4).clamp(64 << 20, 512 << 20), true));
    // A private level gets its set per thread; a shared one is divided among the threads.
    let bufs: Vec<(usize, Vec<AlignedBuf>)> = sets
        .iter()
        .map(|&(_, bytes, shared)| {
            let per = if shared {
                bytes / threads as u64
            } else {
                bytes
            };
            let floats = (per / 4) as usize;
            let b: Vec<AlignedBuf> = (0..threads)
                .map(|_| AlignedBuf::from_slice(&vec![1.0f32; floats]))
                .collect();
            for x in &b {
                std::hint::black_box(probe::read_loop(isa, x, 1));
            }
            (floats, b)
        })
        .collect();
    let mut seen: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for _ in 0..rounds.max(1) {
        for &i in &isas {
            let g = best_rate_threads(threads, 0.03, 2, |_, n| {
                let iters = n * 1000;
                std::hint::black_box(probe::fma_loop(i, iters));
                probe::fma_loop_flops(i, iters) as f64 / 1e9
            });
            seen.entry(i.name().to_string()).or_default().push(g);
        }
        for ((level, _, _), (floats, b)) in sets.iter().zip(&bufs) {
            // Bandwidth varies more than compute on a shared host (other tenants' traffic): a
            // longer window and more tries per round.
            let gbs = best_rate_threads(threads, 0.05, 3, |t, reps| {
                std::hint::black_box(probe::read_loop(isa, &b[t], reps));
                (floats * f32::BYTES * reps) as f64 / 1e9
            });
            seen.entry(level.to_string()).or_default().push(gbs);
        }
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let spread = seen
        .iter()
        .map(|(n, v)| {
            let (b, w) = (best(v), v.iter().copied().fold(f64::INFINITY, f64::min));
            (n.clone(), if b > 0.0 { (b - w) / b } else { 0.0 })
        })
        .collect();
    let peaks = isas
        .iter()
        .map(|i| (i.name().to_string(), best(&seen[i.name()])))
        .collect();
    let bandwidth = sets
        .iter()
        .map(|&(level, bytes, _)| Bandwidth {
            level: level.to_string(),
            bytes,
            gbs: best(&seen[level]),
        })
        .collect();
    (peaks, bandwidth, spread)
}

/// Interleaved rounds of the one-thread ceilings.
pub(crate) const CEILING_ROUNDS: usize = 3;

/// Fills `peak_gflops` and `bandwidth` (one thread, [`CEILING_ROUNDS`] interleaved rounds) and
/// their check: the spread and the load while measuring.
pub(crate) fn measure_ceilings(m: &mut MachineProfile) {
    let monitor = LoadMonitor::start(std::time::Duration::from_millis(250));
    let (peaks, bandwidth, spread) = ceilings(m, 1, CEILING_ROUNDS);
    m.peak_gflops = peaks;
    m.bandwidth = bandwidth;
    m.check = Some(CeilingCheck {
        rounds: CEILING_ROUNDS,
        spread,
        end: BTreeMap::new(),
        load_ceilings: monitor.finish(),
        load_run: None,
    });
}

/// Measures the one-thread ceilings once more (end of a run) into the check's `end`.
pub(crate) fn recheck_ceilings(m: &mut MachineProfile) {
    let (peaks, bandwidth, _) = ceilings(m, 1, 1);
    m.check.get_or_insert_with(CeilingCheck::default).end = named(&peaks, &bandwidth);
}

/// Adds the ceilings for each thread count in `counts` above 1 that is not measured yet.
pub(crate) fn measure_thread_ceilings(m: &mut MachineProfile, counts: &[usize]) {
    for &t in counts {
        if t > 1 && !m.threads.iter().any(|c| c.threads == t) {
            let (peak_gflops, bandwidth, _) = ceilings(m, t, 2);
            m.threads.push(ThreadCeilings {
                threads: t,
                peak_gflops,
                bandwidth,
            });
        }
    }
    m.threads.sort_by_key(|c| c.threads);
}
