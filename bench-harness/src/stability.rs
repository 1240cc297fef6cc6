//! Whether the ceilings held: their spread over interleaved rounds, their drift between the start
//! and the end of a run, and how busy the machine was (other runnable tasks and hypervisor
//! steal from /proc on Linux). Every "% of peak" divides by a ceiling, so a page whose ceilings
//! moved, or whose machine was busy, says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::schema::machine::Load;

/// (total, steal) jiffies of all CPUs, from the first line of /proc/stat.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_line(stat.lines().next()?)
}

/// `cpu  user nice system idle iowait irq softirq steal ...` -> (sum of all, steal).
pub(crate) fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut f = line.split_whitespace();
    if f.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
    // guest and guest_nice (9th and 10th) are already counted in user and nice.
    let total = v.iter().take(8).sum();
    Some((total, *v.get(7).unwrap_or(&0)))
}

/// Runnable tasks on the machine (`procs_running` of /proc/stat) minus this process's own
/// running threads.
fn others_running() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let running: f64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("procs_running "))?
        .trim()
        .parse()
        .ok()?;
    let mine = std::fs::read_dir("/proc/self/task")
        .ok()?
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("stat"))
                .ok()
                .and_then(|s| thread_state(&s))
                == Some('R')
        })
        .count() as f64;
    Some((running - mine).max(0.0))
}

/// The state letter of a /proc task stat line (the field after the parenthesised name).
pub(crate) fn thread_state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn load1() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Samples the load in the background from `start` until `finish` (nothing where /proc is
/// absent: `finish` gives `None`).
pub(crate) struct LoadMonitor {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<f64>>>,
    jiffies: Option<(u64, u64)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LoadMonitor {
    /// Starts sampling every `period`. The sampler shares the pinned core with what is being
    /// measured, so a long run samples sparsely (each sample reads a few /proc files, some
    /// tens of microseconds).
    pub(crate) fn start(period: Duration) -> LoadMonitor {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let jiffies = cpu_jiffies();
        let thread = jiffies.is_some().then(|| {
            let (stop, samples) = (stop.clone(), samples.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let (Some(o), Ok(mut s)) = (others_running(), samples.lock()) {
                        s.push(o);
                    }
                    // Parked, so `finish` wakes it at once instead of waiting out the period.
                    std::thread::park_timeout(period);
                }
            })
        });
        LoadMonitor {
            stop,
            samples,
            jiffies,
            thread,
        }
    }

    /// Stops sampling and summarises.
    pub(crate) fn finish(mut self) -> Option<Load> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        let (t0, s0) = self.jiffies?;
        let (t1, s1) = cpu_jiffies()?;
        let samples = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        let dt = t1.saturating_sub(t0).max(1) as f64;
        Some(Load {
            load1: load1().unwrap_or(0.0),
            others_running: samples.iter().sum::<f64>() / samples.len().max(1) as f64,
            steal_pct: s1.saturating_sub(s0) as f64 / dt * 100.0,
            samples: samples.len(),
        })
    }
}
