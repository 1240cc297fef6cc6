//! The CPU's cache levels, read once: sysfs on Linux, `sysctl` on macOS. The GEMM and Winograd
//! blocking and the harness's machine profile read the same numbers from here.

use std::sync::OnceLock;

/// One cache level of CPU 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLevel {
    /// 1, 2, 3.
    pub level: u32,
    /// `"Data"`, `"Instruction"` or `"Unified"`.
    pub kind: String,
    /// Bytes.
    pub size: u64,
}

/// The cache levels this CPU reports (empty when the OS reports none).
pub fn caches() -> &'static [CacheLevel] {
    static CACHES: OnceLock<Vec<CacheLevel>> = OnceLock::new();
    CACHES.get_or_init(|| {
        if cfg!(target_os = "macos") {
            from_sysctl()
        } else {
            from_sysfs()
        }
    })
}

/// Size in bytes of the data (or unified) cache of `level`, if reported.
pub fn data_cache_size(level: u32) -> Option<u64> {
    caches()
        .iter()
        .find(|c| c.level == level && c.kind != "Instruction")
        .map(|c| c.size)
}

fn from_sysfs() -> Vec<CacheLevel> {
    let mut out = Vec::new();
    for idx in 0..8 {
        let base = format!("/sys/devices/system/cpu/cpu0/cache/index{idx}");
        let read = |f: &str| {
            std::fs::read_to_string(format!("{base}/{f}"))
                .ok()
                .map(|s| s.trim().to_string())
        };
        let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size"))
        else {
            continue;
        };
        let bytes = if let Some(k) = size.strip_suffix('K') {
            k.parse::<u64>().ok().map(|v| v * 1024)
        } else if let Some(m) = size.strip_suffix('M') {
            m.parse::<u64>().ok().map(|v| v * 1024 * 1024)
        } else {
            size.parse().ok()
        };
        if let (Ok(level), Some(size)) = (level.parse(), bytes) {
            out.push(CacheLevel { level, kind, size });
        }
    }
    out
}

/// macOS: `hw.l1dcachesize`, `hw.l2cachesize`, `hw.l3cachesize`.
fn from_sysctl() -> Vec<CacheLevel> {
    let mut out = Vec::new();
    for (level, key) in [
        (1, "hw.l1dcachesize"),
        (2, "hw.l2cachesize"),
        (3, "hw.l3cachesize"),
    ] {
        let Ok(o) = std::process::Command::new("sysctl")
            .args(["-n", key])
            .output()
        else {
            continue;
        };
        let size = String::from_utf8_lossy(&o.stdout).trim().parse::<u64>();
        if let Some(size) = size.ok().filter(|&s| s > 0) {
            let kind = if level == 1 { "Data" } else { "Unified" };
            out.push(CacheLevel {
                level,
                kind: kind.into(),
                size,
            });
        }
    }
    out
}
