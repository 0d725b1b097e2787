"""Every step of every journey in ``flows.toml`` (citizen and bank) as the real Kivy screens
render it, in the normal and the large text: nothing cut off, Chinese and English.

The journeys are played by the runner harness (their logic is tested without Kivy in
``test_runner.py``): here the app's own ``FlowController`` renders each view the moment the
runner produces it, with the step's work run in place, so no test waits on a device or on the
clock. The walks through the app with touches are ``test_journeys.py`` and ``kiosk demo``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.backend import models as m
from kiosk.flows.runner import Phase, StepView, run_now
from kiosk.flows.spec import StepKind
from kiosk.sandbox.seed import SANDBOX_PASSWORD
from screens.flow import FlowController
from tests.backend_fixtures import Registry
from tests.runner_harness import FLOWS, Kit, Screens, Visit, play, start_kit
from tests.ui_driver import UiDriver

pytestmark = pytest.mark.ui

CITIZEN = sorted(name for name, flow in FLOWS.items() if flow.mode == "hall")
BANK = sorted(name for name, flow in FLOWS.items() if flow.mode == "bank")


class RenderingFlow(FlowController):
    """The app's flow controller with the step work run in place; each view is recorded for
    the player and checked on screen in both text sizes as it comes."""

    def __init__(self, ui: UiDriver, journey: Any, screens: Screens) -> None:
        super().__init__(ui.app, journey)
        self.worker = run_now
        self.ui = ui
        self.record = screens
        self.cut_off: dict[str, list[str]] = {}
        self.shown: list[str] = []

    def render(self, view: StepView) -> None:
        self.record.render(view)
        super().render(view)
        self._check(view)

    def say(self, text: str) -> None:
        self.record.say(text)

    def end_visit(self, reason: str) -> None:
        self.record.end_visit(reason)

    def _check(self, view: StepView) -> None:
        ui, app = self.ui, self.ui.app
        label = app.manager.current if view.phase is Phase.STEP else view.phase.value
        if view.offer:
            label += f"-{view.offer}"
        self.shown.append(label)
        for size in ("normal", "large"):
            if size == "large":
                app.toggle_large_text()
            ui.frames(2)
            cut = [c for w in ui.window.children for c in ui.overflowing(w)]
            if cut:
                self.cut_off[f"{len(self.shown):02d}-{label}-{size}"] = cut
            if size == "large":
                app.toggle_large_text()
        if view.screen == "scan":  # the camera is not needed to see the screen
            app.screens.get("scan").stop()
        if view.offer:  # the player answers the offer through the runner
            app._close_notice()


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


def start(ui: UiDriver, kit: Kit, name: str, operator: Any = None) -> tuple[RenderingFlow, Visit]:
    visit = kit.visit(name, operator)
    screens = Screens()
    flow = RenderingFlow(ui, visit.journey, screens)
    ui.app.flow = flow
    played = Visit(
        flow, screens, visit.devices, visit.printers, visit.link, visit.registry, visit.audit
    )
    return flow, played


def walk(ui: UiDriver, kit: Kit, name: str, operator: Any = None) -> RenderingFlow:
    flow, played = start(ui, kit, name, operator)
    end = play(played)
    assert end.kind is StepKind.DONE, (end.phase, end.message)
    ui.app.end_session("test")
    assert not ui.app.shell.large_text  # the next visit starts in the normal text
    return flow


@pytest.mark.parametrize("name", CITIZEN)
def test_every_citizen_step_fits_in_both_text_sizes(home: UiDriver, kit: Kit, name: str) -> None:
    flow = walk(home, kit, name)
    assert flow.cut_off == {}
    assert flow.shown[-1] == "step_done" and len(flow.shown) >= 3
    if any(step.kind is StepKind.ID_AUTH for step in FLOWS[name].steps):
        assert "step_card-elder" in flow.shown  # the demo card holder (born 1949) is offered


@pytest.mark.parametrize("name", BANK)
def test_every_bank_step_fits_in_both_text_sizes(home: UiDriver, kit: Kit, name: str) -> None:
    session = kit.registry.client.operator_login(
        m.OperatorLogin("BOC-JN", "op01", SANDBOX_PASSWORD)
    )
    flow = walk(home, kit, name, operator=session)
    assert flow.cut_off == {}
    assert flow.shown[-1] == "step_done"


def test_the_hand_off_and_failure_views_fit(home: UiDriver, kit: Kit) -> None:
    flow, visit = start(home, kit, "query_certificate")
    play(visit, until=StepKind.FACE_CHECK)
    flow.without_face()  # the counter: a hand-off slip
    assert visit.screens.last.phase is Phase.HANDOFF
    home.app.flow = None  # the next person
    flow, visit = start(home, kit, "query_certificate")
    play(visit, until=StepKind.CONSENT)
    assert kit.link is not None
    kit.link.up = False  # the registry away at the query
    flow.agree()
    assert visit.screens.last.phase is Phase.FAILED
    assert flow.cut_off == {}
    assert flow.shown[-2:] == ["working", "failed"]


def test_the_check_sees_text_that_does_not_fit(home: UiDriver) -> None:
    from kivy.uix.label import Label

    cramped = Label(text="不动产登记自助服务 " * 8, size=(120, 20), size_hint=(None, None))
    cramped.texture_update()
    assert home.overflowing(cramped)
