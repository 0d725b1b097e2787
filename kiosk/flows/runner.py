"""The journey runner: which step comes next, what a step's work is, and where a failure goes
(try again, back to the form, the counter hand-off, home), without Kivy.

The screens render a ``StepView`` and send the person's intents back (agree, chose, signed,
scanned, try again, cancel); the runner decides. Blocking work (the reader, the registry, a
printer) goes to a ``Worker``: in the app a thread whose answer comes back on the UI thread,
in the tests a plain call, so a whole journey runs in milliseconds without a screen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from kiosk.backend import models as m
from kiosk.flows.journey import Journey, StepFailed
from kiosk.flows.spec import StepKind
from kiosk.identity.documents import DocumentRefused
from kiosk.messages import UserMessage, message_for

log = logging.getLogger(__name__)

FACE_HANDOFF = UserMessage(
    "face_check_declined",
    "未通过或未使用人脸核验",
    "The face check was not passed or not used",
    False,
)
FACE_NOT_DONE = UserMessage(
    "face_not_done",
    "未完成人脸核验，请到人工窗口办理",
    "The face check was not completed: please go to a counter",
    False,
)
WITNESS_REFUSED = UserMessage(
    "witness_refused",
    "登记中心未能核实该证件持有人",
    "The registry could not confirm the holder of this card",
    False,
)
# what the voice says when a step comes up (fixed texts, never personal data)
PROMPTS: dict[StepKind, str] = {
    StepKind.ID_AUTH: "请将身份证放在下方感应区",
    StepKind.FACE_CHECK: "接下来将进行人脸核验，请点击开始",
    StepKind.CONSENT: "请阅读查询授权，同意请点击同意并继续",
    StepKind.CHOOSE: "请选择要办理的业务",
    StepKind.PAY: "请使用手机扫描屏幕上的二维码支付",
    StepKind.QUERY: "正在查询，请稍候",
    StepKind.PRINT: "正在打印，请稍候",
    StepKind.TICKET: "正在取号，请稍候",
    StepKind.FORM: "请核对并填写申请信息",
    StepKind.SCAN: "请按提示放入要提交的材料",
    StepKind.REVIEW: "请核对申请内容，确认无误后签名",
    StepKind.SIGN: "请在屏幕上用手指签名",
    StepKind.SUBMIT: "正在提交，请稍候",
    StepKind.DELIVER: "正在办理，请稍候",
    StepKind.DONE: "办理完成，请取走您的凭证",
}
# the screen that renders each step kind; the kinds without one are the kiosk's own work
SCREENS: dict[StepKind, str] = {
    StepKind.ID_AUTH: "step_card",
    StepKind.FACE_CHECK: "step_face_intro",  # why the face, that it is not kept, the way without
    StepKind.CONSENT: "step_consent",
    StepKind.CHOOSE: "step_choose",
    StepKind.PAY: "step_pay",
    StepKind.FORM: "step_form",
    StepKind.SCAN: "scan",
    StepKind.REVIEW: "step_review",
    StepKind.SIGN: "step_sign",
    StepKind.DONE: "step_done",
}
WORK_SCREEN = "step_work"
WORK_TEXT: dict[StepKind, tuple[str, str]] = {
    StepKind.TICKET: ("正在取号…", "Getting your number…"),
    StepKind.QUERY: ("正在查询，请稍候…", "Looking up the records…"),
    StepKind.PRINT: ("正在打印，请稍候…", "Printing, one moment…"),
    StepKind.SUBMIT: ("正在提交申请…", "Submitting your application…"),
    StepKind.DELIVER: ("正在向登记中心申请…", "Asking the registry…"),
}
REPRINT = (
    "费用已缴：也可在 24 小时内到任一自助终端凭身份证免费重新打印",
    "Paid: you can also print it free at any kiosk with your ID card within 24 hours",
)


class Phase(StrEnum):
    STEP = "step"  # the step's own screen, waiting for the person
    WORKING = "working"  # the kiosk is doing something (with what it is doing)
    FAILED = "failed"  # what went wrong and the ways on
    HANDOFF = "handoff"  # the hand-off slip is printed: the counter continues


@dataclass(frozen=True)
class StepView:
    """What a screen shows: which screen, the journey's title, and for the work screen the
    lead text, the failure (with whether trying again can help) or the hand-off reference."""

    screen: str
    kind: StepKind
    phase: Phase
    title_zh: str
    title_en: str
    lead_zh: str = ""
    lead_en: str = ""
    message: UserMessage | None = None
    can_retry: bool = False
    reference: str = ""


class Views(Protocol):
    """What the runner needs of the screens."""

    def render(self, view: StepView) -> None: ...

    def say(self, text: str) -> None: ...

    def end_visit(self, reason: str) -> None: ...


Answer = Callable[[Any], None]
# runs the work, then calls the answer with its result or the exception it raised
Worker = Callable[[Callable[[], Any], Answer], None]


def run_now(work: Callable[[], Any], answer: Answer) -> None:
    """The worker of the tests and of headless tools: the work, then its answer, in place."""
    try:
        result: Any = work()
    except Exception as err:
        result = err
    answer(result)


class JourneyRunner:
    def __init__(self, journey: Journey, views: Views, worker: Worker = run_now) -> None:
        self.journey = journey
        self.views = views
        self.worker = worker
        self.busy = False
        self.closed = False  # the visit ended: late answers are dropped
        self.view: StepView | None = None

    # -- showing ------------------------------------------------------------------------

    def _render(self, view: StepView) -> None:
        self.view = view
        self.views.render(view)

    def _view(self, screen: str, phase: Phase, **texts: Any) -> StepView:
        spec = self.journey.flow
        return StepView(
            screen, self.journey.step.kind, phase, spec.title_zh, spec.title_en, **texts
        )

    def start(self) -> None:
        self.show_step()

    def show_step(self) -> None:
        step = self.journey.step
        kind = step.kind
        log.info("journey step", extra={"flow": self.journey.flow.name, "step": kind.value})
        self.views.say(PROMPTS[kind])
        screen = SCREENS.get(kind)
        if screen is not None:
            self._render(self._view(screen, Phase.STEP))
            if kind is StepKind.DONE:
                self.journey.end("finished")
            return
        work: Callable[[], Any] = {
            StepKind.TICKET: self.journey.take_ticket,
            StepKind.QUERY: self.journey.run_query,
            StepKind.PRINT: self._print,
            StepKind.SUBMIT: self.journey.submit,
            StepKind.DELIVER: self.journey.deliver,
        }[kind]
        self.working(*WORK_TEXT[kind])
        self.run(work, lambda _result: self.next())

    def working(self, zh: str, en: str) -> None:
        self._render(self._view(WORK_SCREEN, Phase.WORKING, lead_zh=zh, lead_en=en))

    def _print(self) -> Any:
        outcome = self.journey.print_step()
        if not outcome.ok:
            message = outcome.message or message_for(RuntimeError("print failed"))
            query = self.journey.ctx.query
            if (
                self.journey.step.param("document") == "query_certificate"
                and query
                and (query.fee_fen > 0)
            ):  # paid: the person need not stay here, nor pay again
                message = UserMessage(
                    message.code,
                    f"{message.zh}。{REPRINT[0]}",
                    f"{message.en}. {REPRINT[1]}",
                    message.retry,
                )
            raise StepFailed(message)
        return outcome

    # -- intents --------------------------------------------------------------------------

    def next(self) -> None:
        self.journey.advance()
        self.show_step()

    def witness(self) -> None:
        """The operator confirmed the borrower's identity in person (no face check)."""
        self.working("正在登记经办人核验…", "Recording the operator's check…")

        def recorded(verification: m.Verification) -> None:
            if verification.result is m.VerifyResult.VERIFIED:
                self.next()
            else:  # the card's holder is not on the registry's records
                self.handoff(WITNESS_REFUSED)

        self.run(self.journey.witness, recorded)

    def face_finished(self, result: Any, to_counter: bool = False) -> None:
        """The face step ended: passed (``result`` has the verification), the person chose
        the counter, or they left it."""
        if result is None and to_counter:
            self.handoff(FACE_HANDOFF)
            return
        if result is None:
            self.fail(FACE_NOT_DONE)
            return
        self.journey.verified(result.verification_id)
        self.next()

    def signed(self, jpeg: bytes) -> None:
        """A signature was written: the borrower's authorization goes to the registry (which
        records its scope); any other signature is kept for the submission."""
        if self.journey.step.param("signer") == "authorization":
            self.working("正在登记授权…", "Recording the authorization…")
            self.run(lambda: self.journey.authorize(jpeg), lambda _a: self.next())
            return
        self.journey.sign(jpeg)
        self.next()

    def scanned(self, batch: Any) -> None:
        self.journey.scanned(batch)
        self.next()

    def retry(self, message: UserMessage | None = None) -> None:
        """Try the step again; after a refusal its step lists in ``back_on`` (a code typed
        wrong, say), from the form before it."""
        self.journey.ended = ""
        if message is not None and message.code in self.journey.step.param("back_on", []):
            self.journey.back_to(StepKind.FORM)
        self.show_step()

    def cancel(self) -> None:
        self.views.end_visit("cancel")

    def close(self) -> None:
        """The visit ended (the app wiped it): answers still on their way are dropped."""
        self.closed = True

    # -- background work and failures ------------------------------------------------------

    def run(self, work: Callable[[], Any], done: Answer) -> None:
        """``work`` on the worker; ``done`` with its result, or the failure view."""
        self.busy = True

        def answer(result: Any) -> None:
            if isinstance(result, Exception):
                self._failed(result)
                return
            self.busy = False
            if not self.closed:  # the visit may have ended meanwhile
                done(result)

        self.worker(work, answer)

    def _failed(self, error: Exception) -> None:
        self.busy = False
        if self.closed:
            return
        if isinstance(error, StepFailed):
            message = error.message
        elif isinstance(error, DocumentRefused):
            problem = error.problem
            message = UserMessage(problem.code, problem.zh, problem.en, False)
        else:
            message = message_for(error)
        log.warning(
            "journey step failed",
            extra={"code": message.code, "error": f"{type(error).__name__}: {error}"},
        )
        self.fail(message)

    def fail(self, message: UserMessage) -> None:
        self.journey.end(f"failed:{message.code}")
        self.views.say(message.zh)
        self._render(
            self._view(
                WORK_SCREEN,
                Phase.FAILED,
                lead_zh=message.zh,
                lead_en=message.en,
                message=message,
                can_retry=message.retry,
            )
        )

    def handoff(self, message: UserMessage) -> None:
        """Print the hand-off slip so the counter continues this journey."""
        self.journey.end(f"handoff:{message.code}")
        self.working("正在打印接续单…", "Printing your hand-off slip…")

        def printed(reference: str) -> None:
            self._render(
                self._view(
                    WORK_SCREEN,
                    Phase.HANDOFF,
                    lead_zh=f"请持接续单到人工窗口办理（编号 {reference}）",
                    lead_en=f"Please take the slip to a counter (reference {reference})",
                    message=message,
                    reference=reference,
                )
            )

        self.run(lambda: self.journey.handoff(message), printed)
