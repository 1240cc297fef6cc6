#!/usr/bin/env bash
# Regenerates bench-harness/src/onnx/proto.rs from the onnx package's onnx.proto (the version
# pinned in scripts/venv.sh) with prost-build; only prost, its runtime, is a dependency of the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/venv.sh)
proto=$("$py" -c "import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), 'onnx.proto'))")
out=bench-harness/src/shapes/onnx/proto.rs
cargo run -q --release --manifest-path scripts/onnx-proto/Cargo.toml -- "$proto" "$PWD/$out"
rustfmt --edition 2021 "$out"
echo "wrote $out"
