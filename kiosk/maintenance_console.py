"""What the maintenance screens do, without Kivy: the device dashboard, step-by-step device
tests, calibration, the paper ledger, the log export, the out-of-service switch and the
help-desk summary.

Every call that touches a device runs on that device's own thread (through the device
manager) and may take seconds: the screens call these from a worker thread and show the steps
as they arrive. Every staff action is audited under "maintenance".
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from drivers.base import Role, SelfTestStep, State
from kiosk import __version__
from kiosk.actions import Action, actions_for
from kiosk.backend import models as m
from kiosk.core import Kiosk
from kiosk.diagnostics import Diagnosis, diagnose
from kiosk.documents.certificate_overlay import Calibration, calibration_page_pdf
from kiosk.documents.receipts import Layout
from kiosk.documents.test_page import a4_test_page, receipt_test_page
from kiosk.identity.faces import draw_faces, make_detector
from kiosk.maintenance import calibration_path, save_calibration
from kiosk.messages import message_for
from kiosk.paper_ledger import LedgerError, Mismatch

StepSink = Callable[[SelfTestStep], None]


@dataclass(frozen=True)
class DeviceRow:
    """One line of the dashboard."""

    role: Role
    driver: str
    required: bool
    state: State
    details: tuple[str, ...]
    message: str
    actions: tuple[Action, ...]
    counters: dict[str, int]


@dataclass
class TestRun:
    """A device test as staff see it: the steps so far, and a picture when there is one
    (the camera frame with the face box, the scanned page)."""

    role: Role
    steps: list[SelfTestStep] = field(default_factory=list)
    image: np.ndarray[Any, Any] | None = None
    actions: tuple[Action, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)


class MaintenanceConsole:
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk

    @property
    def actor(self) -> str:
        """The technician in maintenance, as the audit names them."""
        access = self.kiosk.maintenance
        return access.actor if access is not None else "maintenance"

    # -- the dashboard --------------------------------------------------------------------

    def rows(self) -> list[DeviceRow]:
        metrics = self.kiosk.metrics
        ledger = self.kiosk.printing.ledger if self.kiosk.printing else None
        rows = []
        for report in self.kiosk.device_manager.reports():
            counters = {"faults": metrics.faults.get(report.role, 0) if metrics else 0}
            if report.role is Role.IDCARD:
                counters["cards_read"] = metrics.cards if metrics else 0
            if report.role in (Role.RECEIPT, Role.CERTIFICATE) and metrics is not None:
                counters["pages_printed"] = metrics.pages.get(report.role, 0)
            if report.role is Role.CERTIFICATE and ledger is not None:
                states = ledger.states().values()
                counters["paper_used"] = sum(1 for s in states if s != "loaded")
                counters["paper_left"] = sum(1 for s in states if s == "loaded")
            rows.append(
                DeviceRow(
                    report.role,
                    report.driver,
                    report.required,
                    report.status.state,
                    tuple(sorted(d.value for d in report.status.details)),
                    report.status.message or report.last_error,
                    tuple(actions_for(report.status, report.required)),
                    counters,
                )
            )
        return rows

    # -- device tests ---------------------------------------------------------------------

    def test_device(self, role: Role, on_step: StepSink | None = None) -> TestRun:
        """The driver's self-test, then the test that shows the device does its job: read
        the card on the reader, print a test page, capture a frame and box the face, scan."""
        run = TestRun(role)

        def step(name: str, ok: bool, detail: str = "") -> bool:
            item = SelfTestStep(name, ok, detail)
            run.steps.append(item)
            if on_step is not None:
                on_step(item)
            return ok

        manager = self.kiosk.device_manager
        base = manager.self_test(role)
        for item in base.steps:
            step(item.name, item.ok, item.detail)
        if base.ok:
            try:
                {
                    Role.IDCARD: self._test_idcard,
                    Role.CAMERA: self._test_camera,
                    Role.SCANNER: self._test_scanner,
                    Role.RECEIPT: self._test_receipt,
                    Role.CERTIFICATE: self._test_certificate,
                }[role](run, step)
            except Exception as err:  # a device error is a failed step, never a crash
                message = message_for(err)
                step("error", False, f"{message.zh} / {message.en}")
        status = manager.statuses()[role]
        run.actions = tuple(actions_for(status, manager.devices[role].spec.required))
        self.kiosk.audit_log.record(
            self.actor,
            "device.test",
            "pass" if run.ok else "fail",
            role=role.value,
            steps=",".join(f"{s.name}:{'ok' if s.ok else 'no'}" for s in run.steps),
        )
        return run

    def _submit(self, role: Role, job: Callable[[Any], Any], timeout: float = 60.0) -> Any:
        return self.kiosk.device_manager.submit(role, job).result(timeout)

    def _test_idcard(self, run: TestRun, step: Callable[..., bool]) -> None:
        present = bool(self._submit(Role.IDCARD, lambda d: d.card_present()))
        if not step("card_present", present, "" if present else "请放一张身份证 / Place a card"):
            return
        document = self._submit(Role.IDCARD, lambda d: d.read_identity())
        # staff see that the card was read, not whose card it is
        number = str(document.number)
        step("read_card", True, f"{number[:4]}{'*' * max(0, len(number) - 6)}{number[-2:]}")
        photo = document.photo or document.raw_photo
        step("photo", bool(photo), f"{document.photo_state.value}, {len(photo)} bytes")
        del document

    def _test_camera(self, run: TestRun, step: Callable[..., bool]) -> None:
        frame = np.asarray(self._submit(Role.CAMERA, lambda d: d.grab()))
        step("capture", True, f"{frame.shape[1]}x{frame.shape[0]}")
        detector = make_detector(
            self.kiosk.config.identity.detector, self.kiosk.config.identity.yunet_model
        )
        faces = detector.detect(frame)
        run.image = draw_faces(frame, faces)
        step(
            "face",
            len(faces) == 1,
            f"{len(faces)} ({detector.name})" if faces else "请站到摄像头前 / Stand in front",
        )

    def _test_scanner(self, run: TestRun, step: Callable[..., bool]) -> None:
        page = np.asarray(self._submit(Role.SCANNER, lambda d: d.scan_page(), 120.0))
        if page.ndim == 2:
            page = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
        elif page.shape[2] == 3:
            page = cv2.cvtColor(page, cv2.COLOR_RGB2BGR)
        run.image = page
        step("scan_page", page.size > 0, f"{page.shape[1]}x{page.shape[0]}")

    def _test_receipt(self, run: TestRun, step: Callable[..., bool]) -> None:
        columns = int(getattr(self._settings(Role.RECEIPT), "chars_per_line", 48))
        outcome = self.kiosk.print_service.receipt(
            _action("test-receipt"),
            receipt_test_page(columns, self.kiosk.config.kiosk.id),
            kind="test",
        )
        step("print_test_page", outcome.ok, _outcome_text(outcome))

    def _test_certificate(self, run: TestRun, step: Callable[..., bool]) -> None:
        # on the tray's numbered paper: the ledger accounts for the sheet it takes
        outcome = self.kiosk.print_service.maintenance_page(
            _action("test-a4"), a4_test_page(self.kiosk.config.kiosk.id), "test page"
        )
        step("print_test_page", outcome.ok, _outcome_text(outcome))

    def _settings(self, role: Role) -> Any:
        device = self.kiosk.device_manager.devices[role].device
        return getattr(device, "settings", None)

    # -- certificate printer calibration --------------------------------------------------

    @property
    def calibration(self) -> Calibration:
        return self.kiosk.print_service.calibration

    def print_calibration_page(self, calibration: Calibration | None = None) -> bool:
        outcome = self.kiosk.print_service.maintenance_page(
            _action("calibration"),
            calibration_page_pdf(calibration or self.calibration),
            "calibration",
        )
        return outcome.ok

    def save_calibration(self, calibration: Calibration) -> Path:
        path = calibration_path(self.kiosk.config.source, self.kiosk.config.data_dir)
        save_calibration(path, calibration, self.kiosk.audit_log, self.actor)
        self.kiosk.print_service.calibration = calibration
        return path

    # -- certificate paper ----------------------------------------------------------------

    def load_paper(self, first: str, last: str) -> int:
        ledger = self.kiosk.print_service.ledger
        if ledger is None:
            raise LedgerError("this kiosk keeps no paper ledger")
        return ledger.load_batch(first.strip().upper(), last.strip().upper(), self.actor)

    def paper_blocks(self) -> list[Mismatch]:
        ledger = self.kiosk.print_service.ledger
        return ledger.blocked() if ledger is not None else []

    def _registry_paper(self) -> dict[str, str]:
        """What the registry has recorded of this kiosk's sheets (serial → outcome), after
        sending what waits in the outbox. Raises BackendError when it cannot be asked."""
        link = self.kiosk.backend_link
        if link.client is None:
            raise LedgerError("the registry is not configured")
        if link.outbox is not None:
            link.outbox.deliver_due()
        reports = link.client.list_paper().reports
        return {r.paper_serial: r.outcome.value for r in reports}

    def reconcile_paper(self) -> list[Mismatch]:
        """Compare the ledger with the registry's record; each mismatch blocks certificate
        printing until it is resolved here. Raises BackendError with the registry away."""
        ledger = self.kiosk.print_service.ledger
        if ledger is None:
            raise LedgerError("this kiosk keeps no paper ledger")
        mismatches = ledger.reconcile(self._registry_paper())
        self.kiosk.audit_log.record(
            self.actor, "paper.reconcile_run", "mismatch" if mismatches else "match"
        )
        return mismatches

    def resolve_paper(self, serial: str, outcome: str, note: str) -> None:
        """The technician says what became of a blocked sheet (found spoiled, printed as the
        registry says, lost). The registry is told of a sheet it has no record of; a sheet it
        records otherwise is the centre's to settle, never overwritten from here."""
        ledger = self.kiosk.print_service.ledger
        if ledger is None:
            raise LedgerError("this kiosk keeps no paper ledger")
        if serial not in {b.serial for b in ledger.blocked()}:
            raise LedgerError(f"sheet {serial} is not waiting to be resolved")
        registry = self._registry_paper()
        recorded = registry.get(serial)
        if recorded is not None and recorded != outcome:
            raise LedgerError(
                f"the registry records sheet {serial} as {recorded}: ask the centre to settle it"
            )
        if recorded is None and outcome == "printed":
            raise LedgerError(
                f"the registry has no certificate on sheet {serial}: it can only be spoiled"
            )
        ledger.resolve(serial, outcome, self.actor, note)
        link = self.kiosk.backend_link
        if recorded is None and link.outbox is not None:
            link.outbox.put(
                "report_paper",
                m.PaperReport("", serial, m.PaperOutcome(outcome)),
                group="paper-maintenance",
                key=f"paper-{serial}",
            )

    # -- out of service -------------------------------------------------------------------

    def service_state(self) -> tuple[bool, str]:
        switch = self.kiosk.service_switch
        return switch.state() if switch is not None else (False, "")

    def set_out_of_service(self, out: bool, message: str = "") -> None:
        if self.kiosk.service_switch is not None:
            self.kiosk.service_switch.set(out, message, self.actor)

    # -- help desk ------------------------------------------------------------------------

    def diagnose(self) -> Diagnosis:
        return diagnose(self.kiosk, settle_s=2.0)

    def print_diagnosis(self, diagnosis: Diagnosis) -> bool:
        columns = int(getattr(self._settings(Role.RECEIPT), "chars_per_line", 48))
        layout = Layout(columns)
        layout.text("设备诊断 Diagnosis", "center", double=True)
        for line in diagnosis.as_receipt(columns):
            layout.text(line)
        layout.qr(help_desk_code(diagnosis))
        outcome = self.kiosk.print_service.receipt(_action("diag"), layout.end(), kind="test")
        self.kiosk.audit_log.record(self.actor, "diag.print", "printed" if outcome.ok else "failed")
        return outcome.ok

    def export_logs(self, target: Path | None = None) -> Path:
        """Copy the (already redacted) logs, the diagnosis, the metrics and the audit chain's
        check to ``<USB stick>/dengji-<kiosk>-<time>/``. Raises FileNotFoundError when no stick
        is mounted there."""
        root = Path(target or self.kiosk.config.maintenance.export_dir)
        if not root.is_dir():
            raise FileNotFoundError(f"no USB stick at {root}")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder = root / f"dengji-{self.kiosk.config.kiosk.id}-{stamp}"
        folder.mkdir()
        logs = self.kiosk.config.data_dir / "logs"
        copied = 0
        for item in sorted(logs.glob("kiosk.log*")) if logs.is_dir() else []:
            shutil.copy2(item, folder / item.name)
            copied += 1
        diagnosis = self.diagnose().as_dict()
        (folder / "diag.json").write_text(json.dumps(diagnosis, ensure_ascii=False, indent=2))
        if self.kiosk.metrics is not None:
            (folder / "metrics.txt").write_text(self.kiosk.metrics.render())
        problem = self.kiosk.audit_log.verify()
        (folder / "audit-verify.txt").write_text(problem or "audit chain intact\n")
        (folder / "VERSION").write_text(f"{__version__}\n")
        self.kiosk.audit_log.record(self.actor, "logs.export", "exported", files=copied + 4)
        return folder

    def restart(self) -> None:
        self.kiosk.audit_log.record(self.actor, "kiosk.restart", "requested")


def help_desk_code(diagnosis: Diagnosis) -> str:
    """A compact line for the help desk's QR: kiosk, version, and each part's state and what
    to do (no personal data: device facts only)."""
    verdict = "OK" if diagnosis.ok else "FAIL"
    parts = [f"DJK1|{diagnosis.kiosk_id}|{__version__}|{diagnosis.at_iso}|{verdict}"]
    for d in diagnosis.devices:
        details = "+".join(sorted(x.value for x in d.status.details))
        todo = "+".join(a.code for a in d.actions)
        parts.append(
            f"{d.role.value}:{'ok' if d.ok else 'fail'}:{d.status.state.value}:{details}:{todo}"
        )
    b = diagnosis.backend
    parts.append(f"registry:{'up' if b.up else 'down'}:outbox={b.outbox_depth}")
    return "|".join(parts)


def _action(kind: str) -> str:
    """A fresh print action id: a maintenance test is never a duplicate of an earlier one."""
    return f"maint-{kind}-{time.time_ns()}"


def _outcome_text(outcome: Any) -> str:
    if outcome.ok:
        return "ok"
    message = outcome.message
    return f"{message.zh} / {message.en}" if message is not None else str(outcome.state)
