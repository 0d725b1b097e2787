"""The shipped bank profile runs every bank journey on its own devices (their emulators): the
borrower's card on its SAM reader, the contracts through its SANE feeder, the acknowledgment
on its network receipt printer, against the embedded registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.base import Role
from kiosk.backend import models as m
from kiosk.core import Kiosk
from kiosk.documents.scan import ScanBatch
from kiosk.documents.scan_session import ScanSession
from kiosk.flows.deps import JourneyServices
from kiosk.flows.journey import Journey
from kiosk.flows.runner import JourneyRunner, Phase
from kiosk.flows.spec import StepKind
from kiosk.profile_fit import problems
from kiosk.profiles import list_profiles, load_profile
from kiosk.sandbox.seed import SANDBOX_PASSWORD
from tests.backend_fixtures import Registry, ShiftableClock
from tests.conftest import fast_config
from tests.runner_harness import FLOWS, Printers, Screens, Visit, play
from tests.test_devices import all_ready

BANK_FLOWS = sorted(name for name, flow in FLOWS.items() if flow.mode == "bank")


@pytest.mark.parametrize("name", sorted(list_profiles()))
def test_every_shipped_profile_can_run_the_journeys_of_its_site_mode(name: str) -> None:
    assert problems(load_profile(name)) == []


def test_a_bank_profile_whose_reader_reads_passports_only_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "bank-acme-p1.toml"
    profile.write_text('inherits = "bank-example-b1"\n[idcard]\ndriver = "pcsc"\nreader = ""\n')
    found = problems(load_profile(str(profile)))
    assert len(found) == len(BANK_FLOWS)  # every bank journey starts with the borrower's card
    assert all("reads a resident ID card; the pcsc reader reads passport" in p for p in found)


def test_the_shipped_bank_profile_runs_every_bank_journey_on_its_emulators(
    tmp_path: Path,
) -> None:
    kiosk = Kiosk.from_config(
        fast_config(tmp_path), "bank-example-b1", runtime_dir=tmp_path / "run", emulate_all=True
    )
    with kiosk:
        assert all_ready(kiosk, 30), kiosk.device_manager.statuses()
        link = kiosk.backend_link
        assert link.sandbox is not None and link.client is not None
        control = link.sandbox.control()
        registry = Registry(link.sandbox, link.client, ShiftableClock(), control)
        services = JourneyServices.of(kiosk)

        def scan() -> ScanBatch:  # the contracts through the profile's feeder
            session = ScanSession(kiosk.device_manager)
            assert not session.uses_camera
            session.scan_feeder()
            snap = session.snapshot()
            assert snap.pages >= 1 and snap.message is None, snap.message
            return session.batch

        register = tmp_path / "register.db"
        link.sandbox.snapshot(register)
        try:
            for name in BANK_FLOWS:  # each from the same register, as each bank would find it
                link.sandbox.restore(register)
                operator = link.client.operator_login(
                    m.OperatorLogin("BOC-JN", "op01", SANDBOX_PASSWORD)
                )
                screens = Screens()
                journey = Journey(FLOWS[name], services, f"S-{name}", operator)
                runner = JourneyRunner(journey, screens)
                visit = Visit(runner, screens, None, Printers(), link, registry, kiosk.audit)  # type: ignore[arg-type]
                last = play(visit, scan=scan)
                assert last.kind is StepKind.DONE and last.phase is Phase.STEP, (name, last)
                document = journey.ctx.document
                assert document is not None and document.number  # read on the SAM reader
                assert any("acknowledgment" in output for output in journey.ctx.outputs), name
                link.client.operator_logout(operator.operator_token)
        finally:
            control.close()
        receipts = kiosk.device_manager.devices[Role.RECEIPT]
        assert receipts.status.usable
