#!/usr/bin/env bash
# Same-runner A/B: builds two git revisions in separate worktrees and target dirs, runs the quick
# suite for each, interleaved layer by layer (A, B, B, A, ...) so that drift on the machine hits
# both alike, for several rounds, then gates the candidate against the baseline. Rounds are
# merged by `run --append` (lower median, union of intervals): criterion's interval only sees
# the noise within one burst of samples, the rounds add the drift between bursts.
#
#   scripts/ab.sh BASE_REV CANDIDATE_REV [--max-regression 5%] [--suite quick] [--rounds 3]
#                 [--layers REGEX] [--variants REGEX] [--out DIR]
#
# --layers and --variants narrow the run to the layers and variants (names, regex) a change
# touches, e.g. --layers 'dw_112_s2' --variants 'depthwise-avx2'.
#
# AB_CACHE=DIR keeps the worktrees and target dirs between invocations (incremental builds).
#
# Exit status: the gate's (0 pass, 1 regression, 2 usage, 3 refused, 4 unreadable file), or 5 for
# a usage or build error of this script.
set -euo pipefail
usage() { echo "usage: $0 BASE_REV CANDIDATE_REV [--max-regression 5%] [--suite quick] [--rounds N] [--layers REGEX] [--variants REGEX] [--out DIR]" >&2; exit 5; }
[ $# -ge 2 ] || usage
base_rev=$1; cand_rev=$2; shift 2
max=5%; suite=quick; out=reports/ab; rounds=3; layer_re=.; variant_re=.
while [ $# -gt 0 ]; do
  case "$1" in
    --max-regression) max=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --layers) layer_re=$2; shift 2 ;;
    --variants) variant_re=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) usage ;;
  esac
done
root=$(git rev-parse --show-toplevel)
work=${AB_CACHE:-$(mktemp -d)}
mkdir -p "$work"
cleanup() {
  git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true
  git -C "$root" worktree remove --force "$work/cand" >/dev/null 2>&1 || true
  [ -n "${AB_CACHE:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cleanup
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/base/results.json" "$out/cand/results.json"
for side in base cand; do
  rev=$base_rev; [ $side = cand ] && rev=$cand_rev
  git -C "$root" worktree add --detach "$work/$side" "$rev" >/dev/null
  echo "== building $side ($rev)"
  (cd "$work/$side" && CARGO_TARGET_DIR="$work/target-$side" cargo build --release -q -p simdconv-bench) || exit 5
done
bin_base="$work/target-base/release/simdconv-bench"
bin_cand="$work/target-cand/release/simdconv-bench"
# The candidate's catalogue decides the layers; both binaries accept the same names.
layers=$("$bin_cand" shapes --suite "$suite" | awk 'NR > 1 && NF > 8 { print $1 }' | grep -E -- "$layer_re")
pin=""; command -v taskset >/dev/null 2>&1 && pin="taskset -c $(( $(nproc) - 1 ))"
turn=0
for r in $(seq 1 "$rounds"); do
  for layer in $layers; do
    turn=$((turn + 1))
    # Alternate which side goes first, per layer and per round, so neither side of a layer
    # always runs second (on a warmer machine).
    if [ $(((turn + r) % 2)) -eq 1 ]; then order="base cand"; else order="cand base"; fi
    for side in $order; do
      bin=$bin_base; [ $side = cand ] && bin=$bin_cand
      echo "== round $r, $layer: $side"
      $pin "$bin" run --suite "$suite" --filter "^${layer}/.*(${variant_re})" --append --out "$out/$side" >/dev/null 2>&1 || {
        echo "   ($side has nothing to run for $layer)"; }
    done
  done
done
set +e
"$bin_cand" compare --baseline "$out/base/results.json" "$out/cand/results.json" --max-regression "$max"
status=$?
"$bin_cand" compare "$out/base/results.json" "$out/cand/results.json" --out "$out" >/dev/null
exit $status
