#!/usr/bin/env bash
# The first command on a fresh machine (Node.js 20, Python 3 with pip): installs what is missing, builds, and runs
# `sluice demo` (a Temporal dev server with its Web UI, a worker, a local rate-limited API and a live 3,000-item job).
# Extra arguments go to the demo: scripts/demo.sh --keep
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [maj, min] = process.versions.node.split(".").map(Number); process.exit(maj > 20 || (maj === 20 && min >= 3) ? 0 : 1)' \
  || { echo "sluice needs Node.js 20.3 or newer (found $(node --version))" >&2; exit 1; }

# npm ci when node_modules is missing or older than the lock file (npm records what it installed in .package-lock.json).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci" >&2
  npm ci --no-audit --no-fund
fi

echo "==> Temporal CLI" >&2
bash scripts/install-temporal.sh >/dev/null

echo "==> npm run build" >&2
npm run --silent build

exec node lib/src/client/cli.js demo "$@"
