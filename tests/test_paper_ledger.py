"""The security-paper ledger: every sheet accounted for, reconciled with the registry, and a
mismatch stops certificate printing until staff resolve it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.audit import AuditLog
from kiosk.core import Kiosk
from kiosk.paper_ledger import LedgerError, PaperLedger, serial_range
from tests.backend_fixtures import verify


def ledger(tmp_path: Path) -> PaperLedger:
    return PaperLedger(tmp_path / "paper.db", AuditLog(tmp_path / "audit.db"))


def test_serial_ranges() -> None:
    assert serial_range("A0000098", "A0000102") == [
        "A0000098",
        "A0000099",
        "A0000100",
        "A0000101",
        "A0000102",
    ]
    for first, last in (("A01", "B02"), ("A010", "A09"), ("A0100", "A0099")):
        with pytest.raises(LedgerError):
            serial_range(first, last)


def test_sheets_go_in_order_and_a_batch_cannot_be_loaded_twice(tmp_path: Path) -> None:
    paper = ledger(tmp_path)
    assert paper.load_batch("A0000101", "A0000105", "staff01") == 5
    with pytest.raises(LedgerError, match="A0000105"):
        paper.load_batch("A0000105", "A0000110", "staff01")
    assert paper.next_serial() == "A0000101"
    paper.record("A0000101", "printed")
    paper.record("A0000102", "jammed")
    assert paper.next_serial() == "A0000103"
    assert paper.missing() == []


def test_the_ledger_catches_a_missing_sheet(tmp_path: Path) -> None:
    paper = ledger(tmp_path)
    paper.load_batch("A0000101", "A0000105", "staff01")
    paper.record("A0000101", "printed")
    paper.record("A0000103", "printed")  # 102 left the tray unrecorded
    assert paper.missing() == ["A0000102"]
    registry = {"A0000101": "printed", "A0000103": "printed"}
    mismatches = paper.reconcile(registry)
    assert [(m.serial, m.reason) for m in mismatches] == [
        ("A0000102", "missing from the tray and unrecorded")
    ]
    assert [m.serial for m in paper.blocked()] == ["A0000102"]
    paper.resolve("A0000102", "spoiled", "staff01", "found torn in the printer")
    assert paper.blocked() == [] and paper.reconcile(registry | {"A0000102": "spoiled"}) == []


def test_a_disagreement_with_the_registry_blocks(tmp_path: Path) -> None:
    paper = ledger(tmp_path)
    paper.load_batch("A0000201", "A0000203", "staff01")
    paper.record("A0000201", "printed")
    mismatches = paper.reconcile({"A0000201": "spoiled", "A0000203": "printed"})
    assert {m.serial for m in mismatches} == {"A0000201", "A0000203"}


def test_a_blocked_ledger_stops_certificate_printing(sim_kiosk: Kiosk) -> None:
    service = sim_kiosk.printing
    client = sim_kiosk.backend_link.client
    assert service is not None and service.ledger is not None and client is not None
    data = client.certificate_data("YW20261101000002", verify(client).verification_id)
    assert not service.certificate("c:none", data).ok  # no paper loaded yet
    service.ledger.load_batch("B0000001", "B0000010", "staff01")
    first = service.certificate("c:1", data)
    assert first.ok and first.paper_serial == "B0000001"
    assert service.ledger.states()["B0000001"] == "printed"
    assert service.outbox is not None
    deadline = time.monotonic() + 10
    registry: dict[str, str] = {}
    while time.monotonic() < deadline and "B0000001" not in registry:
        service.outbox.deliver_due()
        registry = {r.paper_serial: r.outcome.value for r in client.list_paper().reports}
        time.sleep(0.05)
    assert service.ledger.reconcile(registry) == []
    service.ledger.record("B0000003", "printed")  # B0000002 went missing; registry unaware
    assert service.ledger.reconcile(registry)
    blocked = service.certificate("c:2", data)
    assert not blocked.ok and blocked.message is not None
    assert blocked.message.code == "paper_ledger" and "暂停打印证书" in blocked.message.zh
