#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, load demo data, serve on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python -m server migrate
.venv/bin/python -m server seed-demo
exec .venv/bin/python -m server serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"
