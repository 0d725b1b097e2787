"""Maintenance mode without the UI: PIN entry with lockout, automatic exit when idle, the
out-of-service switch, and printer calibration saved as machine-written settings.

Each technician has an id and a PIN kept as a scrypt hash (``[maintenance]
technicians_file``, see ``kiosk.technicians``); with none configured, maintenance by PIN is
off. Every entry, refusal and change is audited, under "maintenance:<technician id>" once a
technician is in ("maintenance" for a refused entry: nobody is known then).
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.audit import AuditLog
from kiosk.documents.certificate_overlay import Calibration
from kiosk.technicians import pin_matches

LOCK_AFTER = 5
LOCK_S = 300.0


@dataclass(frozen=True)
class EntryResult:
    ok: bool
    locked_for_s: float = 0.0
    attempts_left: int = LOCK_AFTER


class MaintenanceAccess:
    def __init__(
        self,
        technicians: dict[str, str],
        audit: AuditLog,
        idle_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._technicians = dict(technicians)  # id → scrypt hash of their PIN
        self._audit = audit
        self.who = ""  # the technician in maintenance now
        self._clock = clock
        self.idle_s = idle_s
        self._failures = 0
        self._locked_until = 0.0
        self._last = 0.0
        self.active = False

    @property
    def enabled(self) -> bool:
        return bool(self._technicians)

    @property
    def actor(self) -> str:
        """Who the audit names for what is done in maintenance now."""
        return f"maintenance:{self.who}" if self.active and self.who else "maintenance"

    def enter(self, pin: str) -> EntryResult:
        now = self._clock()
        if not self.enabled:
            self._audit.record("maintenance", "maintenance.enter", "disabled")
            return EntryResult(False, attempts_left=0)
        if now < self._locked_until:
            self._audit.record("maintenance", "maintenance.enter", "locked")
            return EntryResult(False, self._locked_until - now, 0)
        who = next((t for t, stored in self._technicians.items() if pin_matches(pin, stored)), "")
        if who:
            self._failures, self.active, self._last, self.who = 0, True, now, who
            self._audit.record(self.actor, "maintenance.enter", "ok")
            return EntryResult(True)
        self._failures += 1
        if self._failures >= LOCK_AFTER:
            self._failures, self._locked_until = 0, now + LOCK_S
            self._audit.record("maintenance", "maintenance.enter", "locked_out")
            return EntryResult(False, LOCK_S, 0)
        self._audit.record("maintenance", "maintenance.enter", "denied")
        return EntryResult(False, attempts_left=LOCK_AFTER - self._failures)

    def touch(self) -> None:
        self._last = self._clock()

    def tick(self) -> bool:
        """False once maintenance has ended by itself (idle)."""
        if self.active and self._clock() - self._last > self.idle_s:
            self.exit("idle")
        return self.active

    def exit(self, reason: str = "done") -> None:
        if self.active:
            self._audit.record(self.actor, "maintenance.exit", reason)
            self.active, self.who = False, ""


class ServiceSwitch:
    """Out of service by staff decision, with a message; kept across restarts."""

    def __init__(self, path: Path, audit: AuditLog) -> None:
        self.path = path
        self._audit = audit

    def state(self) -> tuple[bool, str]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return False, ""
        return bool(data.get("out_of_service")), str(data.get("message", ""))

    def set(self, out_of_service: bool, message: str = "", actor: str = "maintenance") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"out_of_service": out_of_service, "message": message}, ensure_ascii=False)
        )
        tmp.replace(self.path)
        self._audit.record(
            actor, "service.switch", "out_of_service" if out_of_service else "in_service"
        )


def calibration_path(config_source: str, data_dir: Path) -> Path:
    """Machine-written calibration lives in the kiosk's data folder: the site configuration's
    folder is read-only on a deployed kiosk (``config_source`` is kept for callers)."""
    return data_dir / "calibration.toml"


def load_calibration(path: Path) -> Calibration:
    try:
        data = tomllib.loads(path.read_text())
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        return Calibration()
    printer = data.get("certificate", {})
    return Calibration(float(printer.get("dx_mm", 0.0)), float(printer.get("dy_mm", 0.0)))


def save_calibration(
    path: Path, calibration: Calibration, audit: AuditLog, actor: str = "maintenance"
) -> None:
    if abs(calibration.dx_mm) > 20 or abs(calibration.dy_mm) > 20:
        raise ValueError("offsets beyond 20 mm: check the paper guides instead")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        "# Written by the kiosk's maintenance mode; do not edit by hand.\n"
        f"[certificate]\ndx_mm = {calibration.dx_mm:.1f}\ndy_mm = {calibration.dy_mm:.1f}\n"
    )
    tmp.replace(path)
    audit.record(
        actor, "calibration.save", "saved", dx_mm=calibration.dx_mm, dy_mm=calibration.dy_mm
    )
