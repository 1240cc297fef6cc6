//! `simdconv-bench`: run | report | machine | shapes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use simdconv::{variants, Isa};
use simdconv_bench::results::Results;
use simdconv_bench::run::{self, RunOptions};
use simdconv_bench::{catalogue, machine, report};

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
        /// smoke (< 1 min), quick (the 14 layers of the first catalogue) or full (every layer).
        #[arg(long, default_value = "quick", value_parser = ["smoke", "quick", "full"])]
        suite: String,
        /// Keep (layer, variant) pairs whose "layer/variant" matches this regex.
        #[arg(long)]
        filter: Option<String>,
        /// Comma-separated ISAs to keep (scalar, portable, avx2, avx512, neon).
        #[arg(long, value_delimiter = ',', value_parser = parse_isa)]
        isa: Option<Vec<Isa>>,
        /// Output directory (default reports/<cpu-slug>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// criterion measurement time per benchmark, seconds.
        #[arg(long)]
        measurement_time: Option<f64>,
        /// criterion warm-up time per benchmark, seconds.
        #[arg(long)]
        warm_up_time: Option<f64>,
    },
    /// Render index.html from a results.json.
    Report {
        /// The results file.
        results: PathBuf,
        /// Output directory (default: the results file's directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the machine profile with measured ceilings.
    Machine {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the layer catalogue.
    Shapes {
        /// smoke, quick or full.
        #[arg(long, default_value = "full", value_parser = ["smoke", "quick", "full"])]
        suite: String,
    },
}

fn parse_isa(s: &str) -> Result<Isa, String> {
    Isa::from_name(s)
        .ok_or_else(|| format!("unknown ISA \"{s}\" (scalar, portable, avx2, avx512, neon)"))
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().cmd {
        Cmd::Run {
            suite,
            filter,
            isa,
            out,
            measurement_time,
            warm_up_time,
        } => {
            let out = out.unwrap_or_else(|| {
                PathBuf::from("reports").join(machine::fingerprint_only().slug())
            });
            let mut opts = RunOptions::for_suite(&suite, out.clone());
            opts.filter = filter;
            opts.isas = isa;
            if let Some(m) = measurement_time {
                opts.measurement_s = m;
            }
            if let Some(w) = warm_up_time {
                opts.warm_up_s = w;
            }
            // Fail fast on an empty selection or an unwritable directory, before measuring.
            run::select(&opts)?;
            std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let res = run::run(&opts)?;
            let json = out.join("results.json");
            res.write(&json)?;
            let html = report::write(&res, &out)?;
            println!("wrote {} and {}", json.display(), html.display());
        }
        Cmd::Report { results, out } => {
            let res = Results::read(&results)?;
            let dir =
                out.unwrap_or_else(|| results.parent().map(PathBuf::from).unwrap_or_default());
            let html = report::write(&res, &dir)?;
            println!("wrote {}", html.display());
        }
        Cmd::Machine { json } => {
            let m = machine::profile();
            if json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                print!("{m}");
                println!("fingerprint: {}", m.fingerprint());
            }
        }
        Cmd::Shapes { suite } => {
            let layers = catalogue::suite(&suite).ok_or("unknown suite")?;
            println!(
                "{:<34} {:>4} {:>5} {:>5} {:>3} {:>2} {:>2} {:>4} {:>12} {:>9}  networks",
                "name", "hw", "c", "k", "rs", "s", "p", "g", "MFLOP", "variants"
            );
            for l in &layers {
                let s = l.shape()?;
                let n = variants().iter().filter(|v| v.supports(&s).is_ok()).count();
                println!(
                    "{:<34} {:>4} {:>5} {:>5} {:>3} {:>2} {:>2} {:>4} {:>12.1} {:>9}  {}",
                    l.name,
                    l.hw,
                    l.c,
                    l.k,
                    l.rs,
                    l.stride,
                    l.pad,
                    l.groups,
                    s.flops() as f64 / 1e6,
                    n,
                    l.networks.join(",")
                );
            }
            println!("{} layers", layers.len());
        }
    }
    Ok(())
}
