#!/usr/bin/env bash
# Installs the built packages into a clean Debian 12 root and runs the kiosk's self-test from
# the installed files: `kiosk diag --profile sim` (every device on its emulator) must pass.
# The root is made once with debootstrap (minbase) and kept as a tarball in build/ for later
# runs; each run unpacks a fresh copy, so nothing of an earlier install is left in it.
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=build/debian12-minbase.tar
root=build/deb-root
version=$(dpkg-parsechangelog -S Version)
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

cleanup() {
  for m in dev/pts proc; do
    mountpoint -q "$root/$m" && $sudo umount -l "$root/$m" || true
  done
}
trap cleanup EXIT

if [ ! -f "$base" ]; then
  echo "deb-test: making a clean Debian 12 root (debootstrap, once)"
  $sudo rm -rf build/debootstrap && mkdir -p build
  $sudo debootstrap --variant=minbase bookworm build/debootstrap "$mirror" >build/debootstrap.log 2>&1 || {
    tail -20 build/debootstrap.log >&2; exit 1; }
  $sudo tar -C build/debootstrap -cf "$base" .
  $sudo rm -rf build/debootstrap
fi
$sudo rm -rf "$root" && mkdir -p "$root"
$sudo tar -C "$root" -xf "$base"
$sudo mount -t proc proc "$root/proc"
$sudo mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
[ -e "$root/dev/ptmx" ] || $sudo ln -s pts/ptmx "$root/dev/ptmx"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mkdir -p "$root/tmp/debs" && cp dist/dengji-kiosk*_"$version"_*.deb "$root/tmp/debs/"

in_root() { $sudo chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
echo "deb-test: installing $(cd "$root/tmp/debs" && echo *) and what they depend on"
# no daemon may start inside the root (policy-rc.d), as in any image build
printf '#!/bin/sh\nexit 101\n' | $sudo tee "$root/usr/sbin/policy-rc.d" >/dev/null
$sudo chmod +x "$root/usr/sbin/policy-rc.d"
in_root apt-get update -qq
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/debs/*.deb' \
  >build/deb-install.log 2>&1 || { tail -30 build/deb-install.log >&2; exit 1; }

echo "deb-test: checking what the package put in place"
test -x "$root/opt/dengji-kiosk/bin/kiosk"
test -L "$root/usr/bin/kiosk"
grep -q '^training = true' "$root/etc/dengji-kiosk/site.toml"
grep -qx '/etc/dengji-kiosk/site.toml' "$root/var/lib/dpkg/info/dengji-kiosk.conffiles"
test -f "$root/lib/systemd/system/dengji-kiosk.service"
test -f "$root/usr/lib/sysusers.d/dengji-kiosk.conf"
test -f "$root/usr/lib/tmpfiles.d/dengji-kiosk.conf"
ls "$root"/lib/udev/rules.d/99-dengji-kiosk.rules "$root"/usr/lib/udev/rules.d/99-dengji-kiosk.rules 2>/dev/null | grep -q .
in_root getent passwd kiosk >/dev/null
test -n "$(find "$root/opt/dengji-kiosk/lib" -name '*.pyc' -print -quit)"  # the postinst compiled

echo "deb-test: kiosk diag --profile sim, from the installed files"
in_root sh -c 'cd /tmp && XDG_STATE_HOME=/tmp/state XDG_CACHE_HOME=/tmp/cache kiosk diag --profile sim --json' \
  >build/deb-diag.json 2>build/deb-diag.log || {
  tail -30 build/deb-diag.log >&2; cat build/deb-diag.json >&2; echo "deb-test: diag failed" >&2; exit 1; }
python3 - "$version" <<'PY'
import json, sys
report = json.load(open("build/deb-diag.json"))
failed = [d["role"] for d in report["devices"] if not d["ok"]]
assert report["ok"] and not failed, f"self-test failed: {failed}"
assert report["version"] == sys.argv[1], (report["version"], sys.argv[1])
print(f"deb-test: installed and self-tested: {len(report['devices'])} devices ok, version {report['version']}")
PY
