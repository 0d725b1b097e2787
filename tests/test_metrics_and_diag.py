"""Fleet health: the metrics endpoint parses as Prometheus text and follows the kiosk; faults
carry their recommended action in diagnostics."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from drivers.base import Detail, Role, State, Status, unavailable_detail
from drivers.certificate.cups import CupsPrinter, CupsSettings
from drivers.errors import DeviceUnavailable
from drivers.receipt.escpos import EscposPrinter, EscposSettings
from drivers.receipt.escpos_emulator import EscposEmulator
from kiosk import __version__
from kiosk.actions import actions_for
from kiosk.core import Kiosk
from kiosk.diagnostics import diagnose
from kiosk.documents.receipts import queue_ticket
from kiosk.documents.text_fit import columns
from kiosk.maintenance_console import help_desk_code
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
        during = samples(metrics.render())
        assert during[("dengji_visit_open", frozenset())] == 1  # an update would wait
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
            values[
                (
                    "dengji_device_up",
                    frozenset({("role", "receipt"), ("driver", "escpos"), ("required", "false")}),
                )
            ]
            == 1
        )
        assert (
            values[
                ("dengji_device_detail", frozenset({("role", "receipt"), ("detail", "paper_low")}))
            ]
            == 1
        )
        assert values[("dengji_sessions_total", frozenset({("reason", "idle")}))] == 1
        assert values[("dengji_visit_open", frozenset())] == 0
        assert (
            values[
                ("dengji_prints_total", frozenset({("kind", "receipt"), ("outcome", "printed")}))
            ]
            == 1
        )
        assert values[("dengji_backend_up", frozenset())] == 1
        assert "张" not in text.decode() and "11010519491231002X" not in text.decode()
        # who the kiosk is, for the fleet: one info series
        info = [k for k in values if k[0] == "dengji_kiosk_info"]
        assert len(info) == 1 and dict(info[0][1]) == {
            "kiosk_id": "KIOSK-SIM-0001",
            "site": "sandbox",
            "version": __version__,
            "profile": "sim",
            "site_mode": "hall",
            "training": "true",
        }
        assert values[("dengji_paper_state", frozenset({("role", "receipt")}))] == 1  # low
        assert values[("dengji_paper_state", frozenset({("role", "certificate")}))] == 2
        assert values[("dengji_out_of_service", frozenset())] == 0
        assert values[("dengji_service_available", frozenset({("service", "queue_ticket")}))] == 1
        assert values[("dengji_security_paper_sheets_left", frozenset())] == 0
        link = sim_kiosk.backend_link
        assert values[("dengji_backend_last_success_timestamp_seconds", frozenset())] == (
            pytest.approx(link.last_ok_at)
        )
        assert abs(values[("dengji_clock_offset_seconds", frozenset())]) < 2  # same machine
        assert values[("dengji_audit_pending_records", frozenset())] >= 0
        # the receipt printer runs out: its services go, and the gauge says so
        printer.conditions.paper_out = True
        assert sim_kiosk.device_manager.wait_until(
            lambda s: Detail.PAPER_OUT in s[Role.RECEIPT].details, 10
        )
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        values = samples(text.decode())
        assert values[("dengji_paper_state", frozenset({("role", "receipt")}))] == 0
        assert values[("dengji_service_available", frozenset({("service", "queue_ticket")}))] == 0
        printer.conditions.paper_out = False
    finally:
        metrics.stop()


def test_audit_records_count_as_pending_until_the_registry_takes_them(
    sim_kiosk: Kiosk,
) -> None:
    metrics = KioskMetrics(sim_kiosk)
    audit, link = sim_kiosk.audit_log, sim_kiosk.backend_link
    assert link.outbox is not None
    for index in range(3):
        audit.record("kiosk", "test.metric", "ok", n=str(index))

    def pending() -> float:
        values = samples(metrics.render())
        return values[("dengji_audit_pending_records", frozenset())]

    assert pending() >= 3
    assert link.check_now()  # the heartbeat hands the chain over; the outbox delivers it
    deadline = time.monotonic() + 10
    while pending() > 0 and time.monotonic() < deadline:
        link.outbox.deliver_due()
        time.sleep(0.05)
    assert pending() == 0
    assert samples(metrics.render())[
        ("dengji_audit_last_acknowledged_timestamp_seconds", frozenset())
    ] == pytest.approx(time.time(), abs=30)
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


def _detail_when_opened(device: object) -> Detail:
    try:
        device.open()  # type: ignore[attr-defined]
    except DeviceUnavailable as err:
        return unavailable_detail(err)
    raise AssertionError("opened a device that is not there")


def test_a_service_or_a_network_printer_down_is_not_a_cable_to_check() -> None:
    cups = CupsPrinter(CupsSettings(queue="certificate", server=f"127.0.0.1:{free_port()}"))
    network = EscposPrinter(
        EscposSettings(transport="network", host="127.0.0.1", port=free_port(), timeout_s=1)
    )
    pcsc = subprocess.run(  # pyscard reads the socket's name when it loads: a process of its own
        [
            sys.executable,
            "-c",
            "from drivers.idcard.pcsc import PcscReader, PcscSettings\n"
            "from tests.test_metrics_and_diag import _detail_when_opened\n"
            "print(_detail_when_opened(PcscReader(PcscSettings())).value)",
        ],
        env={**os.environ, "PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    found = {
        "cups": _detail_when_opened(cups),
        "network": _detail_when_opened(network),
        "pcsc": Detail(pcsc),
    }
    assert found == {
        "cups": Detail.SERVICE_DOWN,
        "network": Detail.UNREACHABLE,
        "pcsc": Detail.SERVICE_DOWN,
    }
    codes = {
        name: [a.code for a in actions_for(Status(State.OFFLINE, frozenset({d})), False)]
        for name, d in found.items()
    }
    assert codes == {
        "cups": ["restart_service"],
        "network": ["check_device_network"],
        "pcsc": ["restart_service"],
    }


def test_the_diagnosis_says_when_it_was_taken_everywhere_and_its_printout_fits(
    sim_kiosk: Kiosk,
) -> None:
    moment = dt.datetime(2026, 12, 3, 4, 5, 6, tzinfo=dt.UTC)
    diagnosis = diagnose(sim_kiosk, settle_s=1, clock=lambda: moment)
    assert diagnosis.as_dict()["at"] == "2026-12-03T04:05:06Z"
    assert "at 2026-12-03 12:05:06 (UTC+8)" in diagnosis.as_text()
    assert "|2026-12-03T04:05:06Z|" in help_desk_code(diagnosis)
    for width in (32, 48):
        lines = diagnosis.as_receipt(width)
        assert "2026-12-03 12:05:06 (UTC+8)" in lines
        assert all(columns(line) <= width for line in lines), lines
        blocks = [line for line in lines if line.startswith("[")]
        assert len(blocks) == len(diagnosis.devices) + 1  # each device and the registry
        assert all(line.startswith(("[", " ")) for line in lines[3:-1])  # continuations indent
