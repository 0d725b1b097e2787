"""The journey runner on the screens: renders each ``StepView`` on its Kivy screen, runs the
step's work on a worker thread with the answer on the UI thread, and watches the card. The
decisions (what comes next, where a failure goes) are the runner's, in ``kiosk.flows.runner``."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock

from kiosk.flows.journey import Journey
from kiosk.flows.runner import Answer, JourneyRunner, Phase, StepView
from kiosk.flows.spec import StepKind
from screens.background import in_background

CARD_POLL_S = 1.0


class FlowController(JourneyRunner):
    def __init__(self, app: Any, journey: Journey) -> None:
        super().__init__(journey, self, self._in_background)
        self.app = app
        self.card_grace_s = 20.0  # a removed card: the visit ends unless the person goes on
        self._card_event: Any = None
        self._card_job: Any = None
        self._card_answered = False

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
            step = self.journey.step
            self.app.open_scan(step.param("document_zh"), step.param("document_en"))
        else:
            self._show(view.screen).render(self, view)

    def large_text(self) -> bool:
        return bool(self.app.shell.large_text)

    def card_read(self) -> None:
        self.watch_card()

    def _show(self, name: str) -> Any:
        screen = self.app.screens.get(name)
        self.app.show(name)
        return screen

    def start_face_check(self) -> None:
        self.app.open_face_check(self.journey.ctx.document)

    # -- the card after the read ----------------------------------------------------------

    def watch_card(self) -> None:
        """The card has been read. If it is taken away before the end, the person may be
        leaving: ask, and end the visit (wiping it) unless they go on."""
        if self._card_event is None and not self._card_answered:
            self._card_event = Clock.schedule_interval(self._poll_card, CARD_POLL_S)

    def _poll_card(self, _dt: float) -> bool:
        if self.app.flow is not self or self.journey.step.kind is StepKind.DONE:
            self._card_event = None
            return False
        job, self._card_job = self._card_job, None
        if job is not None and not job.done():
            self._card_job = job  # the reader is busy: ask again next time
            return True
        if job is not None:
            try:
                present = bool(job.result())
            except Exception:  # a reader fault is not a removal: the supervisor handles it
                present = True
            if not present and self.app.notice is None:
                self._card_event = None
                self.card_removed()
                return False
        self._card_job = self.journey.card_check()
        return True

    def card_removed(self) -> None:
        from screens.steps import CardRemoved

        self.journey.audit("journey.card", "removed", step=self.journey.step.kind.value)
        self.app.say("身份证已取走。继续办理请点继续")
        notice = CardRemoved(self, self.card_grace_s)
        self.app.notice = notice
        notice.open()

    def card_answer(self, go_on: bool) -> None:
        self._card_answered = True  # they took it on purpose: not asked again this visit
        self.journey.audit("journey.card", "go_on" if go_on else "left")
        if not go_on:
            self.app.end_session("card_removed")
