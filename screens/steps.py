"""The step screens of a journey: place the card, consent, work in progress (or what went
wrong and what to do), pay by QR, done. Each is driven by a ``FlowController``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen

from kiosk.flows.runner import StepView
from kiosk.messages import UserMessage
from screens.textures import to_texture

POLL_S = 1.0
CANCEL_AFTER_S = 5  # a wait longer than this offers the way back to the start


class StepScreen(Screen):  # type: ignore[misc]
    title_zh = StringProperty("")
    title_en = StringProperty("")

    def _begin(self, flow: Any) -> None:
        self.flow = flow
        view = flow.view
        self.title_zh, self.title_en = view.title_zh, view.title_en

    def cancel(self) -> None:
        self.flow.cancel()

    def begin(self, flow: Any) -> None:
        self._begin(flow)

    def render(self, flow: Any, view: StepView) -> None:
        """Show the runner's view of the step (called again when it changes)."""
        self.begin(flow)


class CardScreen(StepScreen):
    """Place the ID card: an animation shows where; the read starts by itself."""

    phase = NumericProperty(0.0)  # 0..1 for the card's slide
    message_zh = StringProperty("")
    message_en = StringProperty("")

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        if view.offer == "elder":  # read: the larger text is offered at once
            self._stop_animation()
            if flow.app.notice is None:
                offer = ElderOffer(flow)
                flow.app.notice = offer
                offer.open()
            return
        self.message_zh = self.message_en = ""
        self._stop_animation()
        self._anim = Clock.schedule_interval(self._animate, 1 / 30)

    def _animate(self, dt_: float) -> None:
        self.phase = (self.phase + dt_ / 2.0) % 1.0

    def _stop_animation(self) -> None:
        anim = getattr(self, "_anim", None)
        if anim is not None:
            anim.cancel()

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
        self.flow.elder_answer(elder)


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
    who_zh = StringProperty("")  # in a sitting of several: whose face (role, masked name)
    who_en = StringProperty("")

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self.who_zh, self.who_en = view.lead_zh, view.lead_en
        self.bank = view.bank
        self.statement_zh, self.statement_en = view.statement_zh, view.statement_en
        self.witnessing = bool(view.statement_zh)

    def start(self) -> None:
        self.flow.start_face_check()

    def use_counter(self) -> None:
        """The way without the face: the counter, or at a bank the operator's statement."""
        self.flow.without_face()

    def back(self) -> None:
        self.flow.witness_back()

    def confirm_witness(self) -> None:
        self.witnessing = False
        self.flow.witness()


class ConsentScreen(StepScreen):
    """What will be looked up, and why; agree, or leave (nothing is queried)."""

    purpose_zh = StringProperty("")
    purpose_en = StringProperty("")

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self.purpose_zh, self.purpose_en = view.lead_zh, view.lead_en

    def agree(self) -> None:
        self.flow.agree()


class ResultScreen(StepScreen):
    """What the query found (the holder's properties with their unit codes, certificates
    and mortgages; for a proof of ownership only whether), before anything is paid or
    printed: print the certificate, or finish with nothing printed."""

    loading = BooleanProperty(True)
    found_zh = StringProperty("")
    found_en = StringProperty("")
    records = StringProperty("")
    fee_zh = StringProperty("")
    fee_en = StringProperty("")

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self.loading = view.loading
        self.found_zh, self.found_en = view.lead_zh, view.lead_en
        self.records = "\n".join(view.outputs)
        self.fee_zh, self.fee_en = view.statement_zh, view.statement_en

    def print_result(self) -> None:
        self.flow.print_result()

    def no_print(self) -> None:
        self.flow.no_print()

    def wipe(self) -> None:
        """The visit ended: the person's records leave the screen."""
        self.records = self.found_zh = self.found_en = ""


class WorkScreen(StepScreen):
    """A step the kiosk does by itself (ticket, query, print), or what went wrong."""

    lead_zh = StringProperty("")
    lead_en = StringProperty("")
    failed = BooleanProperty(False)
    can_retry = BooleanProperty(False)
    outputs_zh = StringProperty("")  # what is already done (a filed case's number)
    outputs_en = StringProperty("")
    has_qr = BooleanProperty(False)  # the filed case's progress page, as a QR
    waited = NumericProperty(0)  # seconds of this wait, shown from the second one
    can_cancel = BooleanProperty(False)  # a wait this long offers the way back to the start

    def working(self, flow: Any, zh: str, en: str) -> None:
        self._begin(flow)
        self.failed = self.can_retry = self.handoff_done = False
        self.lead_zh, self.lead_en = zh, en
        self._outputs((), "")
        self._stop_clock()
        self.waited, self.can_cancel = 0, False
        self._clock = Clock.schedule_interval(self._count, 1.0)

    def _count(self, _dt: float) -> None:
        self.waited += 1
        self.can_cancel = self.waited >= CANCEL_AFTER_S

    def _stop_clock(self) -> None:
        clock = getattr(self, "_clock", None)
        if clock is not None:
            clock.cancel()
            self._clock = None
        self.can_cancel = False

    def on_leave(self, *_args: Any) -> None:
        self._stop_clock()

    def _outputs(self, lines: tuple[str, ...], qr: str) -> None:
        self.outputs_zh, self.outputs_en = (lines[0], lines[1]) if lines else ("", "")
        self.has_qr = bool(qr)
        self.ids.qr.texture = None
        if qr:
            import qrcode

            image = np.asarray(qrcode.make(qr, border=2).convert("RGB"))[:, :, ::-1]
            self.ids.qr.texture = to_texture(np.ascontiguousarray(image))
            self.ids.qr.texture.mag_filter = "nearest"

    def show_failure(self, flow: Any, message: UserMessage, view: StepView | None = None) -> None:
        self._begin(flow)
        self._stop_clock()
        self._outputs(view.outputs if view else (), view.qr if view else "")
        self._message = message
        self.failed, self.can_retry, self.handoff_done = True, message.retry, False
        self.lead_zh, self.lead_en = message.zh, message.en

    handoff_done = BooleanProperty(False)

    def show_handoff(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self._stop_clock()
        self.failed, self.can_retry, self.handoff_done = False, False, True
        self.lead_zh, self.lead_en = view.lead_zh, view.lead_en
        self._outputs(view.outputs, view.qr)

    def retry(self) -> None:
        self.flow.retry(getattr(self, "_message", None))

    def to_counter(self) -> None:
        self.flow.handoff(self._message)


class ChooseScreen(StepScreen):
    """One item of the person's list: a case with a fee due, a registered case to print, a
    property (address, unit code, certificate number), a mortgage on one, an appointment, a
    way to receive the certificate. The list and its texts are the runner's view."""

    empty = BooleanProperty(False)
    loading = BooleanProperty(True)
    items = StringProperty("cases")
    texts_zh = StringProperty("")
    texts_en = StringProperty("")

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self.items = view.items
        self.loading, self.empty = view.loading, not view.loading and not view.choices
        self.texts_zh, self.texts_en = view.lead_zh, view.lead_en
        self.ids.cases.clear_widgets()
        english = flow.app.theme.language == "en"
        for choice in view.choices:
            self._add(
                choice.lead_en if english else choice.lead_zh,
                choice.second_zh if english else choice.second_en,
                choice.key,
                choice.note,
                choice.available,
            )

    def _add(self, lead: str, second: str, key: str, note: str, available: bool) -> None:
        from screens.widgets import BilingualButton

        theme = self.flow.app.theme
        button = BilingualButton(
            lead=lead,
            second=second,
            lead_mm=6.5,
            second_mm=4.5,
            size_hint_y=None,
            height=theme.mm(22) * theme.scale,
        )
        button.case_number = key
        button.bind(on_release=lambda _b: self.flow.choose(key))
        if note:
            button.note = note
        if not available:
            button.available, button.disabled = False, True
        self.ids.cases.add_widget(button)


class PayScreen(StepScreen):
    """The order's QR, large, with the amount, the payee and the time left."""

    amount = StringProperty("")
    payee = StringProperty("")
    seconds_left = NumericProperty(0)
    status = StringProperty("")

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self.status = view.status
        pay = view.pay
        if view.status == "creating" or pay is None:
            self._stop()
            self.ids.qr.texture = None
            return
        if view.status in ("expired", "paid"):
            self._stop()
            return
        import qrcode

        self.amount, self.payee, self._expires = pay.amount, pay.payee, pay.expires_at
        image = np.asarray(qrcode.make(pay.qr_payload, border=2).convert("RGB"))[:, :, ::-1]
        self.ids.qr.texture = to_texture(np.ascontiguousarray(image))
        self.ids.qr.texture.mag_filter = "nearest"
        self._tick(0)
        self._stop()
        self._poll = Clock.schedule_interval(self._tick, POLL_S)

    def _tick(self, _dt: float) -> None:
        """The time left, each second; and the registry is asked whether it is paid."""
        now = dt.datetime.now(dt.UTC)
        self.seconds_left = max(0, int((self._expires - now).total_seconds()))
        if self.status == "waiting":
            self.flow.check_payment(now)

    def _stop(self) -> None:
        poll = getattr(self, "_poll", None)
        if poll is not None:
            poll.cancel()
            self._poll = None

    def new_order(self) -> None:
        """After an expiry: the same business reference, so never a second charge."""
        self.flow.new_order()

    def on_leave(self, *_args: Any) -> None:
        if self.status == "waiting":
            self.status = "left"
        self._stop()


class DoneScreen(StepScreen):
    next_zh = StringProperty("")
    next_en = StringProperty("")
    heading_zh = StringProperty("办理完成")
    heading_en = StringProperty("All done")
    outputs = StringProperty("")
    queued = BooleanProperty(False)  # the application waits in the outbox
    has_qr = BooleanProperty(False)

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self.next_zh, self.next_en = view.lead_zh, view.lead_en
        self.heading_zh, self.heading_en = view.heading_zh, view.heading_en
        self.outputs = "\n".join(view.outputs)
        self.queued = view.queued
        self.has_qr = bool(view.qr)
        self.ids.qr.texture = None
        if view.qr:  # to follow the case on a phone
            import qrcode

            image = np.asarray(qrcode.make(view.qr, border=2).convert("RGB"))[:, :, ::-1]
            self.ids.qr.texture = to_texture(np.ascontiguousarray(image))
            self.ids.qr.texture.mag_filter = "nearest"

    def finish(self) -> None:
        self.flow.finish()
