//! `compare`: several results files side by side, two tuning maps side by side, or a baseline
//! against a candidate through the regression gate (its decision is `gate.rs`'s; this prints it
//! and maps it to the exit code).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::compare::{self, Input};
use crate::gate::{self, Gate};
use crate::report;
use crate::schema::results::{write_atomic, Results};

/// Whether `p` is a tuning map (by its schema field).
fn is_tuning_file(p: &std::path::Path) -> bool {
    crate::files::read_capped(p, crate::schema::results::MAX_FILE_BYTES)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("schema").and_then(|s| s.as_str()).map(str::to_string))
        .is_some_and(|s| {
            s == simdconv::auto::TUNING_SCHEMA || s == simdconv::auto::TUNING_SCHEMA_V1
        })
}

pub(crate) fn compare_cmd(
    files: Vec<PathBuf>,
    baseline: Option<PathBuf>,
    max_regression: &str,
    allow: gate::Allow,
    out: Option<PathBuf>,
    note: Option<String>,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if baseline.is_none() && files.iter().all(|f| is_tuning_file(f)) {
        let maps = files
            .iter()
            .map(|p| {
                Ok((
                    p.display().to_string(),
                    crate::schema::tuning::TuningFile::read(p)?,
                ))
            })
            .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
        let html = report::tuning::compare_page(&maps, note.as_deref())?;
        let dir = out.unwrap_or_else(|| PathBuf::from("reports").join("compare"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let page = dir.join("tuning-compare.html");
        write_atomic(&page, html.as_bytes())?;
        out!("wrote {}", page.display());
        return Ok(ExitCode::SUCCESS);
    }
    let load = |tag: usize, p: &PathBuf| -> Result<Input, Box<dyn std::error::Error>> {
        Ok(Input {
            tag: compare::label(tag),
            path: p.display().to_string(),
            results: Results::read(p)?,
        })
    };
    if let Some(base) = baseline {
        return Ok(gate_cmd(
            &base,
            &files,
            max_regression,
            allow,
            out.as_deref(),
        ));
    }
    // The side-by-side page compares one-thread runs (each file at its lowest thread count).
    let inputs: Vec<Input> = files
        .iter()
        .enumerate()
        .map(|(i, p)| {
            load(i, p).map(|mut input| {
                input.results = input.results.at_fewest_threads();
                input
            })
        })
        .collect::<Result<_, _>>()?;
    out!("{}", compare::summary(&inputs).trim_end());
    let dir = out.unwrap_or_else(|| PathBuf::from("reports").join("compare"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let page = dir.join("compare.html");
    write_atomic(&page, compare::render(&inputs, note.as_deref())?.as_bytes())?;
    out!("wrote {}", page.display());
    Ok(ExitCode::SUCCESS)
}

/// `compare --baseline`: the gate's verdict, printed first, then its page. Exit codes (the
/// README's table): 0 pass, 1 regression or missing rows, 2 usage error, 3 refused (files that
/// cannot be gated, different machines), 4 a file that cannot be read or written.
fn gate_cmd(
    base: &Path,
    files: &[PathBuf],
    max_regression: &str,
    allow: gate::Allow,
    out: Option<&Path>,
) -> ExitCode {
    let fail = |code: u8, msg: String| {
        eprintln!("error: {msg}");
        ExitCode::from(code)
    };
    if files.len() != 1 {
        let msg = format!(
            "with --baseline, give exactly one candidate file (got {})",
            files.len()
        );
        return fail(gate::EXIT_USAGE, msg);
    }
    let threshold = match gate::parse_threshold(max_regression) {
        Ok(t) => t,
        Err(e) => return fail(gate::EXIT_USAGE, e),
    };
    let load = |tag: usize, p: &Path| {
        Results::read(p).map(|results| Input {
            tag: compare::label(tag),
            path: p.display().to_string(),
            results,
        })
    };
    let (b, c) = match (load(0, base), load(1, &files[0])) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => return fail(gate::EXIT_IO, e.to_string()),
    };
    let verdict = gate::gate(&b.results, &c.results, threshold, allow);
    print_gate(&verdict, max_regression);
    if let Some(dir) = out {
        let page = dir.join("gate.html");
        let html = compare::gate_page(&b, &c, &verdict, max_regression);
        let written = std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))
            .and_then(|()| write_atomic(&page, html.as_bytes()).map_err(|e| e.to_string()));
        match written {
            Ok(()) => eprintln!("wrote {}", page.display()),
            Err(e) => return fail(gate::EXIT_IO, format!("the gate page: {e}")),
        }
    }
    ExitCode::from(verdict.exit_code())
}

/// The gate's decision on the console: the verdict, then its rows or reasons.
fn print_gate(verdict: &Gate, max_regression: &str) {
    match verdict {
        Gate::Pass { compared, missing } => {
            out!(
                "ok: {compared} rows compared, none slower than {max_regression} beyond the noise"
            );
            for m in missing {
                out!("  not in the candidate: {m}");
            }
        }
        Gate::Regressed { rows, compared } => {
            out!("REGRESSION: {} of {compared} rows slower than {max_regression} with non-overlapping intervals:", rows.len());
            out!("{}", compare::gate_table(rows).trim_end());
        }
        Gate::Missing { missing, compared } => {
            out!("FAIL: {} baseline rows are not in the candidate ({compared} rows compared; --allow-missing accepts this):", missing.len());
            for m in missing {
                out!("  not in the candidate: {m}");
            }
        }
        Gate::Invalid { problems } => {
            eprintln!("error: these files cannot be gated:");
            for p in problems {
                eprintln!("  {p}");
            }
        }
        Gate::DifferentMachines { base, cand } => {
            eprintln!(
                "error: refusing to compare times from different machines:\n  baseline:  {base}\n  candidate: {cand}\n(pass --allow-cross-machine to compare fractions of each machine's peak instead)"
            );
        }
    }
}
