#!/usr/bin/env bash
# The second command on a fresh machine (and what CI runs): installs the npm packages and the pinned Temporal CLI,
# makes sure Postgres is up for the Postgres tests, then `npm test` (build, then jest; jest's global setup starts a
# headless Temporal dev server when none listens at TEMPORAL_ADDRESS, default 127.0.0.1:7233).
# Extra arguments go to jest: scripts/test.sh test/cli.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup.sh

echo "==> Postgres" >&2
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1; then
  echo "Postgres is accepting connections on 127.0.0.1" >&2
elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql)" ]; then
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
  pg_isready -h 127.0.0.1 >&2 || { echo "Postgres did not start" >&2; exit 1; }
else
  echo "warning: no Postgres on 127.0.0.1 and no pg_ctlcluster to start one: the Postgres tests will fail" >&2
  echo "         (set SLUICE_TEST_PG_URL to a database the tests may create tables and roles in)" >&2
fi

echo "==> npm test" >&2
npm test -- "$@"
