#!/usr/bin/env bash
# The runtime reference for a results folder: creates the project's venv with onnxruntime if
# needed, then runs scripts/runtimes.py pinned to one core (core 1 where there is one, as `run`
# is measured). Writes RESULTS_DIR/runtimes.json; `simdconv-bench report RESULTS_DIR` shows it.
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_VERSION=1.32.0
py=$(scripts/venv.sh)
if ! "$py" -c "import onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$ORT_VERSION')" 2>/dev/null; then
  .venv/bin/pip install -q "onnxruntime==$ORT_VERSION" >&2
fi
core=$(( $(nproc) > 1 ? 1 : 0 ))
exec taskset -c "$core" "$py" scripts/runtimes.py "$@"
