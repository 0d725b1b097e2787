#!/usr/bin/env bash
# Installs the Debian packages named in the lists given in APT_LISTS (space-separated files,
# one package per line, "#" comments) that are not installed yet; quiet when none is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for list in ${APT_LISTS:?}; do
  while read -r line; do
    pkg=${line%%#*}            # a comment may follow a name
    pkg=${pkg//[[:space:]]/}
    [[ -z "$pkg" ]] && continue
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done < "$list"
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
