"""Maintenance without the UI: PIN lockout, idle exit, out of service, calibration files."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from kiosk.audit import AuditLog
from kiosk.config import MaintenanceSection
from kiosk.core import Kiosk
from kiosk.documents.certificate_overlay import Calibration
from kiosk.maintenance import (
    LOCK_S,
    MaintenanceAccess,
    ServiceSwitch,
    calibration_path,
    load_calibration,
    save_calibration,
)
from kiosk.shell import Shell
from tests.conftest import fast_config

PIN = "482915"
PIN_HASH = hashlib.sha256(PIN.encode()).hexdigest()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_wrong_pins_lock_out(tmp_path: Path) -> None:
    audit, clock = AuditLog(tmp_path / "audit.db"), Clock()
    access = MaintenanceAccess(PIN_HASH, audit, clock=clock)
    for left in (4, 3, 2, 1):
        assert access.enter("000000").attempts_left == left
    locked = access.enter("111111")
    assert not locked.ok and locked.locked_for_s == LOCK_S
    assert not access.enter(PIN).ok  # even the right PIN, while locked
    clock.now += LOCK_S + 1
    assert access.enter(PIN).ok and access.active
    outcomes = [r.outcome for r in audit.records("maintenance.enter")]
    assert outcomes == ["denied"] * 4 + ["locked_out", "locked", "ok"]


def test_maintenance_ends_by_itself_when_idle(tmp_path: Path) -> None:
    clock = Clock()
    access = MaintenanceAccess(PIN_HASH, AuditLog(tmp_path / "audit.db"), idle_s=60, clock=clock)
    assert access.enter(PIN).ok
    clock.now += 59
    assert access.tick()
    access.touch()
    clock.now += 61
    assert not access.tick() and not access.active


def test_no_pin_configured_means_no_entry(tmp_path: Path) -> None:
    access = MaintenanceAccess("", AuditLog(tmp_path / "audit.db"))
    assert not access.enabled and not access.enter("").ok


def test_out_of_service_is_kept_and_shown(sim_kiosk: Kiosk) -> None:
    assert sim_kiosk.service_switch is not None
    shell = Shell(sim_kiosk)
    assert not shell.out_of_service()
    sim_kiosk.service_switch.set(True, "打印机维修中")
    again = ServiceSwitch(sim_kiosk.service_switch.path, sim_kiosk.audit)  # type: ignore[arg-type]
    assert again.state() == (True, "打印机维修中")
    assert shell.out_of_service()
    sim_kiosk.service_switch.set(False)
    assert not shell.out_of_service()


def test_calibration_is_written_beside_the_site_config_and_used(tmp_path: Path) -> None:
    site = tmp_path / "etc" / "site.toml"
    site.parent.mkdir()
    site.write_text('[kiosk]\nid = "HALL-01"\n')
    path = calibration_path(str(site), tmp_path / "data")
    assert path == tmp_path / "etc" / "calibration.toml"
    audit = AuditLog(tmp_path / "audit.db")
    save_calibration(path, Calibration(1.5, -2.0), audit)
    assert load_calibration(path) == Calibration(1.5, -2.0)
    with pytest.raises(ValueError):
        save_calibration(path, Calibration(25, 0), audit)
    config = dataclasses.replace(
        fast_config(tmp_path), source=str(site), maintenance=MaintenanceSection(pin_sha256=PIN_HASH)
    )
    kiosk = Kiosk.from_config(config, runtime_dir=tmp_path / "run")
    with kiosk:
        assert kiosk.printing is not None and kiosk.printing.calibration == Calibration(1.5, -2.0)
        assert kiosk.maintenance is not None and kiosk.maintenance.enter(PIN).ok
