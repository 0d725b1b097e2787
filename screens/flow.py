"""The journey runner on the screens: renders each ``StepView`` on its Kivy screen, runs the
step's work on a worker thread with the answer on the UI thread, and brings the reader's
card-removed event over to the UI thread. The decisions (what comes next, where a failure
goes, whether to ask "go on?") are the runner's, in ``kiosk.flows.runner``."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock

from kiosk.flows.journey import Journey
from kiosk.flows.runner import Answer, JourneyRunner, Phase, StepView
from screens.background import in_background

NOTICE_WAIT_S = 1.0  # a card removed under another notice: looked at again this often


class FlowController(JourneyRunner):
    def __init__(self, app: Any, journey: Journey) -> None:
        super().__init__(journey, self, self._in_background)
        self.app = app

    def _in_background(self, work: Any, answer: Answer) -> None:
        def back(result: Any) -> None:
            if self.app.flow is self:  # the visit may have ended meanwhile
                answer(result)

        in_background(work, back, "journey-step")

    # -- the runner's views ---------------------------------------------------------------

    def say(self, text: str) -> None:
        self.app.say(text)

    def end_visit(self, reason: str) -> None:
        self.app.end_session(reason)

    def render(self, view: StepView) -> None:
        if view.phase is Phase.WORKING:
            self._show("step_work").working(self, view.lead_zh, view.lead_en)
        elif view.phase is Phase.FAILED:
            assert view.message is not None
            self._show("step_work").show_failure(self, view.message, view)
        elif view.phase is Phase.HANDOFF:
            self._show("step_work").show_handoff(self, view)
        elif view.screen == "scan":
            self.app.open_scan(view.document_zh, view.document_en)
        else:
            self._show(view.screen).render(self, view)

    def large_text(self) -> bool:
        return bool(self.app.shell.large_text)

    def card_removed(self) -> None:
        """The reader's event, on its thread: the answer on the UI thread."""
        Clock.schedule_once(lambda _dt: self._card_gone())

    def _show(self, name: str) -> Any:
        screen = self.app.screens.get(name)
        self.app.show(name)
        return screen

    def start_face_check(self) -> None:
        self.app.open_face_check(self.journey.person_document())

    # -- the card after the read ----------------------------------------------------------

    def _card_gone(self) -> None:
        """Another notice on screen (the idle warning) is answered first; the card is looked
        at again after it."""
        if self.app.flow is not self:
            return
        if self.app.notice is not None:
            Clock.schedule_once(lambda _dt: self._card_again(), NOTICE_WAIT_S)
            return
        self.card_gone()

    def _card_again(self) -> None:
        if not self.card_present():
            self._card_gone()

    def ask_card_back(self, grace_s: float) -> None:
        from screens.steps import CardRemoved

        notice = CardRemoved(self, grace_s)
        self.app.notice = notice
        notice.open()
