"""Every journey's scripted walk (the same scripts as ``kiosk demo``) on the shared app, in
both text sizes: each ends well, and no label on any screen or dialog has text that does not
fit its box (Chinese and English, nothing cut off)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import SessionSection
from screens.demo import JOURNEYS, record_journey
from tests.journey_steps import restore_demo_state
from tests.ui_driver import UiDriver

pytestmark = pytest.mark.ui


@pytest.fixture
def at_attract(ui: UiDriver) -> Iterator[UiDriver]:
    ui.app.leave_maintenance("test")
    ui.app.end_session("test")
    shell = ui.app.shell
    quick, shell.timing = shell.timing, SessionSection(idle_timeout_s=120.0, warning_s=10.0)
    restore_demo_state(ui)
    ledger = ui.app.kiosk.print_service.ledger
    if ledger is not None and ledger.next_serial() is None:
        ledger.load_batch("T0000001", "T0000099", "test")
    ui.frames(3)
    try:
        yield ui
    finally:
        ui.app.end_session("test")
        shell.timing = quick
        restore_demo_state(ui)  # and for the tests after these


@pytest.mark.parametrize("journey", sorted(JOURNEYS))
def test_every_journey_ends_well_with_its_text_fitting(
    at_attract: UiDriver, journey: str, tmp_path: Path
) -> None:
    """One walk: each screen (and dialog) as it comes up is checked in the normal text and
    again in the large text."""
    summary = record_journey(at_attract, journey, tmp_path, both_sizes=True)
    assert summary["ok"], summary.get("error")
    assert summary["cut_off"] == {}
    assert summary["screens"][-1] == "attract"
    checked = {p.stem for p in tmp_path.glob("*.png")}
    for index, screen in enumerate(summary["screens"][:-1], 1):
        assert {f"{index:02d}-{screen}", f"{index:02d}-{screen}-large"} <= checked, screen
    assert at_attract.app.shell.large_text is False  # the next visit starts in normal text


def test_a_journey_walked_in_the_large_text_ends_well(at_attract: UiDriver, tmp_path: Path) -> None:
    """The large text from the start (no offer to the older card holder then)."""
    summary = record_journey(at_attract, "pay-fee", tmp_path, large_text=True)
    assert summary["ok"], summary.get("error")
    assert summary["cut_off"] == {}
    assert "senior-offer" not in summary["screens"]
    assert at_attract.app.shell.large_text is False
