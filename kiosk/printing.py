"""Printing as idempotent actions: a retried tap or a restart never prints the same thing twice,
a failure ends in a message, a safe state and an audit record, and every sheet of numbered
certificate paper is accounted for (printed, spoiled or jammed) with the registry.

Each print has an action id chosen by the flow (e.g. ``receipt:<case number>``). The journal
(SQLite) remembers what became of it. A print interrupted by a crash is *uncertain*: it is not
repeated by itself; the person (or staff) confirms a reprint.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from drivers.base import Role
from drivers.receipt.ops import Op
from kiosk.audit import AuditLog
from kiosk.backend import models as m
from kiosk.devices import DeviceManager
from kiosk.documents.certificate_overlay import Calibration, certificate_overlay_pdf
from kiosk.events import EventBus
from kiosk.messages import UserMessage, message_for
from kiosk.outbox import Outbox
from kiosk.paper_ledger import PaperLedger
from kiosk.store import open_store

SCHEMA = """
CREATE TABLE IF NOT EXISTS prints (
    action_id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS paper (
    paper_serial TEXT PRIMARY KEY, action_id TEXT NOT NULL, case_number TEXT NOT NULL,
    outcome TEXT NOT NULL, updated REAL NOT NULL
);
"""
MIGRATIONS = (SCHEMA,)


class PrintState(StrEnum):
    STARTED = "started"
    PRINTED = "printed"
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # interrupted mid-print: it may have come out


@dataclass(frozen=True)
class PrintOutcome:
    action_id: str
    state: PrintState
    already_printed: bool = False
    message: UserMessage | None = None
    paper_serial: str = ""

    @property
    def ok(self) -> bool:
        return self.state is PrintState.PRINTED


LEDGER_BLOCKED = UserMessage(
    "paper_ledger",
    "证书纸核对不一致，暂停打印证书，请联系工作人员；可扫码下载电子证明",
    "The certificate paper does not reconcile: certificate printing is paused. Please ask "
    "staff, or scan for the e-certificate",
    False,
)
NO_PAPER = UserMessage(
    "paper_out",
    "证书纸已用完，请联系工作人员装纸",
    "No certificate paper is loaded; please ask staff to load it",
    True,
)


class PrintJournal:
    def __init__(self, path: Path) -> None:
        self._conn = open_store(path, "print journal", MIGRATIONS)
        self._lock = threading.Lock()
        # A print that was under way when the kiosk stopped is uncertain, not lost or repeated;
        # the sheet it was on counts as spoiled (it may be half printed).
        self.interrupted_sheets: list[tuple[str, str]] = [
            (str(r[0]), str(r[1]))
            for r in self._conn.execute(
                "SELECT paper_serial, case_number FROM paper WHERE outcome = 'started'"
            )
        ]
        self._conn.execute("UPDATE prints SET state = 'uncertain' WHERE state = 'started'")
        self._conn.execute("UPDATE paper SET outcome = 'spoiled' WHERE outcome = 'started'")

    def state(self, action_id: str) -> PrintState | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT state FROM prints WHERE action_id = ?", (action_id,)
            ).fetchone()
        return PrintState(row[0]) if row else None

    def set(self, action_id: str, kind: str, state: PrintState, detail: str = "") -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO prints (action_id, kind, state, detail, attempts, updated) "
                "VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (action_id) DO UPDATE SET "
                "state = excluded.state, detail = excluded.detail, updated = excluded.updated, "
                "attempts = attempts + (excluded.state = 'started')",
                (action_id, kind, state.value, detail, time.time()),
            )

    def paper(self, serial: str, action_id: str, case_number: str, outcome: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO paper VALUES (?, ?, ?, ?, ?) ON CONFLICT (paper_serial) DO UPDATE "
                "SET outcome = excluded.outcome, updated = excluded.updated",
                (serial, action_id, case_number, outcome, time.time()),
            )

    def release_paper(self, serial: str) -> None:
        """The sheet never left the tray: it is free for the next print."""
        with self._lock:
            self._conn.execute("DELETE FROM paper WHERE paper_serial = ?", (serial,))

    def paper_outcomes(self) -> dict[str, str]:
        with self._lock:
            rows = self._conn.execute("SELECT paper_serial, outcome FROM paper").fetchall()
        return dict(rows)

    def close(self) -> None:
        self._conn.close()


# a print refused with one of these never moved a sheet (the printer said so before feeding):
# the sheet stays the tray's next; any other failure may have taken it, and it is spoiled
NO_SHEET_TAKEN = frozenset(
    {"paper_out", "no_paper", "cover_open", "printer_offline", "printer_stopped", "busy"}
)


def sheet_taken(outcome: PrintOutcome) -> bool:
    if outcome.ok or outcome.message is None:
        return True
    return outcome.message.code not in NO_SHEET_TAKEN


class PrintService:
    def __init__(
        self,
        journal: PrintJournal,
        devices: DeviceManager,
        audit: AuditLog,
        outbox: Outbox | None = None,
        calibration: Calibration | None = None,
        timeout_s: float = 120.0,
        bus: EventBus | None = None,
        ledger: PaperLedger | None = None,
    ) -> None:
        self.bus = bus
        self.ledger = ledger
        for serial, case_number in journal.interrupted_sheets:  # after a crash or power cut
            if ledger is not None:
                ledger.record(serial, "spoiled")
            if outbox is not None:
                outbox.put(
                    "report_paper",
                    m.PaperReport(case_number, serial, m.PaperOutcome.SPOILED),
                    group=case_number,
                    key=f"paper-{serial}",
                )
            audit.record("kiosk", "paper.interrupted", "spoiled", serial=serial)
        self.journal = journal
        self.devices = devices
        self.audit = audit
        self.outbox = outbox
        self.calibration = calibration or Calibration()
        self.timeout_s = timeout_s

    def receipt(
        self, action_id: str, ops: list[Op], *, kind: str = "receipt", reprint: bool = False
    ) -> PrintOutcome:
        return self._print(
            action_id, kind, Role.RECEIPT, lambda printer: printer.print_ops(ops), reprint
        )

    def document(
        self,
        action_id: str,
        pdf: bytes,
        title: str,
        *,
        kind: str = "document",
        reprint: bool = False,
    ) -> PrintOutcome:
        return self._print(
            action_id,
            kind,
            Role.CERTIFICATE,
            lambda printer: _print_pdf(printer, pdf, title, self.timeout_s),
            reprint,
        )

    def certificate(
        self,
        action_id: str,
        data: m.CertificateData,
        paper_serial: str | None = None,
        *,
        reprint: bool = False,
    ) -> PrintOutcome:
        """The certificate on the sheet numbered ``paper_serial`` (by default the ledger's next
        sheet); the sheet is reported to the registry as printed, or as jammed/spoiled when the
        print fails. A paper ledger that does not reconcile stops certificate printing."""
        state = self.journal.state(action_id)
        if not reprint and state in (PrintState.PRINTED, PrintState.UNCERTAIN):
            # printed already, or perhaps: answer without taking a sheet from the tray
            return self._print(action_id, "certificate", Role.CERTIFICATE, None, reprint)
        if self.ledger is not None and self.ledger.blocked():
            return PrintOutcome(action_id, PrintState.FAILED, message=LEDGER_BLOCKED)
        if paper_serial is None:
            paper_serial = self.ledger.next_serial() if self.ledger is not None else None
            if paper_serial is None:
                return PrintOutcome(action_id, PrintState.FAILED, message=NO_PAPER)
        pdf = certificate_overlay_pdf(data, self.calibration)
        known = self.journal.paper_outcomes()
        if paper_serial in known:
            return PrintOutcome(
                action_id,
                PrintState.FAILED,
                message=UserMessage(
                    "serial_used",
                    "该证书纸编号已使用，请装入下一张",
                    "This sheet number was used already; load the next sheet",
                    True,
                ),
                paper_serial=paper_serial,
            )
        self.journal.paper(paper_serial, action_id, data.case_number, "started")
        outcome = self._print(
            action_id,
            "certificate",
            Role.CERTIFICATE,
            lambda printer: _print_pdf(printer, pdf, data.case_number, self.timeout_s),
            reprint,
            serial=paper_serial,
        )
        if not sheet_taken(outcome):  # refused before the sheet moved: it is the next one still
            self.journal.release_paper(paper_serial)
            self.audit.record("kiosk", "paper.untouched", "loaded", serial=paper_serial)
            return outcome
        result = (
            "printed"
            if outcome.ok
            else ("jammed" if outcome.message and outcome.message.code == "jammed" else "spoiled")
        )
        self.journal.paper(paper_serial, action_id, data.case_number, result)
        if self.ledger is not None:
            self.ledger.record(paper_serial, result)
        if self.outbox is not None:
            self.outbox.put(
                "report_paper",
                m.PaperReport(data.case_number, paper_serial, m.PaperOutcome(result)),
                group=data.case_number,
                key=f"paper-{paper_serial}",
            )
        return outcome

    def maintenance_page(self, action_id: str, pdf: bytes, title: str) -> PrintOutcome:
        """A test or calibration page on the certificate printer. Its tray holds numbered
        security paper: the page takes the ledger's next sheet, which is then accounted for
        as spoiled (jammed if it jammed), in the ledger and to the registry (a report without
        a case: maintenance). With no sheet in the ledger, the tray holds plain paper."""
        serial = self.ledger.next_serial() if self.ledger is not None else None
        outcome = self._print(
            action_id,
            "test",
            Role.CERTIFICATE,
            lambda printer: _print_pdf(printer, pdf, title, self.timeout_s),
            True,  # each test is a new page
            serial=serial or "",
        )
        if serial is None:
            return outcome
        if not sheet_taken(outcome):  # the sheet is still in the tray: the next print's
            return outcome
        jammed = outcome.message is not None and outcome.message.code == "jammed"
        result = m.PaperOutcome.JAMMED if jammed else m.PaperOutcome.SPOILED
        assert self.ledger is not None
        self.ledger.record(serial, result.value)
        self.audit.record("kiosk", "paper.maintenance", result.value, serial=serial, page=title)
        if self.outbox is not None:
            self.outbox.put(
                "report_paper",
                m.PaperReport("", serial, result),
                group="paper-maintenance",
                key=f"paper-{serial}",
            )
        return outcome

    def _print(
        self, action_id: str, kind: str, role: Role, job: Any, reprint: bool, serial: str = ""
    ) -> PrintOutcome:
        state = self.journal.state(action_id)
        if state is PrintState.PRINTED and not reprint:
            self.audit.record("kiosk", f"print.{kind}", "skipped_duplicate", action_id=action_id)
            return PrintOutcome(
                action_id, PrintState.PRINTED, already_printed=True, paper_serial=serial
            )
        if state is PrintState.UNCERTAIN and not reprint:
            return PrintOutcome(
                action_id,
                PrintState.UNCERTAIN,
                message=UserMessage(
                    "uncertain",
                    "上次打印可能已完成，请检查出纸口；如未取到，可选择重新打印",
                    "The last print may have come out; please check the tray, or choose to reprint",
                    True,
                ),
                paper_serial=serial,
            )
        self.journal.set(action_id, kind, PrintState.STARTED)
        try:
            self.devices.submit(role, job).result(self.timeout_s + 10)
        except Exception as err:
            message = message_for(err)
            self.journal.set(action_id, kind, PrintState.FAILED, message.code)
            self.audit.record(
                "kiosk",
                f"print.{kind}",
                "failed",
                action_id=action_id,
                code=message.code,
                serial=serial,
                error=str(err),
            )
            if self.bus is not None:
                self.bus.publish(
                    "print:failed", {"kind": kind, "code": message.code, "role": role.value}
                )
            return PrintOutcome(action_id, PrintState.FAILED, message=message, paper_serial=serial)
        self.journal.set(action_id, kind, PrintState.PRINTED)
        self.audit.record("kiosk", f"print.{kind}", "printed", action_id=action_id, serial=serial)
        if self.bus is not None:
            self.bus.publish("print:printed", {"kind": kind, "role": role.value})
        return PrintOutcome(action_id, PrintState.PRINTED, paper_serial=serial)


def _print_pdf(printer: Any, pdf: bytes, title: str, timeout_s: float) -> None:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        job = printer.print_pdf(handle.name, title)
        printer.wait_job(job, timeout_s)
