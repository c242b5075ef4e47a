#!/usr/bin/env bash
# The first command on a fresh machine (Node.js 20, Python 3 with pip): installs what is missing, builds, and runs
# `sluice demo` (a Temporal dev server with its Web UI, a worker, a local rate-limited API and a live 3,000-item job).
# Extra arguments go to the demo: scripts/demo.sh --keep
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup.sh

echo "==> npm run build" >&2
npm run --silent build

exec node lib/src/client/cli.js demo "$@"
