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
from kiosk.technicians import add as add_technician
from kiosk.technicians import hash_pin, load, pin_matches
from tests.conftest import fast_config

PIN = "482915"
TECHNICIANS = {"tech07": hash_pin(PIN)}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_wrong_pins_lock_out(tmp_path: Path) -> None:
    audit, clock = AuditLog(tmp_path / "audit.db"), Clock()
    access = MaintenanceAccess(TECHNICIANS, audit, clock=clock)
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
    access = MaintenanceAccess(TECHNICIANS, AuditLog(tmp_path / "audit.db"), idle_s=60, clock=clock)
    assert access.enter(PIN).ok
    clock.now += 59
    assert access.tick()
    access.touch()
    clock.now += 61
    assert not access.tick() and not access.active


def test_no_pin_configured_means_no_entry(tmp_path: Path) -> None:
    access = MaintenanceAccess({}, AuditLog(tmp_path / "audit.db"))
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


def test_calibration_is_written_in_the_data_folder_and_used(tmp_path: Path) -> None:
    """Not beside the site file: /etc/dengji is read-only on a deployed kiosk."""
    site = tmp_path / "etc" / "site.toml"
    site.parent.mkdir()
    site.write_text('[kiosk]\nid = "HALL-01"\n')
    site.parent.chmod(0o555)
    path = calibration_path(str(site), tmp_path / "data")
    assert path == tmp_path / "data" / "calibration.toml"
    audit = AuditLog(tmp_path / "audit.db")
    save_calibration(path, Calibration(1.5, -2.0), audit)
    assert load_calibration(path) == Calibration(1.5, -2.0)
    with pytest.raises(ValueError):
        save_calibration(path, Calibration(25, 0), audit)
    pins = tmp_path / "technicians"
    add_technician(pins, "tech07", PIN)
    config = dataclasses.replace(
        fast_config(tmp_path),
        source=str(site),
        maintenance=MaintenanceSection(technicians_file=str(pins)),
    )
    kiosk = Kiosk.from_config(config, runtime_dir=tmp_path / "run")
    with kiosk:
        assert kiosk.printing is not None and kiosk.printing.calibration == Calibration(1.5, -2.0)
        assert kiosk.maintenance is not None and kiosk.maintenance.enter(PIN).ok


def test_a_pin_is_kept_as_a_salted_scrypt_hash_not_sha256(tmp_path: Path) -> None:
    stored = TECHNICIANS["tech07"]
    assert stored.startswith("$scrypt$ln=14,r=8,p=1$")
    assert hashlib.sha256(PIN.encode()).hexdigest() not in stored
    assert hash_pin(PIN) != stored  # salted: the same PIN never hashes the same twice
    assert pin_matches(PIN, stored) and not pin_matches("482916", stored)
    assert not pin_matches(PIN, "$scrypt$garbage") and not pin_matches(PIN, "")


def test_the_audit_names_the_technician(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.db")
    access = MaintenanceAccess(
        {"tech07": TECHNICIANS["tech07"], "tech12": hash_pin("731904")}, audit
    )
    assert not access.enter("000000").ok
    assert access.enter("731904").ok and access.who == "tech12"
    access.exit("done")
    records = audit.records()
    assert [(r.actor, r.outcome) for r in records] == [
        ("maintenance", "denied"),
        ("maintenance:tech12", "ok"),
        ("maintenance:tech12", "done"),
    ]


def test_the_technicians_file_is_for_the_kiosk_user_only(tmp_path: Path) -> None:
    from kiosk.strict import StrictConfigError

    pins = tmp_path / "technicians"
    add_technician(pins, "tech07", PIN)
    assert pins.stat().st_mode & 0o777 == 0o600
    assert set(load(pins)) == {"tech07"}
    add_technician(pins, "tech07", "555123")  # a new PIN replaces the old one
    assert pin_matches("555123", load(pins)["tech07"]) and len(load(pins)) == 1
    pins.chmod(0o644)
    with pytest.raises(StrictConfigError, match="chmod 600"):
        load(pins)
    pins.chmod(0o600)
    pins.write_text("tech07:482915\n")  # a PIN in clear is refused, with the line
    with pytest.raises(StrictConfigError, match="line 1"):
        load(pins)
    with pytest.raises(ValueError):
        add_technician(pins, "tech 07", PIN)
    with pytest.raises(ValueError):
        add_technician(pins, "tech08", "1234")  # too short
