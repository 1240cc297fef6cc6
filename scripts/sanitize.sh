#!/usr/bin/env bash
# Memory-safety checks of the kernels: the scalar, portable and AVX2 paths under Miri (small
# shapes), the parallel drivers under Miri's data-race detector, then the whole test suite, every
# SIMD path included, under AddressSanitizer. Installs the nightly toolchain with Miri if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal --component miri,rust-src
fi
cargo +nightly miri setup >/dev/null 2>&1 || cargo +nightly miri setup
echo "== Miri (scalar, portable, AVX2+FMA; AVX2 enabled at compile time so Miri 'detects' it)"
start=$(date +%s)
log=$(mktemp)
status=0
RUSTFLAGS="-C target-feature=+avx2,+fma" MIRIFLAGS="-Zmiri-disable-isolation" \
  CARGO_TARGET_DIR=target/miri \
  cargo +nightly miri test -p simdconv --test sweep --test props -- --nocapture >"$log" 2>&1 || status=$?
grep -E "test result|pairs|panicked|Undefined Behavior|FAILED" "$log" || true
[ $status -eq 0 ] || { tail -40 "$log"; exit 1; }
echo "Miri took $(( $(date +%s) - start )) s"
echo "== Miri data-race check of the parallel drivers (tree borrows: rayon's crossbeam-epoch trips"
echo "   the stricter stacked-borrows model; leaks ignored: pool threads outlive the test)"
start=$(date +%s)
status=0
RUSTFLAGS="-C target-feature=+avx2,+fma" \
  MIRIFLAGS="-Zmiri-disable-isolation -Zmiri-tree-borrows -Zmiri-ignore-leaks" \
  CARGO_TARGET_DIR=target/miri \
  cargo +nightly miri test -p simdconv --test parallel -- --nocapture >"$log" 2>&1 || status=$?
grep -E "test result|pairs|panicked|Undefined Behavior|Data race|FAILED" "$log" || true
[ $status -eq 0 ] || { tail -40 "$log"; exit 1; }
echo "Miri (parallel) took $(( $(date +%s) - start )) s"
echo "== AddressSanitizer (every test binary, every SIMD path this CPU has; doctests do not link under ASan)"
start=$(date +%s)
status=0
# allocator_may_return_null: an impossible allocation returns null, as the system allocator's
# does, so the tests of fallible allocation (ConvError::OutOfMemory) test that path under ASan too.
ASAN_OPTIONS=allocator_may_return_null=1 RUSTFLAGS="-Zsanitizer=address" CARGO_TARGET_DIR=target/asan \
  cargo +nightly test -p simdconv --target x86_64-unknown-linux-gnu --tests -- --nocapture >"$log" 2>&1 || status=$?
grep -E "test result|pairs ran|ERROR: AddressSanitizer|panicked|FAILED" "$log" || true
[ $status -eq 0 ] || { tail -40 "$log"; exit 1; }
rm -f "$log"
echo "ASan took $(( $(date +%s) - start )) s"
