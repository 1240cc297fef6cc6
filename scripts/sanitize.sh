#!/usr/bin/env bash
# Memory-safety checks of the kernels: the scalar, portable and AVX2 paths under Miri (small
# shapes; int8 and bf16 too), the parallel drivers under Miri's data-race detector, then the whole test suite, every
# SIMD path included, under AddressSanitizer. Installs the nightly toolchain with Miri if missing.
# The Miri sweep (the longest part, single-threaded) runs beside the rest: two cores, two jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal --component miri,rust-src
fi
cargo +nightly miri setup >/dev/null 2>&1 || cargo +nightly miri setup
export RUSTFLAGS="-C target-feature=+avx2,+fma"
miri() { CARGO_TARGET_DIR=target/miri cargo +nightly miri test -p simdconv "$@"; }
# Build first, so the two Miri runs below only interpret.
miri --test sweep --test props --test parallel --test quant --test bf16 --no-run -q
logs=$(mktemp -d)
sweep=
trap '[ -z "$sweep" ] || kill "$sweep" 2>/dev/null || true; rm -rf "$logs"' EXIT
# Prints the summary lines of a log; on failure its tail too, and exits.
report() {
  local name=$1 status=$2 log=$3
  grep -E "test result|pairs|panicked|Undefined Behavior|Data race|ERROR: AddressSanitizer|FAILED" "$log" || true
  [ "$status" -eq 0 ] || { echo "$name failed:"; tail -40 "$log"; exit 1; }
}
echo "== Miri sweep (scalar, portable, AVX2+FMA; AVX2 enabled at compile time so Miri 'detects' it), in the background"
(
  start=$(date +%s)
  status=0
  MIRIFLAGS="-Zmiri-disable-isolation" miri --test sweep -- --nocapture >"$logs/sweep" 2>&1 || status=$?
  echo "$status $(( $(date +%s) - start ))" >"$logs/sweep.done"
) &
sweep=$!
echo "== Miri property tests"
start=$(date +%s)
status=0
MIRIFLAGS="-Zmiri-disable-isolation" miri --test props -- --nocapture >"$logs/props" 2>&1 || status=$?
report "Miri (props)" $status "$logs/props"
echo "Miri (props) took $(( $(date +%s) - start )) s"
echo "== Miri data-race check of the parallel drivers (tree borrows: rayon's crossbeam-epoch trips"
echo "   the stricter stacked-borrows model; leaks ignored: pool threads outlive the test)"
start=$(date +%s)
status=0
MIRIFLAGS="-Zmiri-disable-isolation -Zmiri-tree-borrows -Zmiri-ignore-leaks" \
  miri --test parallel -- --nocapture >"$logs/parallel" 2>&1 || status=$?
report "Miri (parallel)" $status "$logs/parallel"
echo "Miri (parallel) took $(( $(date +%s) - start )) s"
# One low-precision suite under Miri: its name, its log, then the test binary and filter.
miri_lowp() {
  local name=$1 log=$2
  shift 2
  local start status=0
  start=$(date +%s)
  MIRIFLAGS="-Zmiri-disable-isolation" miri "$@" >"$logs/$log" 2>&1 || status=$?
  report "Miri ($name)" $status "$logs/$log"
  echo "Miri ($name) took $(( $(date +%s) - start )) s"
}
echo "== Miri int8 (scalar and AVX2 rows: the extremes family on its smallest shapes)"
miri_lowp int8 quant --test quant -- extremes
echo "== Miri bf16 (the scalar rows: the sweep on its smallest shapes)"
miri_lowp bf16 bf16 --test bf16 -- sweep
unset RUSTFLAGS
echo "== AddressSanitizer (every test binary, every SIMD path this CPU has; doctests do not link under ASan)"
start=$(date +%s)
status=0
# allocator_may_return_null: an impossible allocation returns null, as the system allocator's
# does, so the tests of fallible allocation (ConvError::OutOfMemory) test that path under ASan too.
ASAN_OPTIONS=allocator_may_return_null=1 RUSTFLAGS="-Zsanitizer=address" CARGO_TARGET_DIR=target/asan \
  cargo +nightly test -p simdconv --target x86_64-unknown-linux-gnu --tests -- --nocapture >"$logs/asan" 2>&1 || status=$?
report "ASan" $status "$logs/asan"
echo "ASan took $(( $(date +%s) - start )) s"
echo "== Miri sweep (waiting for it)"
wait "$sweep" || true
sweep=
read -r status took <"$logs/sweep.done"
report "Miri (sweep)" "$status" "$logs/sweep"
echo "Miri (sweep) took $took s"
