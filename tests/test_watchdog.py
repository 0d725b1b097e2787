"""The watchdog, played by a harness standing in for systemd: a kiosk that stops answering is
killed and started again, and the new one reports ready."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

WATCHDOG_S = 0.8


def start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    children = subprocess.run(
        ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    for pid in [process.pid, *map(int, children)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


@pytest.mark.timeout(180)
def test_a_kiosk_that_stops_pinging_is_restarted(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(str(path))
    sink.settimeout(0.1)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        NOTIFY_SOCKET=str(path),
        WATCHDOG_USEC=str(int(WATCHDOG_S * 1e6)),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    env.pop("WATCHDOG_PID", None)
    process = start(env)
    events: list[str] = []
    last_ping = None
    frozen = False
    deadline = time.monotonic() + 150
    try:
        while time.monotonic() < deadline:
            try:
                message = sink.recv(4096).decode()
            except TimeoutError:
                message = ""
            now = time.monotonic()
            if message.startswith("READY=1"):
                events.append("ready")
                last_ping = now
                if events.count("ready") == 2:
                    break  # the restarted kiosk is up
            elif message == "WATCHDOG=1":
                last_ping = now
                pings = events.count("ping") + 1
                events.append("ping")
                if pings == 3 and not frozen:  # the kiosk hangs (its loop stops)
                    os.kill(process.pid, signal.SIGSTOP)
                    frozen = True
                    events.append("frozen")
            if frozen and last_ping is not None and now - last_ping > WATCHDOG_S:
                events.append("watchdog fired")  # what systemd does: kill, start again
                kill_tree(process)
                process = start(env)
                frozen, last_ping = False, None
    finally:
        kill_tree(process)
        sink.close()
    assert events[:1] == ["ready"]
    assert "frozen" in events and "watchdog fired" in events
    assert events.index("watchdog fired") > events.index("frozen")
    assert events[-1] == "ready" and events.count("ready") == 2
