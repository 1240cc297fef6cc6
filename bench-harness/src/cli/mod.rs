//! The command line of `simdconv-bench`: run | tune | report | compare | machine | shapes.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::gate;
use crate::here::Filter;
use crate::run::{self, RunOptions};
use crate::schema::layer::Layer;
use crate::schema::results::Results;
use crate::suite::Suite;
use crate::{autopick, console, files, machine, report, tune};
use clap::{Parser, Subcommand};
use simdconv::{variants, DType, Isa};

#[derive(Parser)]
#[command(
    name = "simdconv-bench",
    version,
    about = "Benchmarks simdconv's convolution kernels against this machine's measured limits"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Measure every variant on every layer of a suite; write results.json and index.html.
    Run {
        /// smoke (< 1 min), quick (the 15 layers of the first catalogue), full (every layer and
        /// the building-block claims) or blocks (the claims only).
        #[arg(long, value_enum, default_value_t = Suite::Quick)]
        suite: Suite,
        /// Keep (layer, variant) pairs whose "layer/variant" matches this regex.
        #[arg(long, value_parser = Filter::parse)]
        filter: Option<Filter>,
        /// Comma-separated ISAs to keep (scalar, portable, avx2, avx512, neon).
        #[arg(long, value_delimiter = ',', value_parser = parse_isa)]
        isa: Option<Vec<Isa>>,
        /// Output directory (default reports/<cpu-slug>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// criterion measurement time per benchmark, seconds (0.001 to 3600).
        #[arg(long, value_parser = parse_seconds)]
        measurement_time: Option<f64>,
        /// criterion warm-up time per benchmark, seconds (0.001 to 3600).
        #[arg(long, value_parser = parse_seconds)]
        warm_up_time: Option<f64>,
        /// Merge into DIR/results.json if it exists, keeping its machine profile; a row measured
        /// again is combined as a repeated round (lower median, union of the intervals): for
        /// interleaved A/B runs.
        #[arg(long)]
        append: bool,
        /// Keep criterion's own console output (warm-up, analysis, outliers).
        #[arg(long)]
        verbose: bool,
        /// The tuning map auto's picks come from (default: $SIMDCONV_TUNING, else
        /// OUT/tuning.json if present; without one, the cost model).
        #[arg(long)]
        tuning: Option<PathBuf>,
        /// Comma-separated thread counts each variant is measured with, e.g. 1,2 (1 is the
        /// single-threaded run; more runs the parallel drivers on a pool of that size).
        #[arg(long, value_delimiter = ',', value_parser = parse_threads, default_value = "1")]
        threads: Vec<usize>,
        /// Comma-separated batch sizes each layer is measured at, e.g. 1,4,16 (a layer at
        /// another batch than its own is named <layer>_b<n>); default: each layer's own (1 in
        /// the catalogue, mb in a benchdnn line).
        #[arg(long, value_delimiter = ',', value_parser = parse_count)]
        batch: Vec<usize>,
        /// Measure the layers of these files instead of a suite's (repeatable): benchdnn
        /// convolution descriptors, one or more per line (see the README for the keys).
        #[arg(long, conflicts_with = "suite")]
        shapes: Vec<PathBuf>,
        /// Comma-separated element types: f32 (always measured), int8 (also the u8s8u8
        /// variants, on the layer's data quantized), bf16 (also the bf16bf16f32 variants, on
        /// the layer's data rounded to bf16); each against the best f32 of the run.
        #[arg(long, value_delimiter = ',', value_parser = parse_dtype, default_value = "f32")]
        dtype: Vec<DType>,
    },
    /// Compare results files (several CPUs), or gate a candidate against a baseline.
    Compare {
        /// Results files; with --baseline, exactly one candidate.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Baseline results: gate mode (exit 1 on a regression, 2 on different machines).
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Largest tolerated slowdown, e.g. 5% or 0.05 (gate mode).
        #[arg(long, default_value = "5%")]
        max_regression: String,
        /// Compare files from different machines by fraction of each machine's peak.
        #[arg(long)]
        allow_cross_machine: bool,
        /// Pass although baseline rows are absent from the candidate (they are listed).
        #[arg(long)]
        allow_missing: bool,
        /// Directory for the comparison page (compare.html).
        #[arg(long)]
        out: Option<PathBuf>,
        /// A note shown at the top of the page (e.g. where the files came from).
        #[arg(long)]
        note: Option<String>,
    },
    /// Time every variant on the networks' layers and a grid (at least 300 layers) within a
    /// budget; write tuning.json (the map ConvPlan::auto reads) and tuning.html (crossover
    /// heatmaps, regret of auto and of other libraries' rules). Resumes an unfinished map.
    Tune {
        /// Time budget: 10m, 90s, 1h, or seconds.
        #[arg(long, default_value = "10m", value_parser = parse_duration)]
        budget: std::time::Duration,
        /// Output directory (default reports/<cpu-slug>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Comma-separated ISAs to keep (scalar, portable, avx2, avx512, neon).
        #[arg(long, value_delimiter = ',', value_parser = parse_isa)]
        isa: Option<Vec<Isa>>,
        /// Keep layers whose name matches this regex.
        #[arg(long, value_parser = Filter::parse)]
        filter: Option<Filter>,
        /// Tune the layers of these files (benchdnn descriptors) instead of the networks and
        /// the grid, adding them to OUT/tuning.json when it holds a map of this machine
        /// (repeatable).
        #[arg(long)]
        shapes: Vec<PathBuf>,
    },
    /// Render index.html from a results.json.
    Report {
        /// The results file.
        results: PathBuf,
        /// Recompute auto's picks with this tuning map (they are also computed, with the map
        /// found as `run` finds it, when the file has none).
        #[arg(long)]
        tuning: Option<PathBuf>,
        /// Output directory (default: the results file's directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the machine profile with measured ceilings.
    Machine {
        /// As JSON.
        #[arg(long)]
        json: bool,
        /// Also measure the ceilings with these thread counts at once, e.g. 2,4 (counts of 1 are
        /// the one-thread ceilings, always measured).
        #[arg(long, value_delimiter = ',', value_parser = parse_threads)]
        threads: Vec<usize>,
    },
    /// List the layer catalogue, or the layers of the user's files (an ONNX model's
    /// convolutions as `--shapes` reads them, and those it cannot measure, with why).
    Shapes {
        /// smoke, quick, full (blocks has no single layers).
        #[arg(long, value_enum, default_value_t = Suite::Full, conflicts_with = "shapes")]
        suite: Suite,
        /// As a benchdnn batch file (one canonical descriptor per layer and network, named
        /// `network:layer`, `*N` for a layer run N times), which `run --shapes` reads back.
        #[arg(long)]
        benchdnn: bool,
        /// The layers of these files (benchdnn problems or ONNX models) instead of a suite.
        #[arg(long)]
        shapes: Vec<PathBuf>,
    },
}

/// `println!` that ends the process quietly when stdout is a closed pipe (`| head`) instead of
/// panicking.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($t)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

mod compare;

use compare::compare_cmd;

/// `reports/<cpu-slug>/`: where `run` and `tune` write by default.
/// The user's layers; the model convolutions that cannot be measured are said on stderr.
fn read_shapes(paths: &[PathBuf]) -> Result<crate::shapes::UserLayers, String> {
    let user = crate::shapes::read(paths)?;
    for g in &user.unknown {
        eprintln!("not measured: {}: {}", g.layer, g.reason);
    }
    Ok(user)
}

fn default_out() -> PathBuf {
    PathBuf::from("reports").join(machine::fingerprint_only().slug())
}

/// `10m`, `90s`, `1h`, `1.5m` or plain seconds; positive and finite.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let scale = match unit {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("\"{s}\": unit must be s, m or h")),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * scale < 1e7 => {
            Ok(std::time::Duration::from_secs_f64(v * scale))
        }
        _ => Err(format!(
            "\"{s}\": expected a positive duration such as 10m or 90s"
        )),
    }
}

/// A per-benchmark time in seconds: finite, from 1 ms to an hour (criterion panics on zero,
/// negative, NaN and durations it cannot represent).
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.001..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!("\"{s}\": expected seconds from 0.001 to 3600")),
    }
}

/// A thread count or batch size: a whole number from 1 to 1024.
fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err(format!("\"{s}\": expected a whole number from 1 to 1024")),
    }
}

/// A thread count no larger than the logical CPUs this process may run on: more threads than
/// CPUs time the OS scheduler, not the kernels (and probing their ceilings takes minutes).
fn parse_threads(s: &str) -> Result<usize, String> {
    let n = parse_count(s)?;
    let cpus = std::thread::available_parallelism().map_or(1, |c| c.get());
    if n > cpus {
        return Err(format!(
            "\"{s}\": {n} threads on {cpus} logical CPU(s) this process may use: more threads than \
             CPUs time the scheduler, not the kernels"
        ));
    }
    Ok(n)
}

/// `--dtype`: one element type (f32 is always measured).
fn parse_dtype(s: &str) -> Result<DType, String> {
    match s.trim() {
        "f32" => Ok(DType::F32),
        "int8" | "u8s8u8" => Ok(DType::U8),
        "bf16" | "bf16bf16f32" => Ok(DType::Bf16),
        other => Err(format!(
            "unknown element type \"{other}\" (f32, int8, bf16)"
        )),
    }
}

fn parse_isa(s: &str) -> Result<Isa, String> {
    Isa::from_name(s)
        .ok_or_else(|| format!("unknown ISA \"{s}\" (scalar, portable, avx2, avx512, neon)"))
}

/// The `simdconv-bench` command line: parses the arguments, runs the command, maps its outcome
/// to the exit code.
pub fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    match Cli::parse().cmd {
        Cmd::Run {
            suite,
            filter,
            isa,
            out,
            measurement_time,
            warm_up_time,
            append,
            verbose,
            tuning,
            mut threads,
            mut batch,
            shapes,
            dtype,
        } => {
            let out = out.unwrap_or_else(default_out);
            let mut opts = RunOptions::for_suite(suite, out);
            if !shapes.is_empty() {
                opts = RunOptions::for_suite(Suite::Shapes, opts.out);
                let user = read_shapes(&shapes)?;
                opts.shapes = user.layers;
                opts.unknown = user.unknown;
            }
            threads.sort_unstable();
            threads.dedup();
            batch.sort_unstable();
            batch.dedup();
            opts.threads = threads;
            opts.batch = batch;
            opts.filter = filter;
            opts.isas = isa;
            opts.verbose = verbose;
            opts.tuning = tuning;
            opts.int8 = dtype.contains(&DType::U8);
            opts.bf16 = dtype.contains(&DType::Bf16);
            if let Some(m) = measurement_time {
                opts.timing.measurement_s = m;
            }
            if let Some(w) = warm_up_time {
                opts.timing.warm_up_s = w;
            }
            run_cmd(&opts, append)?;
        }
        Cmd::Compare {
            files,
            baseline,
            max_regression,
            allow_cross_machine,
            allow_missing,
            out,
            note,
        } => {
            return compare_cmd(
                files,
                baseline,
                &max_regression,
                gate::Allow {
                    cross_machine: allow_cross_machine,
                    missing: allow_missing,
                },
                out,
                note,
            );
        }
        Cmd::Tune {
            budget,
            out,
            isa,
            filter,
            shapes,
        } => tune_cmd(tune::TuneOptions {
            budget,
            out: out.unwrap_or_else(default_out),
            isas: isa,
            filter,
            shapes: if shapes.is_empty() {
                Vec::new()
            } else {
                read_shapes(&shapes)?.layers
            },
        })?,
        Cmd::Report {
            results,
            tuning,
            out,
        } => report_cmd(&results, tuning.as_deref(), out)?,
        Cmd::Machine { json, threads } => {
            let mut m = machine::profile();
            let mut counts: Vec<usize> = threads.into_iter().filter(|&t| t > 1).collect();
            counts.sort_unstable();
            counts.dedup();
            machine::measure_thread_ceilings(&mut m, &counts);
            if json {
                out!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                out!("{}", m.to_string().trim_end());
                out!("fingerprint: {}", m.fingerprint());
            }
        }
        Cmd::Shapes {
            benchdnn,
            shapes: files,
            ..
        } if !files.is_empty() => user_shapes(&files, benchdnn)?,
        Cmd::Shapes {
            suite, benchdnn, ..
        } => shapes(suite, benchdnn)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `tune`: measure (or resume) the map, then its page and summary.
fn tune_cmd(opts: tune::TuneOptions) -> Result<(), Box<dyn std::error::Error>> {
    let out = opts.out.clone();
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let _lock = files::lock_dir(&out)?;
    let file = tune::tune(&opts)?;
    let page = report::tuning::write(&file, &out)?;
    out!("\n{}", tune::summary(&file).trim_end());
    out!(
        "\nwrote {} and {}",
        out.join("tuning.json").display(),
        page.display()
    );
    Ok(())
}

/// `report`: the page and CSV of a results file (auto's picks filled in where missing or asked).
fn report_cmd(
    results: &std::path::Path,
    tuning: Option<&std::path::Path>,
    out: Option<PathBuf>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut res = Results::read(results)?;
    let dir = out.unwrap_or_else(|| results.parent().map(PathBuf::from).unwrap_or_default());
    let mut changed = false;
    if res.auto.is_empty() || tuning.is_some() {
        let here = results.parent().map(PathBuf::from).unwrap_or_default();
        let map = autopick::find_map(tuning, &here, &res)?;
        res.auto = autopick::picks(&res, map);
        changed = true;
    }
    files::ensure_writable(&dir)?;
    // The results file is rewritten (with auto's picks) only where the page goes beside it: a
    // file read from elsewhere (a gate baseline, a CI artifact) is never modified.
    let beside =
        std::fs::canonicalize(dir.join("results.json")).ok() == std::fs::canonicalize(results).ok();
    let from = results.parent().unwrap_or(std::path::Path::new("."));
    let p = report::publish(&res, &dir, from, changed && beside)?;
    out!("wrote {} and {}", p.html.display(), p.csv.display());
    Ok(())
}

/// `shapes`: the catalogue of a suite, with FLOPs and how many variants support each layer.
/// `shapes --shapes FILE`: the user's layers as `run --shapes` reads them; with `--benchdnn`,
/// as a batch file (an ONNX model converted), the convolutions it cannot measure as comments.
fn user_shapes(files: &[PathBuf], benchdnn: bool) -> Result<(), Box<dyn std::error::Error>> {
    let user = read_shapes(files)?;
    if benchdnn {
        let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        out!(
            "# {} as benchdnn convolution problems (simdconv-bench shapes --shapes --benchdnn).",
            names.join(", ")
        );
        for g in &user.unknown {
            out!("# not measured: {}: {}", g.layer, g.reason);
        }
        for l in &user.layers {
            out!("{}", crate::shapes::benchdnn::line(l));
        }
        return Ok(());
    }
    print_layers(&user.layers)
}

fn shapes(suite: Suite, benchdnn: bool) -> Result<(), Box<dyn std::error::Error>> {
    let layers = suite.layers();
    if benchdnn {
        // One section per network, its layers named `network:layer`, so `run --shapes` gives
        // each network its own totals (a layer of two networks is listed in both).
        out!("# The {suite} suite's layers as benchdnn convolution problems (simdconv-bench shapes --benchdnn).");
        let mut nets: Vec<&String> = layers.iter().flat_map(|l| &l.networks).collect();
        nets.sort();
        nets.dedup();
        for net in nets {
            out!("\n# {net}");
            for l in layers.iter().filter(|l| l.networks.contains(net)) {
                let named = Layer {
                    name: format!("{net}:{}", l.name),
                    ..l.clone()
                };
                out!("{}", crate::shapes::benchdnn::line(&named));
            }
        }
        return Ok(());
    }
    print_layers(&layers)
}

/// The layers as a table: name, shape, work, how many variants compute it, networks.
fn print_layers(layers: &[Layer]) -> Result<(), Box<dyn std::error::Error>> {
    out!(
        "{:<34} {:<40} {:>12} {:>9} {:>5}  networks",
        "name",
        "shape",
        "MFLOP",
        "variants",
        "runs"
    );
    for l in layers {
        let s = l.shape()?;
        let n = variants().iter().filter(|v| v.supports(&s).is_ok()).count();
        out!(
            "{:<34} {:<40} {:>12.1} {:>9} {:>5}  {}",
            l.name,
            l.shape.to_string(),
            s.flops() as f64 / 1e6,
            n,
            l.count,
            l.networks.join(",")
        );
    }
    out!("{} layers", layers.len());
    Ok(())
}

/// `run`: select, measure, merge (with `--append`), write results.json and the report.
fn run_cmd(opts: &RunOptions, append: bool) -> Result<(), Box<dyn std::error::Error>> {
    let out = &opts.out;
    // Fail fast on an empty selection or an unwritable directory, before measuring.
    let selection = run::select(opts)?;
    for gap in run::coverage(opts) {
        eprintln!("coverage: {}: {}", gap.layer, gap.reason);
    }
    files::ensure_writable(out)?;
    // One writer per folder, from reading the file appended to until the last rename.
    let _lock = files::lock_dir(out)?;
    let json = out.join("results.json");
    let previous = if append && json.exists() {
        let p = Results::read(&json)?;
        // The gate's rule: times only merge with times from the same hardware.
        let (here, there) = (
            machine::fingerprint_only().fingerprint(),
            p.machine.fingerprint(),
        );
        if here != there {
            return Err(format!(
                "--append: {} was measured on another machine ({there}); this one is {here}: choose another --out",
                json.display()
            )
            .into());
        }
        Some(p)
    } else {
        None
    };
    let res = run::run(
        opts,
        selection,
        previous.as_ref().map(|p| p.machine.clone()),
    )?;
    let mut res = match previous {
        Some(p) => run::merge(p, res),
        None => res,
    };
    // Auto's regrets and the winner table are one-thread answers (the report's scaling section
    // has the rest).
    let one = res.at_fewest_threads();
    let map = autopick::find_map(opts.tuning.as_deref(), out, &one)?;
    res.auto = autopick::picks(&one, map);
    let published = report::publish(&res, out, out, true)?;
    let (csv, html) = (&published.csv, &published.html);
    out!("\nwinner per layer (ties: intervals overlap):");
    out!("{}", console::winner_table(&one).trim_end());
    for &t in res.thread_counts().iter().skip(1) {
        out!("\nwinner per layer on {t} threads:");
        out!("{}", console::winner_table(&res.at_threads(t)).trim_end());
    }
    out!("{}", autopick::console_line(&res.auto));
    let low = console::lowp_table(&res);
    if !low.is_empty() {
        out!("\nwhat low precision buys (best int8 / bf16 per layer against the best f32; errors over the output range):\n{}", low.trim_end());
    }
    // After auto's picks are in: the totals set auto beside the bound and the rules.
    let totals = console::totals_table(&res.at_fewest_threads());
    if !totals.is_empty() {
        out!("\nnetwork totals (one thread; each layer's median x its count):");
        out!("{}", totals.trim_end());
    }
    out!(
        "\nwrote {}, {} and {}",
        json.display(),
        csv.display(),
        html.display()
    );
    // Published either way (red rows on the page), then the run fails.
    let failures = run::tolerance_failures(&res);
    if !failures.is_empty() {
        eprintln!(
            "\nFAILED: {} result(s) over their tolerance or not finite:",
            failures.len()
        );
        for f in &failures {
            eprintln!("  {f}");
        }
        return Err(format!("{} result(s) failed the accuracy check", failures.len()).into());
    }
    Ok(())
}
