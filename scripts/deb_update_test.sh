#!/usr/bin/env bash
# The update procedure (deploy/update/dengji-kiosk-update) in the Debian 12 root that
# scripts/deb_install_test.sh left with this build installed. From a local repository
# ([trusted=yes] here; a centre's is signed, see the README), it must:
#   - do nothing outside its maintenance window;
#   - wait while a visit is open (the kiosk's dengji_visit_open metric), then upgrade;
#   - upgrade to a good version (self-test passes);
#   - roll back from a version whose self-test fails, to the one that ran before.
# The newer versions are this build repacked with a higher version number (and, for the bad
# one, a device profile naming a driver that does not exist).
set -euo pipefail
cd "$(dirname "$0")/.."
root=build/deb-root
work=build/deb-update
version=$(dpkg-parsechangelog -S Version)
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
[ -x "$root/usr/sbin/dengji-kiosk-update" ] || { echo "deb-update-test: run deb_install_test.sh first" >&2; exit 1; }
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  for m in dev/pts proc; do mountpoint -q "$root/$m" && $sudo umount -l "$root/$m" || true; done
}
trap cleanup EXIT
mountpoint -q "$root/proc" || $sudo mount -t proc proc "$root/proc"
mountpoint -q "$root/dev/pts" || $sudo mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
in_root() { $sudo chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DENGJI_SYSTEMCTL=true "$@"; }

repack() {  # repack <new version> [broken]
  local new=$1 broken=${2:-} dir=$work/unpacked
  rm -rf "$dir" && mkdir -p "$dir"
  dpkg-deb -R "dist/dengji-kiosk_${version}_amd64.deb" "$dir"
  sed -i "s/^Version: .*/Version: $new/" "$dir/DEBIAN/control"
  sed -i "s/^__version__ = .*/__version__ = \"$new\"/" "$dir/opt/dengji-kiosk/lib/python3.11/site-packages/kiosk/__init__.py"
  if [ -n "$broken" ]; then
    sed -i 's/^driver = "sam_serial"/driver = "sam_serial_v2"/' \
      "$dir/opt/dengji-kiosk/lib/python3.11/site-packages/kiosk/device_profiles/sim.toml"
  fi
  dpkg-deb -Zgzip -z1 -b "$dir" "$work/repo/dengji-kiosk_${new}_amd64.deb" >/dev/null
  rm -rf "$dir" && mkdir -p "$dir"
  dpkg-deb -R "dist/dengji-kiosk-training_${version}_all.deb" "$dir"
  sed -i "s/^Version: .*/Version: $new/; s/dengji-kiosk (= [^)]*)/dengji-kiosk (= $new)/" "$dir/DEBIAN/control"
  dpkg-deb -b "$dir" "$work/repo/dengji-kiosk-training_${new}_all.deb" >/dev/null
  rm -rf "$dir"
}
publish() {
  (cd "$work/repo" && dpkg-scanpackages -m . /dev/null 2>/dev/null > Packages)
  $sudo rm -rf "$root/srv/repo" && $sudo mkdir -p "$root/srv" && $sudo cp -r "$work/repo" "$root/srv/repo"
}
installed() { in_root dpkg-query -W -f='${Version}' dengji-kiosk; }
update() { in_root dengji-kiosk-update --poll 1 "$@"; }

rm -rf "$work" && mkdir -p "$work/repo"
cp dist/dengji-kiosk*_"$version"_*.deb "$work/repo/"
echo "deb ['trusted=yes'] file:/srv/repo ./" | sed "s/'//g" | $sudo tee "$root/etc/apt/sources.list.d/dengji.list" >/dev/null
good="$version.1"; bad="$version.2"
repack "$good"
publish
now_window="$(date -d '-30 min' +%H:%M)-$(date -d '+30 min' +%H:%M)"
shut_window="$(date -d '+2 hour' +%H:%M)-$(date -d '+3 hour' +%H:%M)"

echo "deb-update-test: outside the window nothing happens"
out=$(update --window "$shut_window")
grep -q "outside the maintenance window" <<<"$out" && [ "$(installed)" = "$version" ]

echo "deb-update-test: a visit is open: it waits, then upgrades to $good once the visit ends"
mkdir -p "$root/tmp/metrics" && echo "dengji_visit_open 1.0" > "$root/tmp/metrics/metrics"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
metrics="http://127.0.0.1:$port/metrics"
# chroot execs env, env execs python: $! is the server itself, which the trap stops
$sudo chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin python3 -m http.server "$port" \
  --bind 127.0.0.1 --directory /tmp/metrics >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do  # the metrics answer (this root's file) before the update asks
  python3 -c 'import sys, urllib.request; assert b"visit_open 1" in urllib.request.urlopen(sys.argv[1], timeout=1).read()' "$metrics" 2>/dev/null && break
  sleep 0.1
done
# the updater runs; while it says it waits for the visit, nothing is installed; the visit ends
update --window "$now_window" --metrics "$metrics" >"$work/update.out" 2>&1 &
updater=$!
for _ in $(seq 600); do grep -q "a visit is open: waiting" "$work/update.out" && break; sleep 0.2; done
grep -q "a visit is open: waiting" "$work/update.out" || { cat "$work/update.out" >&2; exit 1; }
[ "$(installed)" = "$version" ]
echo "dengji_visit_open 0.0" > "$root/tmp/metrics/metrics"
wait "$updater" || { cat "$work/update.out" >&2; exit 1; }
out=$(cat "$work/update.out")
echo "$out" | sed 's/^/  /'
grep -q "installed, self-tested and started" <<<"$out" && [ "$(installed)" = "$good" ]
[ "$(in_root dpkg-query -W -f='${Version}' dengji-kiosk-training)" = "$good" ]
in_root cat /var/lib/dengji-kiosk-update/last-self-test.json | grep -q "\"version\": \"$good\""

echo "deb-update-test: $bad fails its self-test: rolled back to $good"
repack "$bad" broken
publish
rc=0; out=$(update --window "$now_window" --metrics "$metrics") || rc=$?
echo "$out" | sed 's/^/  /'
[ "$rc" -eq 1 ] && grep -q "rolled back to dengji-kiosk $good" <<<"$out"
[ "$(installed)" = "$good" ] && [ "$(in_root dpkg-query -W -f='${Version}' dengji-kiosk-training)" = "$good" ]
in_root grep -q 'driver = "sam_serial"$' /opt/dengji-kiosk/lib/python3.11/site-packages/kiosk/device_profiles/sim.toml
echo "deb-update-test: passed (window, open visit, upgrade, rollback)"
