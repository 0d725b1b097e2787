"""Diagnostics: each device's driver, status, capabilities and self-test, as data.

Used by ``kiosk diag``, later by the maintenance screen and the fleet health report. Nothing
personal goes in: statuses and self-tests carry device facts only.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.base import Role, SelfTestResult, Status
from kiosk import __version__
from kiosk.actions import CHECK_NETWORK, FINISH_REFUSED, Action, actions_for
from kiosk.core import Kiosk
from kiosk.documents.text_fit import wrap

CHINA = dt.timezone(dt.timedelta(hours=8))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class DeviceDiagnosis:
    role: Role
    driver: str
    required: bool
    status: Status
    capabilities: dict[str, object]
    self_test: SelfTestResult
    last_error: str
    actions: tuple[Action, ...] = ()

    @property
    def ok(self) -> bool:
        return self.self_test.ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "driver": self.driver,
            "required": self.required,
            "ok": self.ok,
            "status": self.status.as_dict(),
            "capabilities": self.capabilities,
            "self_test": self.self_test.as_dict(),
            "last_error": self.last_error,
            "actions": [a.as_dict() for a in self.actions],
        }


@dataclass(frozen=True)
class BackendDiagnosis:
    url: str
    up: bool
    error: str
    outbox_depth: int
    needing_attention: int = 0  # writes the registry refused, kept for staff

    @property
    def actions(self) -> list[Action]:
        actions = [] if self.up else [CHECK_NETWORK]
        return actions + ([FINISH_REFUSED] if self.needing_attention else [])

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "up": self.up,
            "error": self.error,
            "outbox_depth": self.outbox_depth,
            "needing_attention": self.needing_attention,
            "actions": [a.as_dict() for a in self.actions],
        }


@dataclass(frozen=True)
class Diagnosis:
    kiosk_id: str
    profile: str
    devices: tuple[DeviceDiagnosis, ...]
    backend: BackendDiagnosis
    at: dt.datetime = field(default_factory=_now)  # when it was taken (UTC)

    @property
    def at_iso(self) -> str:
        return self.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def at_local(self) -> str:
        """The time as the centre's staff read it (Beijing time)."""
        return self.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def ok(self) -> bool:
        """False when a required device fails its self-test or the registry is unreachable."""
        return self.backend.up and all(d.ok for d in self.devices if d.required)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kiosk": self.kiosk_id,
            "at": self.at_iso,
            "profile": self.profile,
            "version": __version__,
            "python": platform.python_version(),
            "ok": self.ok,
            "devices": [d.as_dict() for d in self.devices],
            "backend": self.backend.as_dict(),
        }

    def as_text(self) -> str:
        lines = [
            f"kiosk {self.kiosk_id}  profile {self.profile}  version {__version__}",
            f"at {self.at_local} (UTC+8)",
        ]
        for d in self.devices:
            mark = "PASS" if d.ok else "FAIL"
            need = "required" if d.required else "optional"
            details = ",".join(sorted(x.value for x in d.status.details))
            lines.append(
                f"  {mark}  {d.role.value:<12}{d.driver:<16}{need:<9}"
                f"{d.status.state.value}{' (' + details + ')' if details else ''}"
            )
            for step in d.self_test.steps:
                lines.append(f"        {'ok ' if step.ok else 'NO '} {step.name}: {step.detail}")
            for action in d.actions:
                lines.append(f"        -> {action.zh} / {action.en}")
        b = self.backend
        lines.append(
            f"  {'PASS' if b.up else 'FAIL'}  registry    {b.url}  outbox {b.outbox_depth}"
            + (f", {b.needing_attention} refused (kept)" if b.needing_attention else "")
            + (f"  ({b.error})" if b.error else "")
        )
        for action in b.actions:
            lines.append(f"        -> {action.zh} / {action.en}")
        if self.ok:
            lines.append("OK")
        elif not b.up:
            lines.append("FAILED: the registry is not reachable")
        else:
            lines.append("FAILED: a required device is not working")
        return "\n".join(lines)

    def as_receipt(self, width: int) -> list[str]:
        """The diagnosis for a receipt ``width`` columns wide: one device per block, every
        line wrapped at a word with its continuation indented under it (never cut mid-word
        into the next device's place)."""
        out = [f"{self.kiosk_id}  v{__version__}", f"{self.at_local} (UTC+8)", self.profile]

        def put(text: str, indent: int = 0) -> None:
            pad = " " * indent
            text = text.strip()
            first = (wrap(text, width - indent) or [""])[0]
            out.append(pad + first)
            rest = text[len(first) :].strip()
            for line in wrap(rest, width - indent - 2) if rest else []:
                out.append(pad + "  " + line)

        for d in self.devices:
            details = ",".join(sorted(x.value for x in d.status.details))
            need = "必需 required" if d.required else "可选 optional"
            put(f"[{'PASS' if d.ok else 'FAIL'}] {d.role.value} {d.driver} {need}")
            put(f"{d.status.state.value}{' (' + details + ')' if details else ''}", 2)
            for step in d.self_test.steps:
                put(f"{'ok' if step.ok else 'NO'} {step.name}: {step.detail}", 2)
            for action in d.actions:
                put(f"-> {action.zh}", 2)
                put(action.en, 5)
        b = self.backend
        put(f"[{'PASS' if b.up else 'FAIL'}] registry {b.url}")
        put(f"outbox {b.outbox_depth}, refused {b.needing_attention}", 2)
        if b.error:
            put(b.error, 2)
        for action in b.actions:
            put(f"-> {action.zh}", 2)
            put(action.en, 5)
        out.append("OK" if self.ok else "FAILED")
        return out


def diagnose(
    kiosk: Kiosk, settle_s: float = 10.0, clock: Callable[[], dt.datetime] = _now
) -> Diagnosis:
    """Wait for each device's first open attempt to finish, then self-test every device."""
    manager = kiosk.device_manager
    manager.wait_first_attempts(settle_s)
    manager.wait_until(lambda statuses: all(s.usable for s in statuses.values()), settle_s)
    devices = []
    for report in manager.reports():
        devices.append(
            DeviceDiagnosis(
                report.role,
                report.driver,
                report.required,
                report.status,
                report.capabilities,
                manager.self_test(report.role),
                report.last_error,
                tuple(actions_for(report.status, report.required)),
            )
        )
    link = kiosk.backend_link
    link.checked.wait(settle_s)
    url = link.client.settings.base_url if link.client else kiosk.config.backend.url
    outbox = link.outbox
    backend = BackendDiagnosis(
        url,
        link.up,
        link.last_error,
        outbox.depth() if outbox else 0,
        outbox.needing_attention() if outbox else 0,
    )
    return Diagnosis(kiosk.config.kiosk.id, kiosk.profile.name, tuple(devices), backend, clock())
