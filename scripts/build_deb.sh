#!/usr/bin/env bash
# Builds the Debian package from a copy of the tree's files (tracked and new, not ignored) in
# build/deb, so the checkout stays clean, then runs lintian on it: any error fails the build.
# Output: dist/dengji-kiosk_<version>_<arch>.deb
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(dpkg-parsechangelog -S Version)
# The package's own pip cache: the development venv's cache holds wheels of pycups, pyscard
# and python-sane built by whatever Python made that venv (pyenv's, on the dev machines, with
# its library path baked in); the package's must be built by Debian's /usr/bin/python3.
export PIP_CACHE_DIR=${DENGJI_DEB_PIP_CACHE:-$HOME/.cache/dengji-kiosk-deb/pip}
src=build/deb/dengji-kiosk-$version
rm -rf build/deb && mkdir -p "$src" dist
git ls-files -z --cached --others --exclude-standard | tar --null -T - -c | tar -x -C "$src"
(cd "$src" && dpkg-buildpackage -b -us -uc --no-sign >../build.log 2>&1) || {
  tail -40 build/deb/build.log >&2
  echo "make deb: dpkg-buildpackage failed (whole log: build/deb/build.log)" >&2
  exit 1
}
debs=()
for deb in build/deb/dengji-kiosk*_"$version"_*.deb; do
  cp "$deb" dist/
  debs+=("dist/$(basename "$deb")")
  echo "make deb: dist/$(basename "$deb") ($(du -h "$deb" | cut -f1))"
done
# errors fail the build; warnings are printed (the overrides, each with its reason, are in
# debian/dengji-kiosk.lintian-overrides)
lintian --fail-on error "${debs[@]}"
echo "make deb: lintian found no errors"
