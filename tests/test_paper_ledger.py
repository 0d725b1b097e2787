"""The security-paper ledger: every sheet accounted for, reconciled with the registry, and a
mismatch stops certificate printing until staff resolve it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drivers.base import Role
from drivers.certificate.cups_emulator import CupsEmulator
from kiosk.audit import AuditLog
from kiosk.core import Kiosk
from kiosk.maintenance_console import MaintenanceConsole
from kiosk.paper_ledger import LedgerError, PaperLedger, serial_range
from kiosk.printing import NO_SHEET_TAKEN
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


def registry_paper(kiosk: Kiosk, serial: str) -> dict[str, tuple[str, str]]:
    """The registry's record of this kiosk's sheets, once ``serial`` has reached it."""
    client, outbox = kiosk.backend_link.client, kiosk.backend_link.outbox
    assert client is not None and outbox is not None
    deadline = time.monotonic() + 10
    while True:
        outbox.deliver_due()
        found = {
            r.paper_serial: (r.outcome.value, r.case_number) for r in client.list_paper().reports
        }
        if serial in found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_test_or_calibration_page_takes_a_numbered_sheet_and_accounts_for_it(
    sim_kiosk: Kiosk,
) -> None:
    console = MaintenanceConsole(sim_kiosk)
    ledger = sim_kiosk.print_service.ledger
    assert ledger is not None
    ledger.load_batch("T0000001", "T0000005", "staff01")
    run = console.test_device(Role.CERTIFICATE)
    assert run.ok, run.steps
    assert console.print_calibration_page()
    states = ledger.states()
    assert (states["T0000001"], states["T0000002"], states["T0000003"]) == (
        "spoiled",
        "spoiled",
        "loaded",
    )
    assert ledger.next_serial() == "T0000003"  # the next certificate's sheet is the tray's
    registry = registry_paper(sim_kiosk, "T0000002")
    assert registry["T0000001"] == ("spoiled", "") and registry["T0000002"] == ("spoiled", "")
    assert console.reconcile_paper() == []  # the ledger and the registry agree
    audit = sim_kiosk.audit_log.records("paper.maintenance")
    assert [(r.outcome, r.fields["serial"]) for r in audit] == [
        ("spoiled", "T0000001"),
        ("spoiled", "T0000002"),
    ]


def test_a_print_refused_before_the_sheet_moved_leaves_it_for_the_next(sim_kiosk: Kiosk) -> None:
    service, client = sim_kiosk.print_service, sim_kiosk.backend_link.client
    assert service.ledger is not None and client is not None
    data = client.certificate_data("YW20261101000002", verify(client).verification_id)
    service.ledger.load_batch("U0000001", "U0000003", "staff01")
    emulator = sim_kiosk.harness.emulators[Role.CERTIFICATE]  # type: ignore[union-attr]
    assert isinstance(emulator, CupsEmulator)
    emulator.set_fault("media-empty-error")
    refused = service.certificate("c:empty", data)
    assert not refused.ok and refused.message is not None
    assert refused.message.code in NO_SHEET_TAKEN, refused.message.code
    assert service.ledger.states()["U0000001"] == "loaded"  # still the tray's next sheet
    emulator.clear_fault()
    deadline = time.monotonic() + 10
    while not sim_kiosk.device_manager.statuses()[Role.CERTIFICATE].usable:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    printed = service.certificate("c:again", data)
    assert printed.ok and printed.paper_serial == "U0000001"


def test_staff_reconcile_and_resolve_a_missing_sheet_and_printing_resumes(
    sim_kiosk: Kiosk,
) -> None:
    console = MaintenanceConsole(sim_kiosk)
    service, client = sim_kiosk.print_service, sim_kiosk.backend_link.client
    assert service.ledger is not None and client is not None
    data = client.certificate_data("YW20261101000002", verify(client).verification_id)
    service.ledger.load_batch("V0000001", "V0000004", "staff01")
    service.ledger.record("V0000002", "spoiled")  # torn by hand: V0000001 went missing
    mismatches = console.reconcile_paper()
    assert {m.serial for m in mismatches} == {"V0000001", "V0000002"}
    assert not service.certificate("c:blocked", data).ok  # blocked until resolved
    with pytest.raises(LedgerError, match="only be spoiled"):
        console.resolve_paper("V0000001", "printed", "no certificate on it")
    console.resolve_paper("V0000001", "spoiled", "lost: not in the tray")
    console.resolve_paper("V0000002", "spoiled", "torn, in the waste box")
    assert console.paper_blocks() == []
    registry = registry_paper(sim_kiosk, "V0000002")
    assert registry["V0000001"] == ("spoiled", "") and registry["V0000002"] == ("spoiled", "")
    assert console.reconcile_paper() == []
    printed = service.certificate("c:resumed", data)
    assert printed.ok and printed.paper_serial == "V0000003"
    actions = [(r.action, r.outcome) for r in sim_kiosk.audit_log.records("paper.resolve")]
    assert actions == [("paper.resolve", "spoiled")] * 2


def test_a_sheet_the_registry_records_otherwise_is_the_centres_to_settle(
    sim_kiosk: Kiosk,
) -> None:
    console = MaintenanceConsole(sim_kiosk)
    service = sim_kiosk.print_service
    assert service.ledger is not None
    service.ledger.load_batch("W0000001", "W0000002", "staff01")
    console.print_calibration_page()  # W0000001 reported spoiled
    registry_paper(sim_kiosk, "W0000001")
    service.ledger.record("W0000001", "printed")  # the ledger now disagrees
    assert [m.serial for m in console.reconcile_paper()] == ["W0000001"]
    with pytest.raises(LedgerError, match="ask the centre"):
        console.resolve_paper("W0000001", "printed", "")
    assert [b.serial for b in console.paper_blocks()] == ["W0000001"]
