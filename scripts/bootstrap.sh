#!/usr/bin/env bash
# Install what is missing: system tools (when we may use apt) and the Python environment.
#   scripts/bootstrap.sh          runtime only
#   scripts/bootstrap.sh --test   also what the tests use (poppler, NSS tools, SoftHSM2, Chromium,
#                                 Node.js for the H5 client's JS checks)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_install() {
  # Each argument is WHAT:PACKAGE; WHAT is a command, or a file when it starts with "/".
  local missing=()
  for pair in "$@"; do
    local what=${pair%%:*} pkg=${pair##*:}
    if [ "${what#/}" != "$what" ]; then
      [ -e "$what" ] || missing+=("$pkg")
    else
      command -v "$what" >/dev/null 2>&1 || missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
    echo "installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: please install ${missing[*]} (tests that need them will say so)" >&2
  fi
}

if [ $want_test -eq 1 ]; then
  # Everything a test needs (grep tests/ for skipif, importorskip, shutil.which): under
  # CI=true a skipped test fails the run (tests/conftest.py), so nothing may be missing.
  apt_install pdfsig:poppler-utils pdftoppm:poppler-utils certutil:libnss3-tools \
    softhsm2-util:softhsm2 /usr/lib/softhsm/libsofthsm2.so:softhsm2 chromium:chromium \
    openssl:openssl /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc:fonts-noto-cjk \
    redis-server:redis-server pg_ctlcluster:postgresql psql:postgresql-client \
    node:nodejs
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.installed-$( (cat pyproject.toml; echo "$want_test") | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  if [ $want_test -eq 1 ]; then
    .venv/bin/python -m pip install -q -e '.[dev]'
  else
    .venv/bin/python -m pip install -q -e .
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The TypeScript client check (tests/typescript): openapi-typescript and tsc, pinned by
# the committed package-lock.json.
if [ $want_test -eq 1 ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "note: please install Node.js 20 and npm (the TypeScript client test needs them)" >&2
  elif [ ! -f tests/typescript/node_modules/.package-lock.json ] \
      || [ tests/typescript/package-lock.json -nt tests/typescript/node_modules/.package-lock.json ]; then
    (cd tests/typescript && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
