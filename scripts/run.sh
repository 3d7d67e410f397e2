#!/usr/bin/env bash
# One command for a fresh machine: install what is missing, load demo data, serve on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python -m server migrate
.venv/bin/python -m server seed-demo
echo
echo "H5 client (open on a phone-sized window): http://${HOST:-127.0.0.1}:${PORT:-8000}/app/"
echo "  sell a demo house: log in as demo-wuqiang, 核验并出售, fill in the contract (ID numbers"
echo "  in the table above) with 周敏 as the buyer, open the invitation link in a second tab,"
echo "  log in there as demo-zhoumin and accept; both read and confirm, then sign."
echo
exec .venv/bin/python -m server serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"
