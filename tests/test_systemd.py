"""The unit files pass systemd's own lint, and the kiosk speaks the notify protocol."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

UNIT = REPO / "systemd" / "dengji-kiosk.service"
SECURITY_THRESHOLD = 30  # systemd's exposure scale x10: 30 = "3.0", well inside "OK"


def linted_copy(folder: Path, text: str | None = None) -> Path:
    """The unit with its programs swapped for ones that exist here (verify checks them)."""
    unit = folder / "dengji-kiosk.service"
    body = text if text is not None else UNIT.read_text()
    unit.write_text(
        body.replace("/usr/bin/cage -s -- /opt/dengji-kiosk/bin/kiosk run", "/usr/bin/env true")
    )
    return unit


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    result = verify(linted_copy(tmp_path))
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_the_lint_catches_a_broken_unit(tmp_path: Path) -> None:
    broken = UNIT.read_text().replace("Restart=always", "Restart=always\nRestartt=no")
    result = verify(linted_copy(tmp_path, broken))
    assert "Restartt" in result.stderr


def test_the_hardening_scores_within_the_threshold(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            "systemd-analyze",
            "security",
            "--offline=true",
            f"--threshold={SECURITY_THRESHOLD}",
            str(linted_copy(tmp_path)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-800:]
    assert "Overall exposure level" in result.stdout


def test_the_kiosk_tells_systemd_it_is_ready_and_pings_the_watchdog(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(str(path))
    sink.settimeout(0.2)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(NOTIFY_SOCKET=str(path), WATCHDOG_USEC="400000", XDG_STATE_HOME=str(tmp_path))
    env.pop("WATCHDOG_PID", None)
    log = (tmp_path / "kiosk.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run", "--exit-after", "3"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.DEVNULL,
    )
    messages: list[tuple[float, str]] = []
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        try:
            messages.append((time.monotonic(), sink.recv(4096).decode()))
        except TimeoutError:
            pass
    process.wait(timeout=30)
    sink.close()
    log.close()
    states = [m for _, m in messages]
    assert any(s.startswith("READY=1") for s in states), states
    pings = [t for t, s in messages if s == "WATCHDOG=1"]
    assert len(pings) >= 4  # every 0.2 s for ~3 s, from the UI loop
    assert max(b - a for a, b in itertools.pairwise(pings)) < 1.0
    assert states[-1] == "STOPPING=1"
    ready_at = next(t for t, s in messages if s.startswith("READY=1"))
    assert all(t >= ready_at for t in pings)  # no ping before the screen is up
    output = (tmp_path / "kiosk.log").read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(e.get("screen") == "attract" for e in lines)


def test_every_path_the_shipped_unit_and_profiles_use_is_one_the_rules_create() -> None:
    import re

    from kiosk.config import MaintenanceSection
    from kiosk.profiles import list_profiles, load_profile

    rules = (REPO / "systemd" / "99-dengji-kiosk.rules").read_text()
    links = {f"/dev/{name}" for name in re.findall(r'SYMLINK\+="([^"]+)"', rules)}
    for name in list_profiles():
        for spec in load_profile(name).devices.values():
            for key in ("port", "device"):
                path = str(spec.settings.get(key, ""))
                if path.startswith("/dev/"):  # a stable name, not the order devices came up in
                    assert path in links, (name, spec.role, path)
    unit = UNIT.read_text()
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0].isupper()
    )
    state = settings["StateDirectory"]
    assert f"XDG_STATE_HOME=/var/lib/{state}" in unit  # the data folder is the unit's state
    writable = settings["ReadWritePaths"].split()
    assert f"-{MaintenanceSection().export_dir}" in writable  # the USB log export
    tmpfiles = (REPO / "systemd" / "dengji-kiosk.conf").read_text()
    assert f"/var/lib/{state} 0700 kiosk kiosk" in tmpfiles
