"""Runs a journey on the screens: shows the screen of each step kind, runs the step's work
on a worker thread, and brings the result back on the UI thread. Any failure ends on a
screen that says what happened and offers a way on (try again, the counter, finish)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock

from drivers.base import Role
from kiosk.backend import models as m
from kiosk.flows.journey import Journey, StepFailed
from kiosk.flows.spec import StepKind
from kiosk.identity.documents import DocumentRefused
from kiosk.messages import UserMessage, message_for
from screens.background import in_background

log = logging.getLogger(__name__)

FACE_HANDOFF = UserMessage(
    "face_check_declined",
    "未通过或未使用人脸核验",
    "The face check was not passed or not used",
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
# a refusal that typing the code again may mend: "try again" goes back to the form
BACK_TO_FORM = {"not_authorized", "expired"}


CARD_POLL_S = 1.0


class FlowController:
    def __init__(self, app: Any, journey: Journey) -> None:
        self.app = app
        self.journey = journey
        self.busy = False
        self.card_grace_s = 20.0  # a removed card: the visit ends unless the person goes on
        self._card_event: Any = None
        self._card_job: Any = None
        self._card_answered = False

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
        devices = self.app.kiosk.device_manager
        self._card_job = devices.submit(Role.IDCARD, lambda d: d.card_present())
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

    # -- steps ----------------------------------------------------------------------------

    def start(self) -> None:
        self.show_step()

    def show_step(self) -> None:
        step = self.journey.step
        kind = step.kind
        log.info("journey step", extra={"flow": self.journey.flow.name, "step": kind.value})
        self.app.say(PROMPTS[kind])
        if kind is StepKind.ID_AUTH:
            self._show("step_card").begin(self)
        elif kind is StepKind.FACE_CHECK:
            # first why the face is used, that it is not kept, and the way without it
            self._show("step_face_intro").begin(self)
        elif kind is StepKind.CONSENT:
            self._show("step_consent").begin(self, step)
        elif kind is StepKind.CHOOSE:
            self._show("step_choose").begin(self)
        elif kind is StepKind.PAY:
            self._show("step_pay").begin(self)
        elif kind is StepKind.FORM:
            self._show("step_form").begin(self)
        elif kind is StepKind.SCAN:
            self.app.open_scan(step.param("document_zh"), step.param("document_en"))
        elif kind is StepKind.REVIEW:
            self._show("step_review").begin(self)
        elif kind is StepKind.SIGN:
            self._show("step_sign").begin(self)
        elif kind is StepKind.DONE:
            self._show("step_done").begin(self)
            self.journey.end("finished")
        else:
            work = {
                StepKind.TICKET: self.journey.take_ticket,
                StepKind.QUERY: self.journey.run_query,
                StepKind.PRINT: self._print,
                StepKind.SUBMIT: self.journey.submit,
                StepKind.DELIVER: self.journey.deliver,
            }[kind]
            screen = self._show("step_work")
            screen.begin(self, *WORK_TEXT[kind])
            self.run(work, lambda _result: self.next())

    def _show(self, name: str) -> Any:
        screen = self.app.screens.get(name)
        self.app.show(name)
        return screen

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

    def start_face_check(self) -> None:
        self.app.open_face_check(self.journey.ctx.document)

    def witness(self) -> None:
        """The operator confirmed the borrower's identity in person (no face check)."""
        screen = self._show("step_work")
        screen.begin(self, "正在登记经办人核验…", "Recording the operator's check…")

        def recorded(verification: m.Verification) -> None:
            if verification.result is m.VerifyResult.VERIFIED:
                self.next()
            else:  # the card's holder is not on the registry's records
                self.handoff(WITNESS_REFUSED)

        self.run(self.journey.witness, recorded)

    def next(self) -> None:
        self.journey.advance()
        self.show_step()

    def face_finished(self, result: Any, to_counter: bool = False) -> None:
        if result is None and to_counter:
            self.handoff(FACE_HANDOFF)
            return
        if result is None:  # the person left the face check
            self.fail(
                UserMessage(
                    "face_not_done",
                    "未完成人脸核验，请到人工窗口办理",
                    "The face check was not completed: please go to a counter",
                    False,
                )
            )
            return
        self.journey.verified(result.verification_id)
        self.next()

    # -- background work ------------------------------------------------------------------

    def run(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """``work`` on a worker thread; ``done`` (or the failure screen) on the UI thread."""
        self.busy = True

        def answer(result: Any) -> None:
            if isinstance(result, Exception):
                self._failed(result)
                return
            self.busy = False
            if self.app.flow is self:  # the visit may have ended meanwhile
                done(result)

        in_background(work, answer, "journey-step")

    def _failed(self, error: Exception) -> None:
        self.busy = False
        if self.app.flow is not self:
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
        self.app.say(message.zh)
        self._show("step_work").show_failure(self, message)

    def handoff(self, message: UserMessage) -> None:
        """Print the hand-off slip so the counter continues this journey."""
        self.journey.end(f"handoff:{message.code}")
        screen = self._show("step_work")
        screen.begin(self, "正在打印接续单…", "Printing your hand-off slip…")

        def printed(reference: str) -> None:
            screen.show_handoff(self, reference)

        self.run(lambda: self.journey.handoff(message), printed)

    def signed(self, jpeg: bytes) -> None:
        """A signature was written: the borrower's authorization goes to the registry (which
        records its scope); any other signature is kept for the submission."""
        if self.journey.step.param("signer") == "authorization":
            screen = self._show("step_work")
            screen.begin(self, "正在登记授权…", "Recording the authorization…")
            self.run(lambda: self.journey.authorize(jpeg), lambda _a: self.next())
            return
        self.journey.sign(jpeg)
        self.next()

    def scanned(self, batch: Any) -> None:
        self.journey.scanned(batch)
        self.next()

    def retry(self, message: UserMessage | None = None) -> None:
        self.journey.ended = ""
        if message is not None and message.code in BACK_TO_FORM:
            self.journey.back_to(StepKind.FORM)
        self.show_step()

    def cancel(self) -> None:
        self.app.end_session("cancel")
