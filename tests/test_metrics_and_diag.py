"""Fleet health: the metrics endpoint parses as Prometheus text and follows the kiosk; faults
carry their recommended action in diagnostics."""

from __future__ import annotations

import socket
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from drivers.base import Detail, Role
from drivers.receipt.escpos_emulator import EscposEmulator
from kiosk.core import Kiosk
from kiosk.diagnostics import diagnose
from kiosk.documents.receipts import queue_ticket
from kiosk.metrics import KioskMetrics
from kiosk.shell import Shell
from tests.receipt_samples import TICKET


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_metrics_endpoint_follows_the_kiosk(sim_kiosk: Kiosk) -> None:
    metrics = KioskMetrics(sim_kiosk)
    port = metrics.serve(free_port())
    try:
        assert sim_kiosk.device_manager.wait_until(lambda s: all(x.usable for x in s.values()), 20)
        shell = Shell(sim_kiosk)
        shell.begin_session()
        shell.end_session("idle")
        assert sim_kiosk.printing is not None
        assert sim_kiosk.printing.receipt("t:1", queue_ticket(TICKET, 48)).ok
        printer = sim_kiosk.harness.emulators[Role.RECEIPT]  # type: ignore[union-attr]
        assert isinstance(printer, EscposEmulator)
        printer.conditions.paper_low = True
        assert sim_kiosk.device_manager.wait_until(
            lambda s: Detail.PAPER_LOW in s[Role.RECEIPT].details, 10
        )
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        values = samples(text.decode())
        assert (
            values[("dengji_device_up", frozenset({("role", "receipt"), ("driver", "escpos")}))]
            == 1
        )
        assert (
            values[
                ("dengji_device_detail", frozenset({("role", "receipt"), ("detail", "paper_low")}))
            ]
            == 1
        )
        assert values[("dengji_sessions_total", frozenset({("reason", "idle")}))] == 1
        assert (
            values[
                ("dengji_prints_total", frozenset({("kind", "receipt"), ("outcome", "printed")}))
            ]
            == 1
        )
        assert values[("dengji_backend_up", frozenset())] == 1
        assert "张" not in text.decode() and "11010519491231002X" not in text.decode()
    finally:
        metrics.stop()


def test_faults_carry_their_recommended_action(sim_kiosk: Kiosk) -> None:
    printer = sim_kiosk.harness.emulators[Role.RECEIPT]  # type: ignore[union-attr]
    assert isinstance(printer, EscposEmulator)
    printer.conditions.paper_out = True
    assert sim_kiosk.device_manager.wait_until(
        lambda s: Detail.PAPER_OUT in s[Role.RECEIPT].details, 10
    )
    report = diagnose(sim_kiosk, settle_s=1).as_dict()
    receipt = next(d for d in report["devices"] if d["role"] == "receipt")
    assert [a["code"] for a in receipt["actions"]] == ["refill_paper"]
    assert receipt["actions"][0]["zh"] == "补充纸张"
    reader = sim_kiosk.harness.emulators[Role.IDCARD]  # type: ignore[union-attr]
    reader.stop()
    assert sim_kiosk.device_manager.wait_until(lambda s: not s[Role.IDCARD].usable, 10)
    text = diagnose(sim_kiosk, settle_s=0.5).as_text()
    assert "检查设备电源和连接线 / Check the device's power and cable" in text
    assert "暂停本机服务并报修" in text  # the required reader is down
    reader.start()
