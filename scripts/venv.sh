#!/usr/bin/env bash
# The project's Python environment (.venv, ignored by git): onnx, to write test models and to
# give the ONNX .proto that scripts/gen-onnx-proto.sh compiles. Idempotent; prints its python.
set -euo pipefail
cd "$(dirname "$0")/.."
ONNX_VERSION=1.23.2
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import onnx, sys; sys.exit(onnx.__version__ != '$ONNX_VERSION')" 2>/dev/null; then
  .venv/bin/pip install -q "onnx==$ONNX_VERSION" >&2
fi
echo "$PWD/.venv/bin/python"
