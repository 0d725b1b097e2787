"""The journey runner: which step comes next, what a step's work is, and where a failure goes
(try again, back to the form, the counter hand-off, home), without Kivy.

The screens render a ``StepView`` and send the person's intents back (agree, chose, signed,
scanned, try again, cancel); the runner decides. Blocking work (the reader, the registry, a
printer) goes to a ``Worker``: in the app a thread whose answer comes back on the UI thread,
in the tests a plain call, so a whole journey runs in milliseconds without a screen.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from drivers.base import Role
from kiosk.backend import models as m
from kiosk.backend.api import VERIFICATION_VALID_S
from kiosk.documents.receipts import BUSINESS_NAMES, yuan
from kiosk.flows import choices, forms
from kiosk.flows.choices import Choice, Option
from kiosk.flows.done import done_text
from kiosk.flows.journey import Journey
from kiosk.flows.parties import party_line
from kiosk.flows.spec import CONTRACT_CHOICES, StepKind
from kiosk.identity.documents import DocumentRefused
from kiosk.messages import StepFailed, UserMessage, message_for
from kiosk.services import ROLE_NAMES

log = logging.getLogger(__name__)

FACE_HANDOFF = UserMessage(
    "face_check_declined",
    "未通过或未使用人脸核验",
    "The face check was not passed or not used",
    False,
)
SITTING_ENDED = UserMessage(
    "sitting_ended",
    "办理中断，申请未提交；各方当事人须本人到场核验并签名后方可提交",
    "The sitting ended and nothing was filed: every party verifies and signs in person first",
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
    StepKind.PARTY: "请上一位取回身份证，下一位当事人将本人身份证放在感应区",
    StepKind.CONSENT: "请阅读查询授权，同意请点击同意并继续",
    StepKind.CHOOSE: "请选择要办理的业务",
    StepKind.PAY: "请使用手机扫描屏幕上的二维码支付",
    StepKind.QUERY: "正在查询，请稍候",
    StepKind.CHECK: "正在核验，请稍候",
    StepKind.GRANT: "正在登记授权，请稍候",
    StepKind.BOOK: "正在预约，请稍候",
    StepKind.TAX: "正在查询完税信息，请稍候",
    StepKind.LOOKUP: "正在查找不动产，请稍候",
    StepKind.RESULT: "请核对查询结果，需要证明请点打印",
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
    StepKind.PARTY: "step_party",  # who is next, who is done; then their card and face check
    StepKind.CONSENT: "step_consent",
    StepKind.CHOOSE: "step_choose",
    StepKind.PAY: "step_pay",
    StepKind.RESULT: "step_result",
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
    StepKind.CHECK: ("正在向登记中心核验…", "Checking with the registry…"),
    StepKind.GRANT: ("正在登记授权…", "Recording the authorization…"),
    StepKind.BOOK: ("正在预约…", "Booking the slot…"),
    StepKind.TAX: ("正在向税务部门查询完税信息…", "Asking the tax office whether the tax is paid…"),
    StepKind.LOOKUP: ("正在查找该不动产…", "Looking up the property…"),
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
class PayView:
    """The order on the pay screen: the amount, who is paid, until when, and the QR."""

    amount: str
    payee: str
    expires_at: dt.datetime
    qr_payload: str


@dataclass(frozen=True)
class StepView:
    """What a screen shows: which screen, the journey's title, the lead text (what is being
    done, the list's heading, the failure), and what the step kind has to show."""

    screen: str
    kind: StepKind
    phase: Phase
    title_zh: str
    title_en: str
    lead_zh: str = ""
    lead_en: str = ""
    message: UserMessage | None = None  # failed or handed off: why
    can_retry: bool = False
    reference: str = ""  # the hand-off slip's
    loading: bool = False  # a list or an order is on its way
    choices: tuple[Choice, ...] = ()  # choose: the buttons, in order
    offer: str = ""  # id_auth: "elder" when the larger text is offered
    bank: bool = False  # an operator is there (to witness, at the face notice)
    statement_zh: str = ""  # the operator's witness statement, when on screen
    statement_en: str = ""
    pay: PayView | None = None
    status: str = ""  # pay: creating | waiting | paid | expired
    outputs: tuple[str, ...] = ()  # done: what the person takes away
    qr: str = ""  # done: the progress page or the electronic certificate
    queued: bool = False  # done: the application waits in the outbox
    heading_zh: str = ""  # done: 办理完成, or what is true instead (saved, awaiting review)
    heading_en: str = ""
    form: FormView | None = None  # form: the fields and their values
    review: tuple[tuple[str, str, str], ...] = ()  # review: (label zh, label en, value)
    sign_texts: tuple[str, ...] = ()  # sign: heading zh, en, the line under it zh, en
    document_zh: str = ""  # scan: what to lay on the glass
    document_en: str = ""
    items: str = ""  # choose: what the list holds (cases, properties, delivery, ...)
    # party: every party of the sitting (role zh, role en, masked name, state), in order
    parties: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(frozen=True)
class FieldView:
    """One field of a form step: its spec (labels, keyboard, options, length) and whether
    the person types it (else the kiosk filled it from what it knows)."""

    field: forms.Field
    editable: bool


@dataclass(frozen=True)
class FormView:
    name: str
    fields: tuple[FieldView, ...]
    values: tuple[tuple[str, str], ...]  # (field name, value): typed before, else known


SIGN_TEXTS = {
    "applicant": (
        "请在下方框内用手指签名",
        "Sign with your finger in the box",
        "一次签名，用于本次提交的全部材料",
        "One signature covers everything you submit now",
    ),
    "operator": (
        "请经办人签名",
        "The operator signs",
        "经办人代理申请人提交本次申请",
        "The operator files this application as the applicant's agent",
    ),
}


class Views(Protocol):
    """What the runner needs of the screens."""

    def render(self, view: StepView) -> None: ...

    def say(self, text: str) -> None: ...

    def end_visit(self, reason: str) -> None: ...

    def large_text(self) -> bool: ...

    def card_removed(self) -> None:
        """The card read for this visit was taken off the reader: the person may be leaving.
        Called on the reader's thread (a screen hops to its own and calls ``card_gone``);
        watched from the read until the visit ends."""

    def ask_card_back(self, grace_s: float) -> None:
        """Ask whether the person goes on (``card_answer``); unanswered for ``grace_s``, the
        visit ends (the answer ``card_answer(False)``)."""


CARD_GRACE_S = 20.0  # a removed card: the visit ends unless the person goes on
CARD_GONE_PROMPT = "身份证已取走。继续办理请点继续"

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
        self._options: dict[str, Callable[[], None]] = {}  # choose: what each key does
        self._asking = False  # pay: a status question is on its way
        self._unwatch: Callable[[], None] | None = None  # stops the card's removal watch
        self._card_answered = False  # the person took the card on purpose: not asked again
        self.card_grace_s = CARD_GRACE_S

    # -- showing ------------------------------------------------------------------------

    def _render(self, view: StepView) -> None:
        self.view = view
        self.views.render(view)

    def _view(self, screen: str, phase: Phase, **texts: Any) -> StepView:
        spec, step = self.journey.flow, self.journey.step
        if step.kind is StepKind.CHOOSE:
            texts.setdefault("items", str(step.param("items")))
        return StepView(screen, step.kind, phase, spec.title_zh, spec.title_en, **texts)

    def start(self) -> None:
        self.show_step()

    def show_step(self) -> None:
        step = self.journey.step
        kind = step.kind
        log.info("journey step", extra={"flow": self.journey.flow.name, "step": kind.value})
        self.views.say(PROMPTS[kind])
        screen = SCREENS.get(kind)
        if screen is not None:
            {
                StepKind.ID_AUTH: self._read_card,
                StepKind.FACE_CHECK: self._face_notice,
                StepKind.PARTY: self._party,
                StepKind.CONSENT: self._consent,
                StepKind.CHOOSE: self._load_choices,
                StepKind.PAY: self.new_order,
                StepKind.SIGN: self._sign_step,
                StepKind.REVIEW: self._review,
                StepKind.RESULT: self._result,
                StepKind.DONE: self._done,
            }.get(kind, lambda: self._render(self._step_view(screen)))()
            return
        work: Callable[[], Any] = {
            StepKind.TICKET: self.journey.take_ticket,
            StepKind.QUERY: self.journey.run_query,
            StepKind.CHECK: self.journey.check_proof,
            StepKind.GRANT: self.journey.grant,
            StepKind.BOOK: self.journey.book,
            StepKind.TAX: self.journey.check_tax,
            StepKind.LOOKUP: self.journey.lookup_unit,
            StepKind.PRINT: self._print,
            StepKind.SUBMIT: self.journey.submit,
            StepKind.DELIVER: self.journey.deliver,
        }[kind]
        self.working(*WORK_TEXT[kind])
        self.run(work, lambda _result: self.next())

    def _step_view(self, screen: str) -> StepView:
        """What the form, review, sign and scan screens show, from the journey."""
        journey, step = self.journey, self.journey.step
        if step.kind is StepKind.FORM:
            name = str(step.param("form"))
            fields = tuple(FieldView(f, forms.editable(f, journey.ctx)) for f in forms.fields(name))
            values = tuple(journey.form_values().items())
            return self._view(screen, Phase.STEP, form=FormView(name, fields, values))
        if step.kind is StepKind.REVIEW:
            return self._view(screen, Phase.STEP, review=tuple(journey.review_lines()))
        if step.kind is StepKind.SIGN:
            return self._view(screen, Phase.STEP, sign_texts=self._sign_texts())
        if step.kind is StepKind.SCAN:
            return self._view(
                screen,
                Phase.STEP,
                document_zh=str(step.param("document_zh")),
                document_en=str(step.param("document_en")),
            )
        return self._view(screen, Phase.STEP)

    def _sign_texts(self) -> tuple[str, ...]:
        signer = str(self.journey.step.param("signer", "applicant"))
        if signer == "parties":
            return self._party_sign_texts()
        if signer != "authorization":
            return SIGN_TEXTS.get(signer, SIGN_TEXTS["applicant"])
        application = self.journey._application_type()
        zh, en = BUSINESS_NAMES[application] if application else ("", "")
        operator = self.journey.operator
        bank = operator.bank.name if operator else ""
        return (
            "借款人授权：请阅读后签名",
            "The borrower's authorization: read, then sign",
            f"本人授权{bank}为本次{zh}查询本人登记信息并代为提交申请，仅限本次使用",
            f"I authorize the bank to query my records and file this {en}, once",
        )

    def _party_sign_texts(self) -> tuple[str, ...]:
        wanted = self.journey.signer_wanted()
        assert wanted is not None
        place, party = wanted
        count = len(self.journey.ctx.parties)
        zh, en = party.role_names
        return (
            f"请{zh} {party.shown_name} 签名（{place + 1}/{count}）",
            f"{en} {party.shown_name} signs ({place + 1} of {count})",
            "每位当事人本人签名一次，用于本次提交的全部材料",
            "Each party signs once, in person, for everything filed now",
        )

    def submit_form(self, values: dict[str, str]) -> dict[str, tuple[str, str]]:
        """The person's values: kept and on to the next step, or each field's problem."""
        problems = self.journey.fill_form(values)
        if not problems:
            self.next()
        return problems

    def card_present(self) -> bool:
        """Whether the visit's card is on the reader now (asked again after a notice)."""
        return bool(self.journey.services.card.present())

    def working(self, zh: str, en: str) -> None:
        self._render(self._view(WORK_SCREEN, Phase.WORKING, lead_zh=zh, lead_en=en))

    def _print(self) -> Any:
        outcome = self.journey.print_step()
        if self.journey.step.param("document") in ("payment_receipt", "guide"):
            return outcome  # not on paper: on the done screen all the same (print_step)
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

    # -- the steps the person takes part in ----------------------------------------------

    def _read_card(self) -> None:
        self._render(self._view("step_card", Phase.STEP))
        self.run(self.journey.read_card, self._card_read)

    def _card_read(self, _document: Any) -> None:
        if self._unwatch is None:  # from now on its removal may mean the person left
            self._unwatch = self.journey.watch_card(self.views.card_removed)
        journey = self.journey
        # at a bank the operator drives the screen: the offer is for citizens' kiosks
        if journey.ctx.elder and not self.views.large_text() and journey.operator is None:
            self._render(self._view("step_card", Phase.STEP, offer="elder"))
            return
        self.next()

    def change(self) -> None:
        """From the review: back to what the person entered (the form, or the scan where a
        flow has no form), to change it."""
        journey = self.journey
        if journey.back_to(StepKind.FORM) or journey.back_to(StepKind.SCAN):
            self.show_step()

    def card_gone(self) -> None:
        """The card was taken away before the end (on the UI thread): ask whether the person
        goes on, unless they already answered this visit or the journey is at its end."""
        if self.closed or self._card_answered or self.journey.step.kind is StepKind.DONE:
            return
        party = self.journey.party_wanted()
        if party is not None and party.document is None:
            return  # the person before takes their card so the next one can place theirs
        self.journey.audit("journey.card", "removed", step=self.journey.step.kind.value)
        self.views.say(CARD_GONE_PROMPT)
        self.views.ask_card_back(self.card_grace_s)

    def card_answer(self, go_on: bool) -> None:
        """Go on without the card on the reader, or leave (the visit ends and is wiped)."""
        if self.closed:
            return
        self._card_answered = True
        self.journey.audit("journey.card", "go_on" if go_on else "left")
        if not go_on:
            self.views.end_visit("card_removed")

    def elder_answer(self, accepted: bool) -> None:
        """The card holder's answer to the larger text (the screens switch it on)."""
        self.journey.audit("elder_mode.offer", "accepted" if accepted else "declined")
        self.next()

    def _face_notice(self) -> None:
        bank = self.journey.operator is not None
        party = self.journey.party_wanted()
        if party is None:
            self._render(self._view("step_face_intro", Phase.STEP, bank=bank))
            return
        zh, en = party.role_names  # whose face: the party whose card was just read
        self._render(
            self._view(
                "step_face_intro",
                Phase.STEP,
                bank=bank,
                lead_zh=f"{zh} {party.shown_name}",
                lead_en=f"{en} {party.shown_name}",
                parties=self._parties(),
            )
        )

    # -- a sitting of several: each party in turn -------------------------------------------

    def _parties(self) -> tuple[tuple[str, str, str, str], ...]:
        wanted = self.journey.party_wanted()
        return tuple(party_line(p, p is wanted) for p in self.journey.ctx.parties)

    def _party(self) -> None:
        """The next party: the one before takes their card, this one places theirs; then
        their face check. When everyone this step brings has come, on to the next step."""
        party = self.journey.party_wanted()
        if party is None:
            self.next()
            return
        if party.document is not None:  # read already (back from the face step)
            self._face_notice()
            return
        zh, en = party.role_names
        who_zh, who_en = f"{zh} {party.expected}".strip(), f"{en} {party.expected}".strip()
        self._render(
            self._view(
                "step_party",
                Phase.STEP,
                lead_zh=f"请{who_zh}将本人身份证放在感应区",
                lead_en=f"{who_en}: place your own ID card on the reader",
                parties=self._parties(),
            )
        )
        self.run(self.journey.read_party_card, self._party_card)

    def _party_card(self, _document: Any) -> None:
        self._card_answered = False  # this party's card leaving may mean they left
        self._face_notice()

    def _party_verified(self, verification_id: str) -> None:
        party = self.journey.party_verified(verification_id)
        if not party.group:
            self.show_step()
            return
        self.working("正在核对登记信息…", "Checking the records…")
        self.run(lambda: self.journey.confirm_member(party), lambda _p: self.show_step())

    def without_face(self) -> None:
        """The way without the face check: at a bank the operator's witness statement comes
        up to confirm; at a citizens' kiosk the counter, with a hand-off slip."""
        if self.journey.operator is None:
            self.handoff(FACE_HANDOFF)
            return
        zh, en = self.journey.witness_statement()
        view = self._view("step_face_intro", Phase.STEP, bank=True)
        self._render(replace(view, statement_zh=zh, statement_en=en))

    def witness_back(self) -> None:
        self._face_notice()

    def _consent(self) -> None:
        step = self.journey.step
        self._render(
            self._view(
                "step_consent",
                Phase.STEP,
                lead_zh=str(step.param("purpose_zh")),
                lead_en=str(step.param("purpose_en")),
            )
        )

    def agree(self) -> None:
        self.journey.give_consent()
        self.next()

    def _result(self) -> None:
        self._render(self._view("step_result", Phase.STEP, loading=True))
        self.run(self.journey.query_records, self._show_result)

    def _show_result(self, records: list[m.PropertyRecord]) -> None:
        query = self.journey.ctx.query
        assert query is not None
        lines = tuple(line for record in records for line in _record_lines(record))
        count = len(records)
        if query.kind is m.QueryKind.OWNERSHIP:  # the proof says whether, not what
            lines = ()
            zh, en = (
                ("您名下有登记的不动产", "Real estate is registered in your name")
                if query.owns_property
                else ("您名下无登记的不动产", "No real estate is registered in your name")
            )
        elif count:
            plural = "property" if count == 1 else "properties"
            zh, en = f"查询到 {count} 处不动产登记", f"{count} registered {plural}"
        else:
            zh, en = "未查询到不动产登记", "No real estate is registered"
        due = query.fee_fen > 0 and not query.paid
        fee = (
            (
                f"打印证明需缴费 {yuan(query.fee_fen)}",
                f"The certificate costs {yuan(query.fee_fen)}",
            )
            if due
            else ("打印证明免费", "The certificate is free")
        )
        view = self._view("step_result", Phase.STEP, lead_zh=zh, lead_en=en, outputs=lines)
        self._render(replace(view, statement_zh=fee[0], statement_en=fee[1]))

    def print_result(self) -> None:
        """The person wants the certificate (paying first if a fee is due)."""
        self.next()

    def no_print(self) -> None:
        """Seen on screen, and that is enough: nothing is charged or printed."""
        self.journey.audit("query.result", "not_printed")
        self.views.end_visit("finished")

    def _load_choices(self) -> None:
        journey = self.journey
        items = str(journey.step.param("items"))
        zh, en = choices.LOADING[items]
        self._options = {}
        self._render(self._view("step_choose", Phase.STEP, lead_zh=zh, lead_en=en, loading=True))
        if items == "delivery":
            printer = journey.services.devices.statuses().get(Role.CERTIFICATE)
            usable = printer is not None and printer.usable
            self._show_choices(
                choices.delivery(usable, ROLE_NAMES[Role.CERTIFICATE], journey.choose_delivery)
            )
        elif items == "appointments":
            self.run(
                journey.list_appointments,
                lambda found: self._show_choices(
                    choices.appointments(found, journey.choose_appointment)
                ),
            )
        elif items in ("properties", "renamed", "mortgages"):
            self.run(
                journey.list_properties,
                lambda found: self._show_choices(
                    choices.properties(found, items == "mortgages", journey.choose_property)
                ),
            )
        elif items == "booking_services":
            self._show_choices(choices.booking_services(journey.choose_booking_service))
        elif items == "booking_days":
            self.run(
                journey.load_slots,
                lambda found: self._show_choices(choices.booking_days(found, journey.choose_day)),
            )
        elif items == "booking_times":
            self.run(
                journey.load_slots,
                lambda found: self._show_choices(
                    choices.booking_times(found, journey.ctx.booking_day, journey.choose_slot)
                ),
            )
        elif items == "guides":
            self.run(
                journey.guides,
                lambda found: self._show_choices(choices.guides(found, journey.choose_guide)),
            )
        elif items == "my_cases":
            self.run(
                journey.all_cases,
                lambda found: self._show_choices(choices.my_cases(found, journey.choose_case)),
            )
        elif items == "to_mortgage":
            self.run(
                journey.list_properties,
                lambda found: self._show_choices(
                    choices.to_mortgage(found, journey.choose_property)
                ),
            )
        elif items == "proof_input":
            scanner = journey.services.devices.statuses().get(Role.SCANNER)
            usable = scanner is not None and scanner.usable
            self._show_choices(
                choices.proof_input(usable, ROLE_NAMES[Role.SCANNER], journey.choose_proof_input)
            )
        elif items in CONTRACT_CHOICES:
            self.run(
                journey.list_sales,
                lambda found: self._show_choices(choices.sales(found, journey.choose_sale)),
            )
        elif items == "my_objections":
            self.run(
                journey.list_objections,
                lambda found: self._show_choices(
                    choices.objections(found, journey.choose_objection)
                ),
            )
        elif items in ("bank_properties", "bank_mortgages"):
            self.run(
                journey.bank_items,
                lambda found: self._show_choices(
                    choices.properties(found, items == "bank_mortgages", journey.choose_property),
                    journey.preselected(found),
                ),
            )
        elif items in ("contracts", "advance"):
            choose = journey.choose_contract if items == "contracts" else journey.choose_advance
            self.run(
                journey.bank_items,
                lambda found: self._show_choices(
                    choices.bank_items(found, choose), journey.preselected(found)
                ),
            )
        else:
            ready = items == "ready"
            work = journey.ready_cases if ready else journey.due_cases
            self.run(
                work,
                lambda found: self._show_choices(choices.cases(found, ready, journey.choose_case)),
            )

    def _show_choices(self, options: list[Option], before: Any = None) -> None:
        items = str(self.journey.step.param("items"))
        chosen = choices.identifiers(before) if before is not None else set()
        shown = tuple(
            replace(c, note=choices.CHOSEN_BEFORE) if c.key in chosen else c for c, _ in options
        )
        self._options = {c.key: act for c, act in options if c.available}
        state = "pick" if shown else "empty"
        zh, en = choices.CHOOSE_TEXTS[items][state]
        self._render(self._view("step_choose", Phase.STEP, lead_zh=zh, lead_en=en, choices=shown))

    def choose(self, key: str) -> None:
        """A tap on one of the listed items (a key not on offer now is ignored)."""
        act = self._options.pop(key, None)
        if act is None or self.busy:
            return
        self._options = {}
        act()
        self.next()

    def new_order(self) -> None:
        """The order's QR (again after an expiry: the same business reference, so never a
        second charge); an order found paid already goes straight on."""
        self._asking = False
        self._render(self._view("step_pay", Phase.STEP, loading=True, status="creating"))
        self.run(self.journey.create_order, self._order)

    def _order(self, order: m.Order) -> None:
        if order.status is m.OrderStatus.SUCCESS:  # paid already (found again): go on
            self._render(self._view("step_pay", Phase.STEP, status="paid"))
            self.next()
            return
        expires = dt.datetime.fromisoformat(order.expires_at.replace("Z", "+00:00"))
        pay = PayView(yuan(order.amount_fen), order.payee, expires, order.qr_payload)
        self._render(self._view("step_pay", Phase.STEP, pay=pay, status="waiting"))

    def check_payment(self, now: dt.datetime | None = None) -> None:
        """Ask the registry whether the order is paid (the pay screen asks every second). A
        question that fails is simply asked again next time."""
        view = self.view
        if view is None or view.status != "waiting" or self._asking or self.closed:
            return
        self._asking = True
        pay = view.pay

        def status() -> m.OrderStatus | None:
            try:
                return self.journey.order_status()
            except Exception:  # a missed poll: the next one asks again
                return None

        def answer(result: Any) -> None:
            self._asking = False
            if self.closed or self.view is not view:
                return
            expired = pay is not None and (now or dt.datetime.now(dt.UTC)) >= pay.expires_at
            if result is m.OrderStatus.SUCCESS:
                self.journey.audit("payment.order", "paid")
                self._render(replace(view, status="paid"))
                self.next()
            elif result is m.OrderStatus.CLOSED or (result is not None and expired):
                self.journey.audit("payment.order", "expired")
                self._render(replace(view, status="expired"))

        self.worker(status, answer)

    def _done(self) -> None:
        journey = self.journey
        text = done_text(journey.flow, journey.step, journey.ctx)
        self._render(
            self._view(
                "step_done",
                Phase.STEP,
                lead_zh=text.next_zh,
                lead_en=text.next_en,
                outputs=tuple(text.outputs),
                qr=text.qr,
                queued=bool(journey.ctx.queued),
                heading_zh=text.heading[0],
                heading_en=text.heading[1],
            )
        )
        journey.end("finished")

    def finish(self) -> None:
        self.views.end_visit("finished")

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
        """The face step ended: passed (``result`` has the verification); the person chose
        the way without it (the counter's hand-off slip, or at a bank — which has no
        counter — the operator's witness); or they went back, to the notice, from where
        they can start again, take the way without, or go home."""
        renewing = self.journey.step.kind is StepKind.SIGN
        if result is not None and renewing:  # the signer's check, renewed: on to sign
            self.journey.renewed(result.verification_id)
            self._sign_step()
        elif result is not None and self.journey.party_wanted() is not None:
            self._party_verified(result.verification_id)
        elif result is not None:
            self.journey.verified(result.verification_id)
            self.next()
        elif to_counter:
            self.without_face()
        else:
            self.journey.audit("identity.face", "back")
            if renewing:
                self._renew_notice()
            else:
                self._face_notice()

    def _review(self) -> None:
        """Everything to be filed, with the fee the registry's guide states (asked once, on a
        worker: the review shows without it when the registry is away)."""
        if self.journey.ctx.fee_fen is not None or self.journey._application_type() is None:
            self._render(self._step_view("step_review"))
            return
        self.working("正在准备申请内容…", "Preparing your application…")
        self.run(self.journey.load_fee, lambda _fee: self._render(self._step_view("step_review")))

    def _sign_step(self) -> None:
        """The pad for the next signer — after a face check again if theirs would lapse
        before they sign (a long sitting: the registry judges each check at its signature)."""
        if self.journey.renewal_wanted() is not None:
            self._renew_notice()
            return
        self._render(self._step_view("step_sign"))

    def _renew_notice(self) -> None:
        renewal = self.journey.renewal_wanted()
        assert renewal is not None
        who_zh, who_en, _document = renewal
        minutes = VERIFICATION_VALID_S // 60
        lead_zh = f"人脸核验已近{minutes}分钟有效期，签名前请再核验一次"
        lead_en = f"your face check is nearly {minutes} minutes old; check again before you sign"
        if who_zh:  # in a sitting, the notice names whose check it is
            lead_zh, lead_en = f"{who_zh}：{lead_zh}", f"{who_en}: {lead_en}"
        self.journey.audit("identity.renewal", "asked")
        self._render(
            self._view(
                "step_face_intro",
                Phase.STEP,
                lead_zh=lead_zh,
                lead_en=lead_en[:1].upper() + lead_en[1:],
                parties=self._parties() if self.journey.ctx.parties else (),
            )
        )

    def signed(self, jpeg: bytes) -> None:
        """A signature was written: the borrower's authorization goes to the registry (which
        records its scope); any other signature is kept for the submission."""
        if self.journey.step.param("signer") == "authorization":
            self.working("正在登记授权…", "Recording the authorization…")
            self.run(lambda: self.journey.authorize(jpeg), lambda _a: self.next())
            return
        if self.journey.renewal_wanted() is not None:  # it lapsed while the pad was open
            self.journey.audit("journey.sign", "not_taken", reason="check_lapsing")
            self._renew_notice()
            return
        try:
            self.journey.sign(jpeg)
        except StepFailed as err:  # a party's signature that is another's: sign again
            self._failed(err)
            return
        if self.journey.step.param("signer") == "parties" and self.journey.signer_wanted():
            self.views.say(PROMPTS[StepKind.SIGN])  # the next party signs
            self._sign_step()
            return
        self.next()

    def scanned(self, batch: Any) -> None:
        if self.journey.step.param("read") == "qr":  # a proof's code, read off its page
            self.working("正在识别二维码…", "Reading the QR code…")
            self.run(lambda: self.journey.read_proof_qr(batch), lambda _code: self.next())
            return
        self.journey.scanned(batch)
        self.next()

    def retry(self, message: UserMessage | None = None) -> None:
        """Try the step again; after a refusal its step lists in ``back_on`` (a code typed
        wrong, say), from the form before it."""
        self.journey.ended = ""
        if message is not None and message.code in self.journey.step.param("back_on", []):
            self.journey.back_to(StepKind.FORM) or self.journey.back_to(StepKind.CHOOSE)
        self.show_step()

    def cancel(self) -> None:
        self.views.end_visit("cancel")

    def end(self, reason: str) -> threading.Thread | None:
        """The visit ended (the app wipes its screens): waits stop, the journey records why
        and forgets the person, and an order left unpaid is closed with the registry on a
        worker (returned, for whoever wants to wait on it)."""
        self.close()
        journey = self.journey
        slip = None
        if not journey.ended.startswith(("finished", "handoff")) and journey.sitting_unfinished():
            slip = journey.handoff_slip(SITTING_ENDED)  # composed before the wipe
        journey.end(reason)
        order = journey.ctx.order
        journey.wipe()
        if order is None and slip is None:
            return None

        def after() -> None:
            if slip is not None:  # the parties learn what was done and that nothing is filed
                journey.print_slip(*slip)
            if order is not None:
                journey.cancel_order(order)

        closing = threading.Thread(target=after, name="close-visit", daemon=True)
        closing.start()
        return closing

    def close(self) -> None:
        """The visit ended (the app wiped it): waits stop, answers on their way are dropped."""
        self.closed = True
        unwatch, self._unwatch = self._unwatch, None
        if unwatch is not None:
            unwatch()
        self.journey.close()

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
        submitted = self.journey.ctx.submitted
        self._render(
            self._view(
                WORK_SCREEN,
                Phase.FAILED,
                lead_zh=message.zh,
                lead_en=message.en,
                message=message,
                can_retry=message.retry,
                outputs=self._what_they_have(),
                qr=submitted.progress_url if submitted is not None else "",
            )
        )

    def _what_they_have(self) -> tuple[str, ...]:
        """What is already done and must not be lost with a paper that did not come out: the
        filed case's number (its QR is the acknowledgment), the queued application's
        reference."""
        ctx = self.journey.ctx
        if ctx.submitted is not None:
            return (
                f"申请已受理，业务编号 {ctx.submitted.case_number}",
                f"Filed: case number {ctx.submitted.case_number} (scan to follow it)",
            )
        if ctx.queued:
            return (
                f"申请已保存，本机编号 {ctx.queued}，网络恢复后自动提交",
                f"Saved: reference {ctx.queued}, sent when the network is back",
            )
        if ctx.awaiting_review:
            return (
                f"申请待复核，草稿编号 {ctx.awaiting_review}",
                f"Awaiting review: draft {ctx.awaiting_review}",
            )
        return ()

    def handoff(self, message: UserMessage) -> None:
        """Print the hand-off slip so the counter continues this journey."""
        self.journey.end(f"handoff:{message.code}")
        self.working("正在打印接续单…", "Printing your hand-off slip…")

        def printed(reference: str) -> None:
            if self.journey.slip_printed:
                zh = f"请持接续单到人工窗口办理（编号 {reference}）"
                en = f"Please take the slip to a counter (reference {reference})"
            else:  # the printer failed too: the reference is on the screen instead
                zh = f"接续单未能打印。请记下编号 {reference}，到人工窗口出示"
                en = f"The slip could not be printed. Note reference {reference} for the counter"
            self._render(
                self._view(
                    WORK_SCREEN,
                    Phase.HANDOFF,
                    lead_zh=zh,
                    lead_en=en,
                    message=message,
                    reference=reference,
                    outputs=self._what_they_have(),
                )
            )

        self.run(lambda: self.journey.handoff(message), printed)


def _record_lines(record: m.PropertyRecord) -> list[str]:
    """One property as the screen lists it: where, the unit code, the certificate, and each
    mortgage, seizure or objection on it (the holder's own records, after the face check)."""
    lines = [
        f"{record.address}  {record.area_m2:g} m²  {record.use}",
        f"  单元号 Unit {record.unit_code}  证号 No. {record.certificate_number}",
    ]
    for mortgage in record.mortgages:
        amount = yuan(mortgage.amount_fen)
        lines.append(f"  抵押 Mortgage: {mortgage.creditor} {amount}  至 to {mortgage.term_to}")
    lines.extend(f"  查封 Seizure: {s}" for s in record.seizures)
    lines.extend(f"  异议 Objection: {o}" for o in record.objections)
    return lines
