#!/usr/bin/env bash
# One command: install what is missing, lint, then the whole suite twice:
# on the embedded default (SQLite + in-process store) and on PostgreSQL + Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
.venv/bin/ruff check .

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
# Started before pass 1 too: the key-value store's tests run against Redis in both passes.
if ! pg_up && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  sleep 2
fi
if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    >/dev/null || true
  sleep 1
fi
# A fresh PostgreSQL (just installed by bootstrap) has no role or database for the tests.
if pg_up && [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null 2>&1 \
    && ! psql "${TEST_PG_ADMIN_URL:-postgres://root@127.0.0.1:5432/test}" -qc 'select 1' \
      >/dev/null 2>&1 && [ -z "${TEST_PG_ADMIN_URL:-}" ]; then
  runuser -u postgres -- psql -qc "DO \$\$ BEGIN CREATE ROLE root SUPERUSER LOGIN \
    PASSWORD 'test'; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" >/dev/null || true
  runuser -u postgres -- createdb -O root test 2>/dev/null || true
  export TEST_PG_ADMIN_URL=postgres://root:test@127.0.0.1:5432/test
fi

echo "== pass 1: embedded default (SQLite, in-process store)"
TEST_BACKEND=embedded .venv/bin/pytest -q "$@"

if pg_up && redis_up; then
  echo "== pass 2: PostgreSQL (127.0.0.1:5432) + Redis (127.0.0.1:6379)"
  TEST_BACKEND=services .venv/bin/pytest -q "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "pass 2 FAILED: PostgreSQL or Redis is not reachable on 127.0.0.1 under CI" >&2
  exit 1
else
  echo "== pass 2 skipped: PostgreSQL and Redis are not installed or not running on this machine"
fi
