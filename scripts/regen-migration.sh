#!/usr/bin/env bash
# Until the first release the schema is one initial migration, regenerated from the models.
# After a release, add migrations with `.venv/bin/tortoise makemigrations` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f server/migrations/0001_initial.py
tmp=$(mktemp -d)
DATA_DIR="$tmp" .venv/bin/tortoise makemigrations >/dev/null
rm -rf "$tmp"
ls server/migrations/
