#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to the point where `make run` and `make test` work:
# missing apt packages, a virtual environment, the project (editable) with its extras.
# Idempotent: when everything is there it only checks, in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

# the kiosk's run-time packages and what development and the tests add
APT_LISTS="scripts/apt-runtime.txt scripts/apt-dev.txt" bash scripts/apt_install.sh

python=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    python=$(command -v "$candidate"); break
  fi
done
if [ -z "$python" ]; then
  echo "setup: Python 3.11 is required (Debian 12 ships it as python3)" >&2
  exit 1
fi

stamp="$VENV/.installed-$(cat pyproject.toml requirements.lock scripts/apt-*.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: creating $VENV and installing the project with its extras"
  [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # the run-time dependencies at the versions the package pins (requirements.lock)
  "$VENV/bin/python" -m pip install -q -e ".[hardware,dev]" -c requirements.lock
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
