"""The fleet's monitoring: the shipped Prometheus configurations and alerting rules pass
promtool's checks and unit tests, and a real Prometheus scraping a running sim kiosk fires the
paper alert when the receipt printer is emptied."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Detail, Role
from drivers.receipt.escpos_emulator import EscposEmulator
from kiosk.core import Kiosk
from kiosk.metrics import KioskMetrics
from tests.conftest import REPO
from tests.test_metrics_and_diag import free_port

DEPLOY = REPO / "deploy" / "prometheus"
RULES = DEPLOY / "rules" / "dengji-kiosk.rules.yml"

# scripts/apt-dev.txt installs Debian's prometheus (promtool and the server): not skipped
assert shutil.which("promtool") and shutil.which("prometheus"), "apt install prometheus"


def promtool(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["promtool", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_the_rules_and_both_configurations_pass_promtool() -> None:
    assert "SUCCESS: 13 rules found" in promtool("check", "rules", str(RULES))
    assert "SUCCESS" in promtool("check", "config", str(DEPLOY / "centre.yml"))
    identity = {"DENGJI_KIOSK_ID": "HALL-3201-07", "DENGJI_SITE": "JN-LX"}
    assert "SUCCESS" in promtool(
        "check", "config", "--agent", str(DEPLOY / "agent.yml"), env=identity
    )


def test_the_alerting_rules_pass_their_unit_tests() -> None:
    assert "SUCCESS" in promtool("test", "rules", str(RULES.with_suffix(".test.yml")))


def test_a_broken_rule_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(RULES.read_text().replace("dengji_paper_state == 0", "dengji_paper_state =="))
    result = subprocess.run(
        ["promtool", "check", "rules", str(broken)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "parse error" in (result.stdout + result.stderr)


@pytest.fixture
def prometheus(sim_kiosk: Kiosk, tmp_path: Path) -> Iterator[tuple[str, Kiosk]]:
    """A real Prometheus scraping the sim kiosk every second, with the shipped rules (their
    expressions as shipped; the 'for' windows are promtool's to test, not the wall clock's)."""
    metrics = KioskMetrics(sim_kiosk)
    port = metrics.serve(free_port())
    rules = tmp_path / "rules.yml"
    rules.write_text(re.sub(r"for: \d+[smh]", "for: 0s", RULES.read_text()))
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{rules}]\n"
        "scrape_configs:\n"
        "  - job_name: dengji-kiosk\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{port}']\n"
        "        labels: {kiosk_id: KIOSK-SIM-0001, site: sandbox}\n"
    )
    web = f"127.0.0.1:{free_port()}"
    server = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={web}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    try:
        assert wait_for(lambda: _get(f"http://{web}/-/ready") is not None, 30), (
            tmp_path / "prometheus.log"
        ).read_text()[-2000:]
        yield f"http://{web}", sim_kiosk
    finally:
        server.terminate()
        server.wait(timeout=20)
        metrics.stop()


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            body = answer.read()
    except OSError:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def wait_for(check: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def firing(base: str, name: str) -> list[dict[str, str]]:
    answer = _get(f"{base}/api/v1/alerts") or {}
    alerts = answer.get("data", {}).get("alerts", []) if isinstance(answer, dict) else []
    return [
        a["labels"] for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"
    ]


def test_a_real_prometheus_fires_the_paper_alert_for_an_emptied_printer(
    prometheus: tuple[str, Kiosk],
) -> None:
    base, kiosk = prometheus

    def scraped() -> bool:
        answer = _get(f"{base}/api/v1/query?query=dengji_paper_state") or {}
        return bool(isinstance(answer, dict) and answer.get("data", {}).get("result"))

    assert wait_for(scraped, 30)
    time.sleep(2.5)  # two evaluations with paper in: nothing fires
    assert firing(base, "KioskPaperOut") == []
    printer = kiosk.harness.emulators[Role.RECEIPT]  # type: ignore[union-attr]
    assert isinstance(printer, EscposEmulator)
    printer.conditions.paper_out = True
    assert kiosk.device_manager.wait_until(
        lambda s: Detail.PAPER_OUT in s[Role.RECEIPT].details, 10
    )
    assert wait_for(lambda: firing(base, "KioskPaperOut"), 30), _get(f"{base}/api/v1/alerts")
    (alert,) = firing(base, "KioskPaperOut")
    assert (alert["kiosk_id"], alert["role"], alert["severity"]) == (
        "KIOSK-SIM-0001",
        "receipt",
        "critical",
    )
    printer.conditions.paper_out = False  # refilled: the alert resolves
    assert wait_for(lambda: not firing(base, "KioskPaperOut"), 30)


def test_every_dashboard_query_runs_on_a_real_prometheus(prometheus: tuple[str, Kiosk]) -> None:
    base, _kiosk = prometheus
    dashboard = json.loads((REPO / "deploy" / "grafana" / "dengji-fleet.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(queries) == len(dashboard["panels"]) >= 10
    for expr in queries:
        concrete = expr.replace("$site", ".*")
        answer = _get(f"{base}/api/v1/query?query={urllib.parse.quote(concrete)}")
        assert isinstance(answer, dict) and answer["status"] == "success", (expr, answer)
    info = _get(f"{base}/api/v1/query?query=dengji_kiosk_info")
    assert wait_for(
        lambda: bool(
            (_get(f"{base}/api/v1/query?query=dengji_kiosk_info") or {})["data"]["result"]
        ),
        20,
    ), info
