"""``kiosk demo``: a scripted journey on the real app in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui


def kiosk(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    (tmp / "tmp").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "SDL_VIDEODRIVER": "offscreen",
        "KIVY_HOME": str(tmp / "kivy"),
        "TMPDIR": str(tmp / "tmp"),  # what the demo leaves in the temp folder, seen here
    }
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def test_demo_lists_its_journeys(tmp_path: Path) -> None:
    result = kiosk("demo", "--list", tmp=tmp_path)
    assert result.returncode == 0
    assert "queue-ticket" in result.stdout.split()
    assert "query-certificate" in result.stdout.split()


def test_demo_walks_the_queue_ticket_journey(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = kiosk("demo", "--journey", "queue-ticket", "--out", str(out), tmp=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["journey"] == "queue-ticket"
    assert summary["taps"] == 3  # attract, the tile, finish
    assert (
        summary["screens"][:3] == ["attract", "home", "step_work"]
        or "step_done" in summary["screens"]
    )
    assert summary["outputs"] == ["receipt-1.png"]
    for name in summary["screens"]:
        assert list(out.glob(f"*-{name}.png")), name
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("queue-ticket: ok, 3 taps,")
    # the demo's registry copy and data folder went with it
    left = [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("dengji-demo")]
    assert left == []
    # libraries speak at warning: no line of fontTools' glyph-by-glyph subsetting log
    noisy = [line for line in result.stderr.splitlines() if '"logger": "fontTools' in line]
    assert noisy == [], noisy[:3]
