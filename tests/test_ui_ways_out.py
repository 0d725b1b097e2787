"""Every step screen has a way out: the face notice goes back to the start, and a wait longer
than five seconds shows how long it has been and offers the way back (the late answer is
dropped)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.journey_steps import elder_offer, on, tap_service
from tests.ui_driver import UiDriver

pytestmark = pytest.mark.ui


def test_the_face_notice_goes_back_to_the_start(home: UiDriver) -> None:
    ui = home
    tap_service(ui, "query_certificate")
    offer = elder_offer(ui)
    ui.tap(offer.ids.no)
    intro = on(ui, "step_face_intro", 20)
    journey = ui.app.flow.journey
    ui.tap(intro.ids.cancel)
    assert ui.wait(lambda: ui.app.manager.current == "attract", 5)
    assert ui.app.shell.session is None and ui.app.flow is None
    assert journey.ended == "cancel"
    assert journey.ctx.document is None  # wiped with the visit


def test_a_long_wait_shows_the_time_and_offers_the_way_back(home: UiDriver) -> None:
    ui = home
    tap_service(ui, "query_certificate")
    ui.tap(elder_offer(ui).ids.no)
    on(ui, "step_face_intro", 20)
    flow = ui.app.flow
    held: list[tuple[Any, Any]] = []
    done: list[object] = []
    # a query the registry takes its time over: its answer is held back
    flow.worker = lambda work, answer: held.append((work, answer))
    flow.working("正在查询，请稍候…", "Looking up the records…")
    flow.run(lambda: "the records", done.append)
    work = on(ui, "step_work")
    work._clock.cancel()  # the test counts the seconds itself: no wall clock
    work.waited = 0
    ui.frames(2)
    assert work.ids.finish.disabled and work.ids.waited.opacity == 0
    for _ in range(5):  # five seconds of the screen's clock, without waiting for them
        work._count(1.0)
    ui.frames(3)
    assert work.ids.waited.opacity == 1 and work.ids.waited.lead == "已等待 5 秒"
    assert not work.ids.finish.disabled and work.can_cancel
    ui.tap(work.ids.finish)
    assert ui.wait(lambda: ui.app.manager.current == "attract", 5)
    assert flow.journey.ended == "cancel" and flow.closed
    ((work_fn, answer),) = held
    answer(work_fn())  # the answer arrives after all: nothing happens
    assert done == [] and ui.app.manager.current == "attract"
