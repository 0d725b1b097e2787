#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to the point where `make run` and `make test` work:
# missing apt packages, a virtual environment, the project (editable) with its extras.
# Idempotent: when everything is there it only checks, in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

missing=()
while read -r line; do
  pkg=${line%%#*}            # a comment may follow a name
  pkg=${pkg//[[:space:]]/}
  [[ -z "$pkg" ]] && continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done < scripts/apt-packages.txt

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

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

stamp="$VENV/.installed-$(cat pyproject.toml scripts/apt-packages.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: creating $VENV and installing the project with its extras"
  [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[hardware,dev]"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
