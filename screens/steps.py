"""The step screens of a journey: place the card, consent, work in progress (or what went
wrong and what to do), pay by QR, done. Each is driven by a ``FlowController``."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import numpy as np
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen

from kiosk.backend import models as m
from kiosk.documents.receipts import yuan
from kiosk.flows.spec import StepSpec
from kiosk.messages import UserMessage
from screens.textures import to_texture

POLL_S = 1.0


class StepScreen(Screen):  # type: ignore[misc]
    title_zh = StringProperty("")
    title_en = StringProperty("")

    def _begin(self, flow: Any) -> None:
        self.flow = flow
        spec = flow.journey.flow
        self.title_zh, self.title_en = spec.title_zh, spec.title_en

    def cancel(self) -> None:
        self.flow.cancel()


class CardScreen(StepScreen):
    """Place the ID card: an animation shows where; the read starts by itself."""

    phase = NumericProperty(0.0)  # 0..1 for the card's slide
    message_zh = StringProperty("")
    message_en = StringProperty("")

    def begin(self, flow: Any) -> None:
        self._begin(flow)
        self.message_zh = self.message_en = ""
        self._anim = Clock.schedule_interval(self._animate, 1 / 30)
        flow.run(flow.journey.read_card, self._read)

    def _animate(self, dt_: float) -> None:
        self.phase = (self.phase + dt_ / 2.0) % 1.0

    def _read(self, _document: Any) -> None:
        self._anim.cancel()
        app = self.flow.app
        self.flow.watch_card()
        journey = self.flow.journey
        # at a bank the operator drives the screen: the elder offer is for citizens' kiosks
        if journey.ctx.elder and not app.shell.large_text and journey.operator is None:
            offer = ElderOffer(self.flow)
            app.notice = offer
            offer.open()
            return
        self.flow.next()

    def on_leave(self, *_args: Any) -> None:
        anim = getattr(self, "_anim", None)
        if anim is not None:
            anim.cancel()


class ElderOffer(ModalView):  # type: ignore[misc]
    """Offered at once to a card holder at or above the configured age."""

    def __init__(self, flow: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow = flow

    def choose(self, elder: bool) -> None:
        self.dismiss(animation=False)
        self.flow.app.notice = None
        if elder:
            self.flow.app.enable_elder_mode()
        self.flow.journey.audit("elder_mode.offer", "accepted" if elder else "declined")
        self.flow.next()


class CardRemoved(ModalView):  # type: ignore[misc]
    """The card was taken away mid-journey: go on, or the visit ends by itself shortly."""

    seconds = NumericProperty(0)

    def __init__(self, flow: Any, grace_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow = flow
        self.seconds = int(grace_s)
        self._tick = Clock.schedule_interval(self._count, min(1.0, grace_s))

    def _count(self, _dt: float) -> None:
        self.seconds = max(0, self.seconds - 1)
        if self.seconds == 0:
            self.answer(False)

    def answer(self, go_on: bool) -> None:
        self._tick.cancel()
        if self.flow.app.notice is self:
            self.dismiss(animation=False)
            self.flow.app.notice = None
            self.flow.card_answer(go_on)

    def on_dismiss(self) -> None:
        self._tick.cancel()


class FaceIntroScreen(StepScreen):
    """Why the face is checked, that the image is not kept, and the way without it (the
    face-recognition rules require an alternative): at a citizens' kiosk the counter, with a
    hand-off slip; at a bank the operator's witness, confirmed on this screen."""

    bank = BooleanProperty(False)  # an operator is there to witness
    witnessing = BooleanProperty(False)  # the operator's statement is on screen
    statement_zh = StringProperty("")
    statement_en = StringProperty("")

    def begin(self, flow: Any) -> None:
        self._begin(flow)
        self.bank = flow.journey.operator is not None
        self.witnessing = False
        self.statement_zh = self.statement_en = ""

    def start(self) -> None:
        self.flow.start_face_check()

    def use_counter(self) -> None:
        """The way without the face: the counter, or at a bank the operator's statement."""
        if self.bank:
            self.statement_zh, self.statement_en = self.flow.journey.witness_statement()
            self.witnessing = True
            return
        from kiosk.flows.runner import FACE_HANDOFF

        self.flow.handoff(FACE_HANDOFF)

    def back(self) -> None:
        self.witnessing = False

    def confirm_witness(self) -> None:
        self.witnessing = False
        self.flow.witness()


class ConsentScreen(StepScreen):
    """What will be looked up, and why; agree, or leave (nothing is queried)."""

    purpose_zh = StringProperty("")
    purpose_en = StringProperty("")

    def begin(self, flow: Any, step: StepSpec) -> None:
        self._begin(flow)
        self.purpose_zh = str(step.param("purpose_zh"))
        self.purpose_en = str(step.param("purpose_en"))

    def agree(self) -> None:
        self.flow.journey.give_consent()
        self.flow.next()


class WorkScreen(StepScreen):
    """A step the kiosk does by itself (ticket, query, print), or what went wrong."""

    lead_zh = StringProperty("")
    lead_en = StringProperty("")
    failed = BooleanProperty(False)
    can_retry = BooleanProperty(False)

    def begin(self, flow: Any, zh: str, en: str) -> None:
        self._begin(flow)
        self.failed = self.can_retry = self.handoff_done = False
        self.lead_zh, self.lead_en = zh, en

    def show_failure(self, flow: Any, message: UserMessage) -> None:
        self._begin(flow)
        self._message = message
        self.failed, self.can_retry, self.handoff_done = True, message.retry, False
        self.lead_zh, self.lead_en = message.zh, message.en

    handoff_done = BooleanProperty(False)

    def show_handoff(self, flow: Any, reference: str) -> None:
        self._begin(flow)
        self.failed, self.can_retry, self.handoff_done = False, False, True
        self.lead_zh = f"请持接续单到人工窗口办理（编号 {reference}）"
        self.lead_en = f"Please take the slip to a counter (reference {reference})"

    def retry(self) -> None:
        self.flow.retry(getattr(self, "_message", None))

    def to_counter(self) -> None:
        self.flow.handoff(self._message)


CHOOSE_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    # items → {state: (zh, en)}
    "cases": {
        "empty": ("您没有待缴费的业务", "You have no fees to pay"),
        "pick": ("请选择要缴费的业务", "Choose the case to pay"),
    },
    "ready": {
        "empty": ("暂无可打印的证书证明", "Nothing is ready to print yet"),
        "pick": ("请选择要打印的证书证明", "Choose what to print"),
    },
    "properties": {
        "empty": ("您名下没有可办理的不动产", "There is no property in your name to change"),
        "pick": ("请选择要办理的不动产", "Choose the property"),
    },
    "mortgages": {
        "empty": ("您名下的不动产没有有效的抵押登记", "No active mortgage on your property"),
        "pick": ("请选择要注销的抵押", "Choose the mortgage to cancel"),
    },
    "appointments": {
        "empty": ("未找到您的预约，可返回首页取号", "No appointment found: you can take a ticket"),
        "pick": ("请选择要签到的预约", "Choose the appointment to check in for"),
    },
    "delivery": {
        "empty": ("请选择领取方式", "How would you like to get it?"),
        "pick": ("请选择领取方式", "How would you like to get it?"),
    },
    # a bank operator, through the borrower's authorization
    "bank_properties": {
        "empty": ("借款人名下没有可抵押的不动产", "The borrower holds no property to mortgage"),
        "pick": ("请选择抵押的不动产", "Choose the property to mortgage"),
    },
    "bank_mortgages": {
        "empty": ("借款人名下没有本行的有效抵押", "No active mortgage of this bank"),
        "pick": ("请选择本行的抵押登记", "Choose the bank's mortgage"),
    },
    "contracts": {
        "empty": ("借款人没有已备案的预售合同", "The borrower has no pre-sale contract on file"),
        "pick": ("请选择预售合同", "Choose the pre-sale contract"),
    },
    "advance": {
        "empty": ("没有可转本登记的预告抵押", "No advance-notice mortgage can be converted yet"),
        "pick": ("请选择要转本登记的预告抵押", "Choose the advance notice to convert"),
    },
}
DELIVERY_CHOICES = (
    ("print", "在本机打印纸质证书", "Print it here on certificate paper"),
    ("ems", "邮寄到家（EMS）", "Mail it to me (EMS)"),
    ("electronic", "电子证照（扫码领取）", "Electronic certificate (scan a QR)"),
)
LOADING = {
    "cases": ("正在查找您的业务…", "Looking for your cases…"),
    "ready": ("正在查找您的业务…", "Looking for your cases…"),
    "properties": ("正在查询您名下的不动产…", "Looking up your property…"),
    "mortgages": ("正在查询您名下的抵押登记…", "Looking up your mortgages…"),
    "delivery": ("请选择领取方式", "How would you like to get it?"),
    "appointments": ("正在查找您的预约…", "Looking for your appointments…"),
    "bank_properties": ("正在查询借款人名下的不动产…", "Looking up the borrower's property…"),
    "bank_mortgages": ("正在查询本行的抵押登记…", "Looking up the bank's mortgages…"),
    "contracts": ("正在查询预售合同备案…", "Looking up pre-sale contracts…"),
    "advance": ("正在查询预告抵押…", "Looking up advance notices…"),
}


class ChooseScreen(StepScreen):
    """One item of the person's list: a case with a fee due, a registered case to print, a
    property (address, unit code, certificate number), or a mortgage on one."""

    empty = BooleanProperty(False)
    loading = BooleanProperty(True)
    ready = BooleanProperty(False)  # registered cases to print, not fees to pay
    items = StringProperty("cases")
    texts_zh = StringProperty("")
    texts_en = StringProperty("")

    def on_loading(self, *_args: Any) -> None:
        self._texts()

    def on_empty(self, *_args: Any) -> None:
        self._texts()

    def _texts(self) -> None:
        if self.loading:
            self.texts_zh, self.texts_en = LOADING[self.items]
        else:
            state = "empty" if self.empty else "pick"
            self.texts_zh, self.texts_en = CHOOSE_TEXTS[self.items][state]

    def begin(self, flow: Any) -> None:
        self._begin(flow)
        self.items = str(flow.journey.step.param("items"))
        self.loading, self.empty = True, False
        self.ready = self.items == "ready"
        self._texts()
        self.ids.cases.clear_widgets()
        journey = flow.journey
        if self.items == "delivery":
            self._show_delivery()
            return
        if self.items == "appointments":
            flow.run(journey.list_appointments, self._show_appointments)
            return
        if self.items in ("properties", "mortgages"):
            flow.run(journey.list_properties, self._show_properties)
            return
        if self.items in ("bank_properties", "bank_mortgages", "contracts", "advance"):
            flow.run(journey.bank_items, self._show_bank_items)
            return
        work = journey.ready_cases if self.ready else journey.due_cases
        flow.run(work, self._show_cases)

    def _add(self, lead: str, second: str, choose: Any, key: str) -> None:
        from screens.widgets import BilingualButton

        button = BilingualButton(
            lead=lead,
            second=second,
            lead_mm=6.5,
            second_mm=4.5,
            size_hint_y=None,
            height=self.flow.app.theme.mm(22) * self.flow.app.theme.scale,
        )
        button.case_number = key
        button.bind(on_release=lambda _b: choose())
        self.ids.cases.add_widget(button)

    def _show_delivery(self) -> None:
        from drivers.base import Role
        from kiosk.services import ROLE_NAMES

        self.loading, self.empty = False, False
        printer = self.flow.app.kiosk.device_manager.statuses().get(Role.CERTIFICATE)
        english = self.flow.app.theme.language == "en"
        for choice, zh, en in DELIVERY_CHOICES:
            self._add(
                en if english else zh,
                zh if english else en,
                lambda choice=choice: self.choose_delivery(choice),
                choice,
            )
            if choice == "print" and (printer is None or not printer.usable):
                button = self.ids.cases.children[0]  # the one just added, shown disabled
                button.available, button.disabled = False, True
                name_zh, name_en = ROLE_NAMES[Role.CERTIFICATE]
                button.note = f"{name_zh}暂不可用 {name_en} unavailable"

    def _show_appointments(self, found: list[m.Appointment]) -> None:
        from kiosk.documents.receipts import SERVICE_NAMES

        self.loading, self.empty = False, not found
        self.ids.cases.clear_widgets()
        english = self.flow.app.theme.language == "en"
        for appointment in found:
            zh, en = SERVICE_NAMES.get(appointment.service, ("综合业务", "General"))
            when = appointment.slot.replace("T", " ")
            self._add(
                f"{when}  {en if english else zh}",
                f"预约号 Appointment {appointment.code}",
                lambda a=appointment: self.choose_appointment(a),
                appointment.code,
            )

    def choose_appointment(self, appointment: m.Appointment) -> None:
        self.flow.journey.choose_appointment(appointment)
        self.flow.next()

    def choose_delivery(self, choice: str) -> None:
        self.flow.journey.choose_delivery(choice)
        self.flow.next()

    def _show_cases(self, cases: list[m.Case]) -> None:
        from kiosk.documents.receipts import BUSINESS_NAMES

        self.loading, self.empty = False, not cases
        self.ids.cases.clear_widgets()
        english = self.flow.app.theme.language == "en"
        for case in cases:
            zh, en = BUSINESS_NAMES.get(case.type, (case.type.value, case.type.value))
            what = "" if self.ready else f"  {yuan(case.fee_fen)}"
            lead = f"{case.case_number}  {en if english else zh}{what}"
            self._add(
                lead, zh if english else en, lambda case=case: self.choose(case), case.case_number
            )

    def _show_properties(self, found: list[m.PropertyRecord]) -> None:
        self.loading, self.empty = False, not found
        self.ids.cases.clear_widgets()
        for record in found:
            if self.items in ("mortgages", "bank_mortgages"):
                for mortgage in record.mortgages:
                    kind = "最高额抵押" if mortgage.maximum else "抵押"
                    self._add(
                        record.address,
                        f"{kind} {mortgage.creditor} {yuan(mortgage.amount_fen)}"
                        f"  至 to {mortgage.term_to}",
                        lambda r=record, g=mortgage: self.choose_property(r, g),
                        mortgage.mortgage_id,
                    )
            else:
                self._add(
                    record.address,
                    f"单元号 Unit {record.unit_code}  证号 No. {record.certificate_number}",
                    lambda r=record: self.choose_property(r, None),
                    record.unit_code,
                )

    def _show_bank_items(self, found: list[Any]) -> None:
        journey = self.flow.journey
        if self.items in ("bank_properties", "bank_mortgages"):
            self._show_properties(found)
        else:
            self.loading, self.empty = False, not found
            self.ids.cases.clear_widgets()
            for item in found:
                if isinstance(item, m.PresaleContract):
                    self._add(
                        item.address,
                        f"合同 Contract {item.contract_number}  {item.developer}"
                        f"  {yuan(item.price_fen)}",
                        lambda c=item: self.choose_contract(c),
                        item.contract_number,
                    )
                else:
                    self._add(
                        item.address,
                        f"预告 Notice {item.notice_id}  {yuan(item.amount_fen)}",
                        lambda a=item: self.choose_advance(a),
                        item.notice_id,
                    )
        before = journey.preselected(found)
        if before is not None:  # a resumed draft: what was chosen then
            for button in self.ids.cases.children:
                if button.case_number in _keys(before):
                    button.note = "上次所选 · chosen before"

    def choose_contract(self, contract: m.PresaleContract) -> None:
        self.flow.journey.choose_contract(contract)
        self.flow.next()

    def choose_advance(self, advance: m.AdvanceMortgage) -> None:
        self.flow.journey.choose_advance(advance)
        self.flow.next()

    def choose(self, case: m.Case) -> None:
        self.flow.journey.choose_case(case)
        self.flow.next()

    def choose_property(self, record: m.PropertyRecord, mortgage: m.Mortgage | None) -> None:
        self.flow.journey.choose_property(record, mortgage)
        self.flow.next()


def _keys(item: Any) -> set[str]:
    if isinstance(item, m.PropertyRecord):
        return {item.unit_code, *(g.mortgage_id for g in item.mortgages)}
    return {getattr(item, "contract_number", ""), getattr(item, "notice_id", "")}


class PayScreen(StepScreen):
    """The order's QR, large, with the amount, the payee and the time left."""

    amount = StringProperty("")
    payee = StringProperty("")
    seconds_left = NumericProperty(0)
    status = StringProperty("")

    def begin(self, flow: Any) -> None:
        self._begin(flow)
        self.status = "creating"
        self.ids.qr.texture = None
        flow.run(flow.journey.create_order, self._show_order)

    def _show_order(self, order: m.Order) -> None:
        import qrcode

        if order.status is m.OrderStatus.SUCCESS:  # paid already (found again): go on
            self.status = "paid"
            self.flow.next()
            return
        self.amount = yuan(order.amount_fen)
        self.payee = order.payee
        self._expires = dt.datetime.fromisoformat(order.expires_at.replace("Z", "+00:00"))
        image = np.asarray(qrcode.make(order.qr_payload, border=2).convert("RGB"))[:, :, ::-1]
        self.ids.qr.texture = to_texture(np.ascontiguousarray(image))
        self.ids.qr.texture.mag_filter = "nearest"
        self.status = "waiting"
        self._tick(0)
        self._poll = Clock.schedule_interval(self._tick, POLL_S)

    def _tick(self, _dt: float) -> None:
        now = dt.datetime.now(dt.UTC)
        self.seconds_left = max(0, int((self._expires - now).total_seconds()))
        if self.status != "waiting" or getattr(self, "_asking", False):
            return
        self._asking = True

        def ask() -> None:
            try:
                status = self.flow.journey.order_status()
            except Exception:  # a missed poll: the next one asks again
                status = None
            Clock.schedule_once(lambda _dt: self._answer(status), 0)

        threading.Thread(target=ask, daemon=True).start()

    def _answer(self, status: m.OrderStatus | None) -> None:
        self._asking = False
        if self.status != "waiting" or self.flow.app.flow is not self.flow:
            return
        if status is m.OrderStatus.SUCCESS:
            self._stop("paid")
            self.flow.journey.audit("payment.order", "paid")
            self.flow.next()
        elif status is m.OrderStatus.CLOSED or (status and self.seconds_left == 0):
            self._stop("expired")
            self.flow.journey.audit("payment.order", "expired")

    def _stop(self, status: str) -> None:
        self.status = status
        poll = getattr(self, "_poll", None)
        if poll is not None:
            poll.cancel()

    def new_order(self) -> None:
        """After an expiry: the same business reference, so never a second charge."""
        self.begin(self.flow)

    def on_leave(self, *_args: Any) -> None:
        if self.status == "waiting":
            self._stop("left")


class DoneScreen(StepScreen):
    next_zh = StringProperty("")
    next_en = StringProperty("")
    outputs = StringProperty("")
    queued = BooleanProperty(False)  # the application waits in the outbox
    has_qr = BooleanProperty(False)

    def begin(self, flow: Any) -> None:
        self._begin(flow)
        step = flow.journey.step
        self.next_zh, self.next_en = str(step.param("next_zh")), str(step.param("next_en"))
        ctx = flow.journey.ctx
        taken = []
        if ctx.ticket is not None:
            taken.append(f"排队号 Queue number: {ctx.ticket.ticket_number}")
        if ctx.query is not None:
            taken.append(f"查验码 Check code: {ctx.query.verification_code}")
        if ctx.sheet:
            taken.append(f"证书纸编号 Sheet number: {ctx.sheet}")
        if ctx.case is not None and ctx.order is not None:
            taken.append(
                f"业务编号 Case: {ctx.case.case_number}  已缴 Paid: {yuan(ctx.order.amount_fen)}"
            )
        url = ""
        self.queued = bool(ctx.queued)
        if ctx.submitted is not None:
            taken.append(f"业务编号 Case number: {ctx.submitted.case_number}")
            url = ctx.submitted.progress_url
        elif ctx.queued:
            taken.append(f"本机编号 Reference: {ctx.queued}")
            taken.append("网络恢复后自动提交，无需重新办理")
            taken.append("It is sent when the network is back: nothing to do again")
        delivery = ctx.delivery
        if delivery is not None and delivery.method is m.DeliveryMethod.EMS:
            taken.append(f"邮件号 EMS item: {delivery.reference}")
            self.next_zh = "证书将通过 EMS 寄出，请留意快递员来电；可凭邮件号查询"
            self.next_en = "Your certificate goes by EMS: expect the courier's call"
        elif delivery is not None:
            taken.append("扫码领取电子证照 Scan for your electronic certificate")
            self.next_zh = "电子证照与纸质证书具有同等效力；二维码 30 天内有效"
            self.next_en = "It has the same force as the paper one; the QR works for 30 days"
            url = delivery.url
        self.outputs = "\n".join(taken)
        self.has_qr = bool(url)
        self.ids.qr.texture = None
        if url:  # to follow the case on a phone
            import qrcode

            image = np.asarray(qrcode.make(url, border=2).convert("RGB"))[:, :, ::-1]
            self.ids.qr.texture = to_texture(np.ascontiguousarray(image))
            self.ids.qr.texture.mag_filter = "nearest"

    def finish(self) -> None:
        self.flow.app.end_session("finished")
