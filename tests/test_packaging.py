"""The Debian package's files agree with the rest of the tree (fast: nothing is built here;
``make deb`` builds and lintian-checks the package, ``make deb-test`` installs it)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import kiosk

REPO = Path(__file__).resolve().parent.parent
DEBIAN = REPO / "debian"


def stanzas() -> dict[str, dict[str, str]]:
    """debian/control's stanzas: "source", then each package by name (continuations joined)."""
    out: dict[str, dict[str, str]] = {}
    for block in (DEBIAN / "control").read_text().split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith((" ", "\t")):
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        out[fields.get("Package", "source")] = fields
    return out


def names(relation: str) -> set[str]:
    """Package names of a relation field, without versions, arches or substitutions."""
    found = set()
    for item in (part.strip() for part in relation.split(",")):
        if item and not item.startswith("${"):
            found.add(re.split(r"[\s(\[:]", item, maxsplit=1)[0])
    return found


def apt_list(name: str) -> set[str]:
    lines = (REPO / "scripts" / name).read_text().splitlines()
    return {line.split("#")[0].strip() for line in lines} - {""}


def test_the_package_depends_on_exactly_the_runtime_apt_list() -> None:
    depends = names(stanzas()["dengji-kiosk"]["Depends"])
    # libc6 and python3 are on every Debian system; the list names what a kiosk adds
    assert depends - {"libc6", "python3"} == apt_list("apt-runtime.txt")


def test_development_needs_what_building_and_training_need() -> None:
    dev = apt_list("apt-dev.txt") | apt_list("apt-runtime.txt")
    build = names(stanzas()["source"]["Build-Depends"]) - {"debhelper-compat", "python3"}
    assert build - apt_list("apt-build.txt") <= dev
    training = names(stanzas()["dengji-kiosk-training"]["Depends"]) - {"dengji-kiosk"}
    assert training <= dev  # the tests run the sim profile on what a training kiosk installs
    # nothing only the tests need is a run-time dependency
    assert not apt_list("apt-runtime.txt") & apt_list("apt-dev.txt")


def test_one_version_everywhere() -> None:
    changelog = (DEBIAN / "changelog").read_text().splitlines()[0]
    match = re.match(r"dengji-kiosk \(([^)]+)\)", changelog)
    assert match is not None
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert match.group(1) == project["version"] == kiosk.__version__


def test_the_lock_pins_every_runtime_dependency() -> None:
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[norm(name)] = version
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = project["dependencies"] + extras["pcsc"] + extras["cups"] + extras["sane"]
    for requirement in wanted:
        name = norm(re.split(r"[<>=!~\[;\s]", requirement, maxsplit=1)[0])
        assert name in pins, f"{name} is not in requirements.lock"


def test_the_packaged_unit_runs_the_packaged_environment() -> None:
    rules = (DEBIAN / "rules").read_text()
    assert "DH_VIRTUALENV_INSTALL_ROOT = /opt" in rules and "--install-suffix dengji-kiosk" in rules
    unit = (REPO / "systemd" / "dengji-kiosk.service").read_text()
    assert "ExecStart=/usr/bin/cage -s -- /opt/dengji-kiosk/bin/kiosk run" in unit
    # the unit, tmpfiles, sysusers and udev files debhelper installs are the ones in systemd/
    for name, target in {
        "dengji-kiosk.service": "dengji-kiosk.service",
        "dengji-kiosk.tmpfiles": "dengji-kiosk.conf",
        "dengji-kiosk.sysusers": "dengji-kiosk.sysusers",
        "dengji-kiosk.udev": "99-dengji-kiosk.rules",
    }.items():
        link = DEBIAN / name
        assert link.is_symlink() and link.resolve() == REPO / "systemd" / target, name
    sysusers = (REPO / "systemd" / "dengji-kiosk.sysusers").read_text()
    assert re.search(r"^u kiosk - .* /var/lib/dengji-kiosk ", sysusers, re.M)
    assert "User=kiosk" in unit


def test_the_shipped_site_file_is_a_training_kiosk_the_kiosk_accepts() -> None:
    from kiosk.config import load_config

    config = load_config(REPO / "deploy" / "site.toml")
    assert config.training and config.kiosk.profile == "sim"
    assert "deploy/site.toml etc/dengji-kiosk/" in (DEBIAN / "dengji-kiosk.install").read_text()
