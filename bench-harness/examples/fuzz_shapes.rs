//! A time-bounded fuzzer for the `--shapes` readers. Half the cases are the catalogue's layers
//! as benchdnn lines, mutated at random (digits made huge or zero, keys inserted, dropped or
//! repeated, quotes, comments, options and multi-byte text spliced in); every layer a case
//! yields must have a valid shape, and its canonical line must read back as the same shape. The
//! other half are the sample ONNX model with bytes changed, inserted, dropped or cut (a changed
//! byte is often a dimension, an attribute or a name); every layer read must have a valid shape.
//! Every case must return or fail with an error; a panic or a case slower than 1 s is a failure
//! (exit 1).
//!
//!     cargo run --release -p simdconv-bench --example fuzz_shapes -- SECONDS [SEED]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simdconv_bench::bench::Suite;
use simdconv_bench::inputs::{benchdnn, benchdnn_line, onnx, onnx_sample};

const SLOW_CASE: Duration = Duration::from_secs(1);

const PIECES: &[&str] = &[
    "g",
    "mb",
    "ic",
    "ih",
    "iw",
    "oc",
    "oh",
    "ow",
    "kh",
    "kw",
    "sh",
    "sw",
    "ph",
    "pw",
    "dh",
    "dw",
    "id",
    "kd",
    "n",
    "n\"",
    "\"",
    "_",
    "*",
    "*0",
    "*3",
    "#",
    "\n",
    " ",
    "--mb=",
    "--batch=x",
    "--dir=BWD_D",
    "--cfg=f32",
    "--deconv",
    "0",
    "1",
    "18446744073709551616",
    "4294967296",
    "99999",
    "é",
    "\u{202e}",
    "\t",
    ":",
];

fn mutate(text: &mut String, rng: &mut ChaCha8Rng) {
    let mut bytes: Vec<char> = text.chars().collect();
    for _ in 0..rng.random_range(1..6) {
        let at = rng.random_range(0..=bytes.len());
        match rng.random_range(0..4) {
            0 => {
                let p = PIECES[rng.random_range(0..PIECES.len())];
                bytes.splice(at..at, p.chars());
            }
            1 if !bytes.is_empty() => {
                let end = (at + rng.random_range(1..8)).min(bytes.len());
                let at = at.min(end);
                bytes.drain(at..end);
            }
            2 if !bytes.is_empty() => {
                let from = rng.random_range(0..bytes.len());
                let end = (from + rng.random_range(1..40)).min(bytes.len());
                let copy: Vec<char> = bytes[from..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => {
                let digits = rng.random_range(1..25);
                let d: String = (0..digits)
                    .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                    .collect();
                bytes.splice(at..at, d.chars());
            }
        }
    }
    *text = bytes.into_iter().collect();
}

fn case(text: &str) -> Result<usize, String> {
    let layers = match benchdnn(text) {
        Ok(l) => l,
        Err(_) => return Ok(0),
    };
    for l in &layers {
        l.shape()
            .map_err(|e| format!("accepted layer {} has an invalid shape: {e}", l.name))?;
        let back = benchdnn(&benchdnn_line(l))
            .map_err(|e| format!("the line of {} does not read back: {e}", l.name))?;
        if back.len() != 1 || back[0].shape != l.shape || back[0].count != l.count {
            return Err(format!("{} changes through its benchdnn line", l.name));
        }
    }
    Ok(layers.len())
}

/// A few byte changes to a model: mostly one byte set or nudged, sometimes bytes inserted,
/// dropped, or the tail cut.
fn mutate_bytes(bytes: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    for _ in 0..rng.random_range(1..5) {
        if bytes.is_empty() {
            return;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..10) {
            0..=4 => bytes[at] = rng.random(),
            5 | 6 => bytes[at] = bytes[at].wrapping_add(if rng.random() { 1 } else { 255 }),
            7 => bytes.insert(at, rng.random()),
            8 => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at),
        }
    }
}

fn onnx_case(bytes: &[u8]) -> Result<usize, String> {
    let Ok((layers, _)) = onnx(bytes, "m") else {
        return Ok(0);
    };
    for l in &layers {
        l.shape()
            .map_err(|e| format!("accepted layer {} has an invalid shape: {e}", l.name))?;
    }
    Ok(layers.len())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let base: Vec<String> = Suite::Full
        .layers()
        .iter()
        .map(|l| benchdnn_line(l).replace("g1mb1_", "mb1_"))
        .collect();
    let model = onnx_sample();
    let fail = |input: &str, why: &str| fail(input, &format!("{why} (seed {seed})"));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = Instant::now();
    let (mut cases, mut accepted, mut models) = (0u64, 0u64, 0u64);
    while start.elapsed() < Duration::from_secs(seconds) {
        cases += 1;
        if cases % 2 == 0 {
            let mut bytes = model.clone();
            mutate_bytes(&mut bytes, &mut rng);
            let t = Instant::now();
            let got = catch_unwind(AssertUnwindSafe(|| onnx_case(&bytes)));
            let slow = t.elapsed() > SLOW_CASE;
            match got {
                Ok(Ok(n)) if !slow => models += u64::from(n > 0),
                Ok(Ok(_)) => fail(&format!("{bytes:?}"), "slower than 1 s"),
                Ok(Err(e)) => fail(&format!("{bytes:?}"), &e),
                Err(_) => fail(&format!("{bytes:?}"), "panicked"),
            }
            continue;
        }
        let lines = rng.random_range(1..4);
        let mut text: String = (0..lines)
            .map(|_| base[rng.random_range(0..base.len())].clone() + "\n")
            .collect();
        mutate(&mut text, &mut rng);
        let t = Instant::now();
        let got = catch_unwind(AssertUnwindSafe(|| case(&text)));
        let slow = t.elapsed() > SLOW_CASE;
        match got {
            Ok(Ok(n)) if !slow => accepted += n as u64,
            Ok(Ok(_)) => fail(&text, "slower than 1 s"),
            Ok(Err(e)) => fail(&text, &e),
            Err(_) => fail(&text, "panicked"),
        }
    }
    println!(
        "fuzz_shapes: {cases} cases, {accepted} benchdnn layers accepted, {models} mutated models \
         read, no panic, no hang (seed {seed})"
    );
}

fn fail(text: &str, why: &str) -> ! {
    eprintln!("fuzz_shapes: {why} on input:\n{text:?}");
    std::process::exit(1);
}
