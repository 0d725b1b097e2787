"""Printing through the kiosk's print service on the real stacks: the ESC/POS emulator, cupsd
with cups-pdf, the sandbox registry. Nothing twice, failures with a message, paper accounted."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.base import Detail, Role, State
from drivers.certificate.cups_emulator import CupsEmulator
from drivers.receipt.escpos_emulator import EscposEmulator
from kiosk.backend import models as m
from kiosk.core import Kiosk
from kiosk.documents.certificate_overlay import (
    TEMPLATE,
    Calibration,
    LayoutError,
    certificate_overlay_pdf,
)
from kiosk.documents.receipts import queue_ticket
from kiosk.printing import PrintState
from tests.backend_fixtures import DEMO, face_jpeg, verify
from tests.qr import decode_qr
from tests.receipt_samples import TICKET

pytestmark = pytest.mark.stack


def printer_of(kiosk: Kiosk) -> EscposEmulator:
    emulator = kiosk.harness.emulators[Role.RECEIPT]  # type: ignore[union-attr]
    assert isinstance(emulator, EscposEmulator)
    return emulator


def cupsd_of(kiosk: Kiosk) -> CupsEmulator:
    emulator = kiosk.harness.emulators[Role.CERTIFICATE]  # type: ignore[union-attr]
    assert isinstance(emulator, CupsEmulator)
    return emulator


def wait_status(kiosk: Kiosk, role: Role, predicate: object, timeout: float = 10) -> None:
    assert kiosk.device_manager.wait_until(lambda s: predicate(s[role]), timeout), (  # type: ignore[operator]
        kiosk.device_manager.statuses()[role]
    )


def test_a_receipt_prints_once_per_action(sim_kiosk: Kiosk) -> None:
    service, printer = sim_kiosk.printing, printer_of(sim_kiosk)
    assert service is not None and sim_kiosk.audit is not None
    first = service.receipt("ticket:A012", queue_ticket(TICKET, 48))
    again = service.receipt("ticket:A012", queue_ticket(TICKET, 48))
    assert first.ok and not first.already_printed
    assert again.ok and again.already_printed
    receipts = printer.receipts()
    assert len(receipts) == 1 and "A012" in receipts[0].text
    outcomes = [r.outcome for r in sim_kiosk.audit.records("print.receipt")]
    assert outcomes == ["printed", "skipped_duplicate"]


def test_paper_out_during_a_receipt(sim_kiosk: Kiosk) -> None:
    service, printer = sim_kiosk.printing, printer_of(sim_kiosk)
    assert service is not None and sim_kiosk.audit is not None
    printer.conditions.paper_out = True
    wait_status(sim_kiosk, Role.RECEIPT, lambda s: Detail.PAPER_OUT in s.details)
    outcome = service.receipt("ack:YW1", queue_ticket(TICKET, 48))
    assert outcome.state is PrintState.FAILED and outcome.message is not None
    assert outcome.message.code == "paper_out" and outcome.message.retry
    assert "缺纸" in outcome.message.zh and "out of paper" in outcome.message.en
    assert printer.receipts() == [] or printer.receipts()[0].blocks == []
    failed = sim_kiosk.audit.records("print.receipt")[-1]
    assert failed.outcome == "failed" and failed.fields["code"] == "paper_out"
    printer.conditions.paper_out = False  # staff refilled it
    wait_status(sim_kiosk, Role.RECEIPT, lambda s: s.state is State.READY)
    retry = service.receipt("ack:YW1", queue_ticket(TICKET, 48))
    assert retry.ok and len(printer.receipts()) == 1


def test_a_query_certificate_through_cupsd(sim_kiosk: Kiosk, tmp_path: Path) -> None:
    client = sim_kiosk.backend_link.client
    assert client is not None and sim_kiosk.printing is not None
    verification = client.verify_identity(
        m.VerifyIdentity(
            DEMO.number, DEMO.name, m.CardType.RESIDENT, face_jpeg(), m.Liveness("blink", True)
        )
    )
    query = client.create_query(
        m.CreateQuery(verification.verification_id, m.QueryKind.OWN, "自查")
    )
    pdf = client.query_certificate(query.query_id)
    outcome = sim_kiosk.printing.document(f"query:{query.query_id}", pdf, "query certificate")
    assert outcome.ok
    outputs = list(cupsd_of(sim_kiosk).out.glob("*-job_*.pdf"))
    assert len(outputs) == 1
    info = subprocess.run(
        ["pdfinfo", str(outputs[0])], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and re.search(r"595(\.\d+)? x 842", info)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(outputs[0]), str(tmp_path / "page")], check=True
    )
    page = cv2.imread(str(next(tmp_path.glob("page*.png"))))
    assert decode_qr(page).endswith(f"code={query.verification_code}")


def test_a_jam_during_a_certificate_spoils_one_sheet_and_reprints_free(
    sim_kiosk: Kiosk,
) -> None:
    service, cupsd = sim_kiosk.printing, cupsd_of(sim_kiosk)
    assert service is not None and service.outbox is not None and sim_kiosk.audit is not None
    client = sim_kiosk.backend_link.client
    assert client is not None
    data = client.certificate_data("YW20261101000002", verify(client).verification_id)
    assert service.ledger is not None
    service.ledger.load_batch("A0000101", "A0000110", "staff01")  # staff loaded the paper
    cupsd.set_fault("media-jam-error")
    jammed = service.certificate("certificate:YW20261101000002", data, "A0000101")
    assert jammed.state is PrintState.FAILED and jammed.message is not None
    assert jammed.message.code == "jammed" and "卡纸" in jammed.message.zh
    wait_status(sim_kiosk, Role.CERTIFICATE, lambda s: Detail.JAMMED in s.details)
    cupsd.clear_fault()
    wait_status(sim_kiosk, Role.CERTIFICATE, lambda s: s.state is State.READY)
    printed = service.certificate("certificate:YW20261101000002", data, "A0000102")
    assert printed.ok
    again = service.certificate("certificate:YW20261101000002", data, "A0000103")
    assert again.already_printed  # a second tap: nothing printed, no sheet taken
    assert service.journal.paper_outcomes() == {
        "A0000101": "jammed",
        "A0000102": "printed",
    }
    sheets = service.ledger.states()
    assert (sheets["A0000101"], sheets["A0000102"], sheets["A0000103"]) == (
        "jammed",
        "printed",
        "loaded",
    )  # the unused sheet stays in the tray
    deadline = time.monotonic() + 10
    reported: dict[str, str] = {}
    while time.monotonic() < deadline and len(reported) < 2:
        service.outbox.deliver_due()
        conn = sim_kiosk.backend_link.sandbox.connection()  # type: ignore[union-attr]
        reported = dict(conn.execute("SELECT paper_serial, outcome FROM paper").fetchall())
        time.sleep(0.1)
    assert reported == {"A0000101": "jammed", "A0000102": "printed"}
    outcomes = [
        (r.outcome, r.fields.get("code")) for r in sim_kiosk.audit.records("print.certificate")
    ]
    assert outcomes[:2] == [("failed", "jammed"), ("printed", None)]


def ink_box(pdf: bytes, folder: Path, name: str) -> tuple[int, int, int, int]:
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "72", "-png", "-singlefile", str(path), str(folder / name)], check=True
    )
    image = cv2.imread(str(folder / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    ys, xs = np.nonzero(np.asarray(image) < 128)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


DATA = m.CertificateData(
    "YW1",
    "certificate",
    "鲁(2020)济南市不动产权第0001234号",
    "370102001001GB00001F00010001",
    "山东省济南市历下区泉城路5号1幢101室",
    ["张建国", "李娜"],
    "国有建设用地使用权/房屋所有权",
    "住宅",
    89.5,
    "2026-11-22",
)


def test_calibration_offsets_move_the_printed_fields(tmp_path: Path) -> None:
    base = ink_box(certificate_overlay_pdf(DATA, Calibration()), tmp_path, "base")
    moved = ink_box(
        certificate_overlay_pdf(DATA, Calibration(dx_mm=10, dy_mm=-5)), tmp_path, "moved"
    )
    per_mm = 72 / 25.4
    assert moved[0] - base[0] == pytest.approx(10 * per_mm, abs=1.5)
    assert moved[1] - base[1] == pytest.approx(-5 * per_mm, abs=1.5)


def test_long_values_shrink_and_impossible_ones_are_refused() -> None:
    import dataclasses

    long_address = "山东省济南市历下区泉城路" * 8
    fits = dataclasses.replace(DATA, address=long_address)
    assert certificate_overlay_pdf(fits, Calibration()).startswith(b"%PDF")
    impossible = dataclasses.replace(DATA, address=long_address * 10)
    with pytest.raises(LayoutError) as caught:
        certificate_overlay_pdf(impossible, Calibration())
    assert caught.value.field == "address"
    assert set(TEMPLATE) >= {"holders", "address", "unit_code", "certificate_number"}


def test_the_calibration_page_marks_move_with_the_offsets(tmp_path: Path) -> None:
    from kiosk.documents.certificate_overlay import calibration_page_pdf

    base = ink_box(calibration_page_pdf(Calibration()), tmp_path, "cal0")
    moved = ink_box(calibration_page_pdf(Calibration(dx_mm=0, dy_mm=-10)), tmp_path, "cal1")
    per_mm = 72 / 25.4
    assert base[1] - moved[1] == pytest.approx(10 * per_mm, abs=1.5)  # the top mark rose 10 mm


def test_a_cups_emulator_whose_queue_cannot_be_added_leaves_no_scheduler_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lpadmin refusing (as CUPS's default policy refused the unprivileged kiosk user) ends
    the emulator's start with the reason, and its cupsd with it: two were found still running
    after such failures."""
    from drivers.certificate import cups_emulator

    refuse = tmp_path / "lpadmin"
    refuse.write_text("#!/bin/sh\necho 'lpadmin: Forbidden' >&2\nexit 1\n")
    refuse.chmod(0o755)
    monkeypatch.setattr(cups_emulator, "LPADMIN", str(refuse))
    folder = tmp_path / "cups"
    emulator = CupsEmulator(folder)
    with pytest.raises(cups_emulator.CupsEmulatorError, match="Forbidden"):
        emulator.start()
    emulator.remove()

    def schedulers() -> list[str]:
        found = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text.startswith("/usr/sbin/cupsd") and str(folder.resolve()) in text:
                found.append(text)
        return found

    assert schedulers() == []
