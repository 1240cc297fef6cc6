//! The run's console: the measured ceilings once measured, a header per layer, one line per
//! benchmark (`[37/108] resnet_3x3_28  winograd-f4-avx2-6x16  200.9 GFLOP/s [178.2, 226.3]
//! 2.06x avx2 peak  ETA 3m10s`), and the winner table at the end. On a terminal a status line
//! (bar, count, what runs now, ETA) is redrawn below the lines; in a log there are only the lines.
//! criterion's own chatter (warm-up, analysis, outliers) is silenced unless `--verbose`.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::answer::verdicts;
use crate::schema::machine::MachineProfile;
use crate::schema::results::{Record, Results};

/// Where the run's lines go, and how far it is.
pub(crate) struct Console {
    out: Box<dyn Write>,
    tty: bool,
    verbose: bool,
    total: usize,
    done: usize,
    started: Instant,
    status_shown: bool,
}

/// A handle on this process's stdout that survives criterion's output being silenced (a
/// duplicate of the descriptor, so the silencing of descriptor 1 does not reach it).
fn stdout_handle() -> Box<dyn Write> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout())
}

impl Console {
    /// A console for `total` benchmarks; `verbose` keeps criterion's own output.
    pub(crate) fn new(total: usize, verbose: bool) -> Console {
        Console {
            out: stdout_handle(),
            tty: std::io::stdout().is_terminal(),
            verbose,
            total,
            done: 0,
            started: Instant::now(),
            status_shown: false,
        }
    }

    /// Restarts the count for another phase of `total` benchmarks.
    pub(crate) fn phase(&mut self, total: usize) {
        self.total = total;
        self.done = 0;
        self.started = Instant::now();
    }

    /// A permanent line (on a terminal, above the status line).
    pub(crate) fn line(&mut self, text: &str) {
        self.clear_status();
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    fn clear_status(&mut self) {
        if self.status_shown {
            let _ = write!(self.out, "\r\x1b[2K");
            self.status_shown = false;
        }
    }

    /// On a terminal, redraws the status line: bar, count, `what`, ETA. Nothing in a log.
    pub(crate) fn status(&mut self, what: &str) {
        if !self.tty {
            return;
        }
        let width = 24;
        let filled = (self.done * width).checked_div(self.total).unwrap_or(0);
        let bar = format!("{}{}", "=".repeat(filled), " ".repeat(width - filled));
        let eta = eta(self.started.elapsed(), self.done, self.total)
            .map_or(String::new(), |d| format!("  ETA {}", duration(d)));
        self.clear_status();
        let _ = write!(
            self.out,
            "[{bar}] {}/{}  {what}{eta}",
            self.done, self.total
        );
        let _ = self.out.flush();
        self.status_shown = true;
    }

    /// Counts one benchmark as done and prints its line.
    pub(crate) fn finished(&mut self, text: &str) {
        self.done += 1;
        let eta = eta(self.started.elapsed(), self.done, self.total);
        let line = format!(
            "{}  {text}{}",
            counter(self.done, self.total),
            eta.map_or(String::new(), |d| format!("  ETA {}", duration(d)))
        );
        self.line(&line);
    }

    /// Runs `f` with this process's stdout and stderr silenced (criterion's chatter), unless
    /// verbose or the silencing is unavailable.
    pub(crate) fn quiet<T>(&self, f: impl FnOnce() -> T) -> T {
        if self.verbose {
            return f();
        }
        let _gags = (gag::Gag::stdout().ok(), gag::Gag::stderr().ok());
        f()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.clear_status();
        let _ = self.out.flush();
    }
}

/// `[ 7/108]`: the count padded to the width of the total.
pub(crate) fn counter(done: usize, total: usize) -> String {
    let w = total.to_string().len();
    format!("[{done:>w$}/{total}]")
}

/// Time left at the average pace so far; `None` before the first or after the last.
pub(crate) fn eta(elapsed: Duration, done: usize, total: usize) -> Option<Duration> {
    if done == 0 || done >= total {
        return None;
    }
    Some(elapsed.mul_f64((total - done) as f64 / done as f64))
}

/// `3m10s`, `42s`, `1h05m`.
pub(crate) fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// One benchmark's line without the counter and ETA: layer, variant, GFLOP/s with its interval,
/// the multiple of the ISA's measured peak, and a loud mark when the error is over tolerance.
pub(crate) fn result_text(rec: &Record, m: &MachineProfile) -> String {
    let g = rec.gflops;
    let variant = if rec.threads > 1 {
        format!("{} x{}t", rec.variant, rec.threads)
    } else {
        rec.variant.clone()
    };
    let mut s = format!(
        "{:<24} {:<26} {:>7.1} GFLOP/s [{:.1}, {:.1}]",
        rec.layer, variant, g.point, g.lower, g.upper
    );
    if let Some(p) = m.at_threads(rec.threads).peak(&rec.types, &rec.isa) {
        let _ = write!(s, "  {:.2}x {} peak", g.point / p, rec.isa);
    }
    if !rec.within_tolerance() {
        let _ = write!(
            s,
            "  ERROR {:.1e} OVER TOLERANCE {:.1e}",
            rec.max_rel_error, rec.tolerance
        );
    }
    s
}

/// The ceilings as two lines: FMA peak per ISA, read bandwidth per level.
pub(crate) fn ceilings(m: &MachineProfile) -> String {
    format!(
        "measured FMA peak, GFLOP/s (1 core): {}\nmeasured read bandwidth, GB/s (1 core): {}",
        m.peaks_text(1),
        m.bandwidth_text(1)
    )
}

/// The winner table printed at the end of a run: per layer the winner (or the tied variants),
/// its GFLOP/s with interval, its fraction of the roof, the runner-up and the margin.
pub fn winner_table(res: &Results) -> String {
    let mut s = format!(
        "{:<24} {:<28} {:>22} {:>7}  {:<28} {:>7}\n",
        "layer", "winner", "GFLOP/s [interval]", "% roof", "runner-up", "margin"
    );
    for v in verdicts(res) {
        let w = v.winner;
        let name = if v.is_tie() {
            format!("tie ({} variants)", v.tied.len() + 1)
        } else {
            w.variant.clone()
        };
        let roof = v
            .roof_fraction(&res.machine)
            .map_or("–".into(), |(f, _)| format!("{:.0}%", f * 100.0));
        let _ = writeln!(
            s,
            "{:<24} {:<28} {:>22} {:>7}  {:<28} {:>7}",
            v.layer,
            name,
            format!(
                "{:.1} [{:.1}, {:.1}]",
                w.gflops.point, w.gflops.lower, w.gflops.upper
            ),
            roof,
            v.runner_up.map_or("–", |r| r.variant.as_str()),
            v.margin()
                .map_or("–".into(), |m| format!("{:.2}x", m.point)),
        );
        if v.is_tie() {
            let _ = writeln!(s, "{:<24}   tied: {}", "", v.leader_names());
        }
    }
    s
}

/// Per-network totals, one line per way of choosing (ms, and x the per-layer bound), then the
/// layers that cost most. Empty when the run has no layers.
pub(crate) fn totals_table(res: &Results) -> String {
    let mut s = String::new();
    for t in crate::totals::totals(res) {
        let bound = t.strategies[0].total_ns;
        let _ = writeln!(
            s,
            "{} (batch {}, {} layers, {} with repeats):",
            t.network, t.batch, t.layers, t.weighted_layers
        );
        for st in &t.strategies {
            if st.missing > 0 {
                let _ = writeln!(
                    s,
                    "  {:<16} {:>13}  {:>7}  ({} layer(s) whose pick was not measured)",
                    st.label, "–", "–", st.missing
                );
                continue;
            }
            let _ = writeln!(
                s,
                "  {:<16} {:>10.3} ms  {:>6.2}x",
                st.label,
                st.total_ns / 1e6,
                st.total_ns / bound
            );
        }
        let top: Vec<String> = t
            .top
            .iter()
            .map(|x| format!("{} {:.0}% ({})", x.layer, x.share * 100.0, x.algorithm))
            .collect();
        let _ = writeln!(s, "  most time: {}", top.join(", "));
    }
    s
}

/// Per layer and low-precision family, its best variant against the best f32 one
/// (`run --dtype f32,int8,bf16`); empty when the run measured neither.
pub(crate) fn lowp_table(res: &Results) -> String {
    let mut out = String::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for p in res.precision.iter().filter(|p| p.threads == 1) {
        if seen.contains(&(p.layer.as_str(), p.family())) {
            continue;
        }
        seen.push((&p.layer, p.family()));
        let best = res
            .precision
            .iter()
            .filter(|q| q.layer == p.layer && q.family() == p.family() && q.threads == 1)
            .min_by(|a, b| a.time_ns.point.total_cmp(&b.time_ns.point))
            .unwrap_or(p);
        let speed = best.speedup.map_or("-".into(), |s| {
            format!("{:.2}x [{:.2}, {:.2}]", s.point, s.lower, s.upper)
        });
        out += &format!(
            "{:<24} {:<36} {:>7.0} GOP/s  f32/{} {:<20} {:<12} max err {:.4}  rms {:.4}  (f32: {}; {:.2}x f32 without Winograd)\n",
            best.layer,
            best.variant,
            best.gops.point,
            best.family(),
            speed,
            best.verdict(),
            best.max_error,
            best.rms_error,
            best.best_f32.as_deref().unwrap_or("-"),
            best.speedup_plain.map_or(f64::NAN, |s| s.point)
        );
    }
    out
}
