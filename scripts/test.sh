#!/usr/bin/env bash
# The test command: the whole workspace on this machine, then the kernels' test suite built for
# aarch64 and run under qemu-user (the NEON and portable variants against the reference; the
# scalar ones are the same source as on the host, where they ran), then the check that the NEON
# hot loops are `fmla` without calls.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== x86-64 (host) tests"
cargo test --workspace
echo "== aarch64 tests under qemu"
scripts/setup-cross.sh
start=$(date +%s)
SIMDCONV_VARIANTS=neon,portable cargo test -p simdconv --target aarch64-unknown-linux-gnu
echo "aarch64 build + tests under qemu took $(( $(date +%s) - start )) s"
echo "== NEON disassembly check"
scripts/check-neon-asm.sh
