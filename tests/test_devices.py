"""The device manager on the sim profile: real drivers, real emulators, supervision."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.base import Detail, Role, State
from kiosk.core import Kiosk
from kiosk.diagnostics import diagnose
from kiosk.profiles import list_profiles, load_profile
from kiosk.shell import Shell
from tests.conftest import fast_config


def all_ready(kiosk: Kiosk, timeout: float = 20) -> bool:
    return kiosk.device_manager.wait_until(
        lambda statuses: all(s.state is State.READY for s in statuses.values()), timeout
    )


def test_sim_boots_every_device_to_ready(sim_kiosk: Kiosk) -> None:
    assert all_ready(sim_kiosk), sim_kiosk.device_manager.statuses()
    assert set(sim_kiosk.device_manager.statuses()) == set(Role)


def test_stopped_emulator_goes_offline_disables_services_and_comes_back(
    sim_kiosk: Kiosk,
) -> None:
    assert all_ready(sim_kiosk)
    events: list[str] = []
    sim_kiosk.bus.subscribe("receipt:*", lambda name, _payload: events.append(name))
    shell = Shell(sim_kiosk)
    manager = sim_kiosk.device_manager
    printer = sim_kiosk.harness.emulators[Role.RECEIPT]  # type: ignore[union-attr]

    printer.stop()
    assert manager.wait_until(lambda s: s[Role.RECEIPT].state is State.OFFLINE, 10)
    # the sim receipt printer is on the network: its advice is the network, not a cable
    assert Detail.UNREACHABLE in manager.statuses()[Role.RECEIPT].details
    services = {a.service.name: a for a in shell.services()}
    assert not services["queue_ticket"].available
    assert services["queue_ticket"].reason_en == "receipt printer unavailable"
    assert services["query_certificate"].available
    assert not shell.out_of_service()

    printer.start()
    assert manager.wait_until(lambda s: s[Role.RECEIPT].state is State.READY, 10)
    assert all(a.available for a in shell.services())
    assert "receipt:offline" in events and events[-1] in ("receipt:ready", "receipt:status")
    assert "receipt:ready" in events


def test_losing_the_required_reader_puts_the_kiosk_out_of_service(sim_kiosk: Kiosk) -> None:
    assert all_ready(sim_kiosk)
    shell = Shell(sim_kiosk)
    reader = sim_kiosk.harness.emulators[Role.IDCARD]  # type: ignore[union-attr]
    reader.stop()
    manager = sim_kiosk.device_manager
    assert manager.wait_until(lambda s: s[Role.IDCARD].state is State.OFFLINE, 10)
    assert shell.out_of_service()
    assert shell.devices_down() == [Role.IDCARD]
    reader.start()
    assert manager.wait_until(lambda s: s[Role.IDCARD].state is State.READY, 10)
    assert not shell.out_of_service()


def test_work_runs_on_the_device_thread_and_fails_fast_when_down(sim_kiosk: Kiosk) -> None:
    assert all_ready(sim_kiosk)
    manager = sim_kiosk.device_manager
    present = manager.submit(Role.IDCARD, lambda reader: reader.card_present()).result(5)  # type: ignore[attr-defined]
    assert present is True
    sim_kiosk.harness.emulators[Role.RECEIPT].stop()  # type: ignore[union-attr]
    assert manager.wait_until(lambda s: s[Role.RECEIPT].state is State.OFFLINE, 10)
    future = manager.submit(Role.RECEIPT, lambda printer: printer.write(b"x"))  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="offline"):
        future.result(5)


def test_a_device_that_cannot_be_built_is_offline_with_the_reason(tmp_path: Path) -> None:
    profile = tmp_path / "hall-acme-x1.toml"
    profile.write_text(
        '[idcard]\ndriver = "sam_serial"\nport = "/nonexistent/ttyUSB9"\nrequired = true\n'
        '[receipt]\ndriver = "escpos"\ntransport = "teleport"\n'
    )
    kiosk = Kiosk.from_config(fast_config(tmp_path), str(profile))
    with kiosk:
        manager = kiosk.device_manager
        manager.wait_first_attempts(5)
        statuses = manager.statuses()
        assert statuses[Role.IDCARD].state is State.OFFLINE
        reports = {r.role: r for r in manager.reports()}
        assert "/nonexistent/ttyUSB9" in reports[Role.IDCARD].last_error
        assert "teleport" in reports[Role.RECEIPT].last_error
        diagnosis = diagnose(kiosk, settle_s=0.5)
        assert not diagnosis.ok


def uses_pcscd(name: str) -> bool:
    """A profile whose reader is PC/SC starts the machine's one pcscd: its boot is tested in
    test_passport.py, the one file that may start and stop that daemon (one worker runs a
    file whole: ``--dist loadfile``)."""
    return any(spec.driver == "pcsc" for spec in load_profile(name).devices.values())


@pytest.mark.parametrize("name", sorted(n for n in list_profiles() if not uses_pcscd(n)))
def test_every_shipped_profile_boots_to_ready_on_emulators(tmp_path: Path, name: str) -> None:
    boots_to_ready(tmp_path, name)


def boots_to_ready(tmp_path: Path, name: str) -> None:
    kiosk = Kiosk.from_config(
        fast_config(tmp_path), name, runtime_dir=tmp_path / "run", emulate_all=True
    )
    with kiosk:
        assert kiosk.harness is not None and kiosk.harness.errors == {}
        assert all_ready(kiosk, 30), kiosk.device_manager.statuses()
        diagnosis = diagnose(kiosk, settle_s=5)
        assert diagnosis.ok, diagnosis.as_text()
        assert all(d.self_test.ok for d in diagnosis.devices), diagnosis.as_text()


def test_the_embedded_registry_gets_heartbeats_with_device_status(sim_kiosk: Kiosk) -> None:
    import json

    link = sim_kiosk.backend_link
    assert link.up and link.sandbox is not None
    assert all_ready(sim_kiosk)
    assert link.check_now()
    conn = link.sandbox.connection()
    body = json.loads(
        conn.execute(
            "SELECT body FROM heartbeats WHERE kiosk_id = ? ORDER BY rowid DESC LIMIT 1",
            (sim_kiosk.config.kiosk.id,),
        ).fetchone()[0]
    )
    assert {d["role"]: d["state"] for d in body["devices"]} == dict.fromkeys(
        ("idcard", "camera", "scanner", "receipt", "certificate"), "ready"
    )


def test_an_unreachable_registry_disables_services_with_the_reason(tmp_path: Path) -> None:
    import dataclasses

    from kiosk.config import BackendSection

    config = dataclasses.replace(
        fast_config(tmp_path), backend=BackendSection(url="http://127.0.0.1:9", timeout_s=1)
    )
    kiosk = Kiosk.from_config(config, runtime_dir=tmp_path / "run")
    with kiosk:
        kiosk.wait_started()
        assert all_ready(kiosk)
        assert not kiosk.backend_link.up
        shell = Shell(kiosk)
        services = shell.services()
        assert services and not any(s.available for s in services)
        assert services[0].reason_en == "registration centre unreachable"
        assert shell.out_of_service()
        diagnosis = diagnose(kiosk, settle_s=1)
        assert not diagnosis.ok and not diagnosis.backend.up
        assert "FAILED: the registry is not reachable" in diagnosis.as_text()
