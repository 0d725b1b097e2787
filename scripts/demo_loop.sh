#!/usr/bin/env bash
# Walk a demo journey again and again while stress-ng keeps every core busy: the journeys
# must not depend on the machine being idle (the face check used to fail one walk in eight).
#   bash scripts/demo_loop.sh query-certificate 50
# Prints each failed walk (its log kept in the output folder) and the tally; exits 1 on any.
set -euo pipefail
cd "$(dirname "$0")/.."
journey=${1:-query-certificate}
runs=${2:-50}
out=${3:-$(mktemp -d -t "dengji-loop-$journey-XXXX")}
mkdir -p "$out"
if ! command -v stress-ng >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends stress-ng
fi
make -s setup
stress-ng --cpu "$(nproc)" --timeout 0 --quiet &
stress=$!
trap 'kill $stress 2>/dev/null || true' EXIT
ok=0
start=$(date +%s)
for i in $(seq 1 "$runs"); do
  if .venv/bin/kiosk demo --journey "$journey" --out "$out/$i" >"$out/$i.log" 2>&1; then
    ok=$((ok + 1))
    rm -rf "${out:?}/$i"  # screenshots of a good walk are not needed
  else
    echo "walk $i failed: $out/$i.log"
  fi
done
echo "$journey: $ok/$runs walks ended well under stress-ng --cpu $(nproc) in $(($(date +%s) - start)) s (logs: $out)"
[ "$ok" -eq "$runs" ]
