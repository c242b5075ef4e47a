#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: checks Node.js, installs the npm packages when missing or stale, and the
# pinned Temporal CLI (scripts/install-temporal.sh). Runs from the repository root.

node -e 'const [maj, min] = process.versions.node.split(".").map(Number); process.exit(maj > 20 || (maj === 20 && min >= 3) ? 0 : 1)' \
  || { echo "sluice needs Node.js 20.3 or newer (found $(node --version))" >&2; exit 1; }

# npm ci when node_modules is missing or older than the lock file (npm records what it installed in .package-lock.json).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci" >&2
  npm ci --no-audit --no-fund
fi

echo "==> Temporal CLI" >&2
bash scripts/install-temporal.sh >/dev/null
