"""The ``kiosk`` command as a maintenance person runs it, in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2

from tests.conftest import REPO
from tests.ui_driver import is_blank


def kiosk(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def test_profiles_list_and_check() -> None:
    listed = kiosk("profiles", "list")
    assert listed.returncode == 0
    assert "sim" in listed.stdout and "hall-example-k1" in listed.stdout
    checked = kiosk("profiles", "check")
    assert checked.returncode == 0, checked.stderr
    assert "ok   sim:" in checked.stdout


def test_profiles_check_fails_precisely_on_a_bad_profile(tmp_path: Path) -> None:
    bad = tmp_path / "hall-acme-x1.toml"
    bad.write_text('[camera]\ndriver = "opencv"\nsource = "0"\nfsp = 30\n')
    result = kiosk("profiles", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}: camera.fsp: unknown key (did you mean 'fps'?)" in result.stderr


def test_a_bad_config_stops_the_command_with_its_message(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[kiosk]\nprofle = "sim"\n')
    result = kiosk("--config", str(config), "profiles", "list")
    assert result.returncode == 2
    assert f"{config}: kiosk.profle: unknown key (did you mean 'profile'?)" in result.stderr


def test_diag_json_on_sim(tmp_path: Path) -> None:
    result = kiosk("diag", "--json", env={"XDG_STATE_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["profile"] == "sim"
    roles = {d["role"]: d for d in report["devices"]}
    assert set(roles) == {"idcard", "camera", "scanner", "receipt", "certificate"}
    assert all(d["status"]["state"] == "ready" and d["self_test"]["ok"] for d in roles.values())


def test_diag_fails_when_a_required_device_is_missing(tmp_path: Path) -> None:
    result = kiosk(
        "diag",
        "--profile",
        "hall-example-k1",
        "--settle",
        "1",
        env={"XDG_STATE_HOME": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "FAIL  idcard" in result.stdout
    assert "FAILED: a required device is not working" in result.stdout


def test_make_run_reaches_the_attract_screen_headless(tmp_path: Path) -> None:
    """The README's run command, offscreen, until the attract screen is up."""
    shot = tmp_path / "attract.png"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "KIVY_HOME")
    }
    env["XDG_STATE_HOME"] = str(tmp_path)
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"RUN_ARGS=--exit-after 2 --screenshot {shot}"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "offscreen video driver" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {"msg": "screen shown", "screen": "attract"}.items() <= next(
        e for e in lines if e.get("msg") == "screen shown"
    ).items()
    assert not any(e.get("screen") == "out_of_service" for e in lines)
    image = cv2.imread(str(shot))
    assert image is not None and not is_blank(image)


def test_kiosk_sandbox_serves_the_committed_openapi(tmp_path: Path) -> None:
    import socket
    import time

    import requests

    from kiosk.backend.api import OPENAPI_FILE

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk",
            "sandbox",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "registry.db"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "sandbox registry on" in process.stdout.readline()
        served = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert served == json.loads(OPENAPI_FILE.read_text())
        assert (tmp_path / "registry.db").exists()
    finally:
        process.terminate()
        process.wait(timeout=10)
    del time


def test_idcard_read_on_the_emulator_masks_unless_asked(tmp_path: Path) -> None:
    masked = kiosk("idcard", "read", "--json")
    assert masked.returncode == 0, masked.stdout + masked.stderr
    document = json.loads(masked.stdout)["document"]
    assert document["number"] == "110***********002X" and document["name"] == "张**"
    full = kiosk("idcard", "read", "--json", "--unmasked")
    assert json.loads(full.stdout)["document"]["number"] == "11010519491231002X"
    text = kiosk("idcard", "read")
    assert "card_type     resident" in text.stdout and "11010519491231002X" not in text.stdout


def test_idcard_read_fails_with_the_reason(tmp_path: Path) -> None:
    result = kiosk(
        "idcard", "read", "--driver", "sam_serial", "--port", str(tmp_path / "none"), "--json"
    )
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["error"] == "unavailable" and "cannot open" in outcome["reason"]


def test_bench_reports_ratios() -> None:
    result = kiosk("bench", "idcard", "--runs", "2")
    report = json.loads(result.stdout.splitlines()[0])
    assert report["benchmark"] == "idcard" and report["runs"] == 2
    assert report["wire_limit_ms"] > 100  # ~1360 bytes at 115200 baud
    assert report["median_ratio"] >= 1.0  # never faster than the wire: the throttle is real


def test_bench_takes_no_names_as_all_and_refuses_an_unknown_one() -> None:
    from kiosk.cli import build_parser, main

    assert build_parser().parse_args(["bench"]).names == []  # was "invalid choice: []"
    assert main(["bench", "teleport"]) == 2


def test_print_test_pages_on_the_sim_printers(tmp_path: Path) -> None:
    receipt = kiosk("print", "test", "--role", "receipt")
    assert receipt.returncode == 0, receipt.stdout + receipt.stderr
    assert "test page printed on the receipt printer" in receipt.stdout
    certificate = kiosk("print", "test", "--role", "certificate")
    assert certificate.returncode == 0, certificate.stdout + certificate.stderr


def test_print_test_names_the_reason_when_the_printer_is_away() -> None:
    result = kiosk("print", "test", "--driver", "escpos", "--url", "tcp://127.0.0.1:9")
    assert result.returncode == 1
    assert "unavailable" in result.stdout and "请到人工窗口办理" in result.stdout
