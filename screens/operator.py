"""The bank service point's operator screens: the login (account and password, typed on the
screen's keyboard), the workbench (the bank's applications to start, the last 30 days' drafts
and cases with their status, resume, approve, reprint, the registration proof) and the checker's
review of another operator's application (maker-checker)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen

from kiosk import bank as m
from kiosk.bank import LoginRefused, Workbench
from kiosk.documents.receipts import BUSINESS_NAMES
from kiosk.flows.forms import Keyboard
from kiosk.messages import message_for
from screens.background import in_background
from screens.hidden_entry import HiddenEntry
from screens.registry import load_kv
from screens.widgets import BilingualButton

load_kv("screens.steps")  # StepHeader, StepButton
load_kv("screens.application_steps")  # FieldBox, the keyboard

STATUS_NAMES = {
    m.CaseStatus.ACCEPTED: ("已受理", "accepted"),
    m.CaseStatus.AWAITING_PAYMENT: ("待缴费", "fee due"),
    m.CaseStatus.IN_REVIEW: ("审核中", "in review"),
    m.CaseStatus.REGISTERED: ("已登簿", "registered"),
    m.CaseStatus.REJECTED: ("不予登记", "refused"),
}


def _app() -> Any:
    return App.get_running_app()


class OperatorLoginScreen(HiddenEntry, Screen):  # type: ignore[misc]
    """One operator at a time; five wrong passwords lock the account (the registry counts).
    The way into maintenance is here too (its corner holds no button: no voice toggle, the
    operator is staff)."""

    passes_touches = True

    message_zh = StringProperty("")
    message_en = StringProperty("")
    busy = BooleanProperty(False)

    def on_pre_enter(self, *_args: Any) -> None:
        self.values = {"operator_id": "", "password": ""}
        self.active = "operator_id"
        keyboard = self.ids.keyboard
        keyboard.mode = Keyboard.TEXT.value
        keyboard.on_text = self.type
        keyboard.on_backspace = self.backspace
        self._refresh()

    def activate(self, name: str) -> None:
        self.active = name
        self._refresh()

    def type(self, text: str) -> None:
        if len(self.values[self.active]) < 40:
            self.values[self.active] += text
        self._refresh()

    def backspace(self) -> None:
        self.values[self.active] = self.values[self.active][:-1]
        self._refresh()

    def _refresh(self) -> None:
        self.ids.operator_id.value = self.values["operator_id"]
        self.ids.password.value = "●" * len(self.values["password"])
        for name in ("operator_id", "password"):
            self.ids[name].active = self.active == name

    def login(self) -> None:
        if self.busy:
            return
        operator_id, password = self.values["operator_id"], self.values["password"]
        if not operator_id or not password:
            self.message_zh, self.message_en = "请输入账号和密码", "Enter your id and password"
            return
        self.busy = True
        self.message_zh, self.message_en = "正在登录…", "Logging in…"
        app = _app()
        in_background(lambda: app.desk.login(operator_id, password), self._answer, "login")

    def _answer(self, result: Any) -> None:
        self.busy = False
        self.values["password"] = ""  # never kept on the screen
        self._refresh()
        if isinstance(result, LoginRefused):
            self.message_zh, self.message_en = result.message.zh, result.message.en
            return
        if isinstance(result, Exception):
            message = message_for(result)
            self.message_zh, self.message_en = message.zh, message.en
            return
        self.values["operator_id"] = ""
        self.message_zh = self.message_en = ""
        _app().operator_logged_in()

    def wipe(self) -> None:
        self.values = {"operator_id": "", "password": ""}
        if "keyboard" in self.ids:
            self._refresh()


class WorkbenchScreen(Screen):  # type: ignore[misc]
    """The operator's day: start an application, resume one, approve another's, reprint."""

    operator_text = StringProperty("")
    bank_text = StringProperty("")
    message = StringProperty("")
    loading = BooleanProperty(False)

    def on_pre_enter(self, *_args: Any) -> None:
        self.show()

    def show(self) -> None:
        app = _app()
        session = app.desk.session
        if session is None:
            return
        self.operator_text = f"经办人 Operator：{session.operator_name}（{session.operator_id}）"
        bank = session.bank
        self.bank_text = (
            f"{bank.name}  统一社会信用代码 {bank.uscc}  金融许可证 {bank.licence_number}"
        )
        self._services(app)
        self.reload()

    def _services(self, app: Any) -> None:
        box = self.ids.services
        box.clear_widgets()
        english = app.theme.language == "en"
        for service in app.shell.bank_services():
            s = service.service
            button = BilingualButton(
                lead=s.title_en if english else s.title_zh,
                second=s.title_zh if english else s.title_en,
                lead_mm=6.5,
                second_mm=4.0,
                size_hint_y=None,
                height=app.theme.mm(20),
            )
            button.service = s.name
            if not service.available:
                button.available, button.disabled = False, True
                button.note = f"{service.reason_zh} {service.reason_en}"
            button.bind(on_release=lambda b: _app().open_service(b.service))
            box.add_widget(button)

    def reload(self) -> None:
        self.loading = True
        self.message = "正在读取业务… Loading the work…"
        in_background(_app().desk.workbench, self._show, "workbench")

    def _show(self, result: Any) -> None:
        self.loading = False
        rows = self.ids.rows
        rows.clear_widgets()
        if isinstance(result, Exception):
            message = message_for(result)
            self.message = f"{message.zh} {message.en}"
            return
        bench: Workbench = result
        self.message = (
            "" if bench.drafts or bench.cases else "近 30 日暂无业务 Nothing in the last 30 days"
        )
        app = _app()
        for draft in bench.drafts:
            zh, en = BUSINESS_NAMES[draft.type]
            withdraw = ("撤回 Withdraw", lambda d=draft: self.withdraw(d))
            if draft.status is m.DraftStatus.OPEN:
                saved = draft.updated[5:16].replace("T", " ")
                text = f"未完成 Unfinished · {draft.summary} · {saved}"
                actions = [("继续办理 Resume", lambda d=draft: app.resume_draft(d)), withdraw]
            elif draft.status is m.DraftStatus.RETURNED:
                text = f"已退回 Returned · {draft.summary} · {draft.reason}"
                actions = []
            elif app.desk.can_approve(draft):
                text = f"待复核 To review · {draft.summary} · 经办 {draft.maker_name}"
                actions = [("复核 Review", lambda d=draft: app.review_draft(d))]
            else:
                text = f"待他人复核 Awaiting another operator · {draft.summary}"
                actions = [withdraw]
            self._row(rows, text, actions, draft.draft_id)
        for case in bench.cases:
            zh, en = BUSINESS_NAMES[case.type]
            status_zh, status_en = STATUS_NAMES[case.status]
            text = (
                f"{case.case_number} · {zh} {en} · {status_zh} {status_en} · {case.created_at[:10]}"
            )
            actions = [("补打回执 Reprint", lambda c=case: self.reprint(c))]
            if case.status is m.CaseStatus.REGISTERED:
                actions.append(("打印登记证明 Proof", lambda c=case: self.proof(c)))
            self._row(rows, text, actions, case.case_number)

    def withdraw(self, draft: m.Draft) -> None:
        """The maker takes back an application not filed yet; the list is read again."""

        def done(result: Any) -> None:
            if isinstance(result, Exception):
                message = message_for(result)
                self.message = f"{message.zh} {message.en}"
                return
            self.reload()

        in_background(lambda: _app().desk.withdraw(draft), done, "withdraw")

    def _row(self, rows: Any, text: str, actions: list[tuple[str, Any]], key: str) -> None:
        theme = _app().theme
        row = BoxLayout(size_hint_y=None, height=theme.mm(16), spacing=theme.mm(2))
        row.key = key
        label = Label(
            text=text,
            color=(0.1, 0.12, 0.16, 1),
            font_size=theme.mm(4.2),
            halign="left",
            valign="middle",
        )
        label.bind(size=lambda w, s: setattr(w, "text_size", s))
        row.add_widget(label)
        for caption, act in actions:
            zh, _, en = caption.partition(" ")
            button = BilingualButton(
                lead=zh, second=en, lead_mm=4.5, second_mm=3.2, size_hint_x=None
            )
            button.width = theme.mm(38)
            button.action = caption
            button.bind(on_release=lambda _b, act=act: act())
            row.add_widget(button)
        rows.add_widget(row)

    def row(self, key: str) -> Any:
        """The row of a draft or case (tests tap its buttons)."""
        return next(r for r in self.ids.rows.children if getattr(r, "key", "") == key)

    def reprint(self, case: m.Case) -> None:
        in_background(lambda: _app().desk.print_acknowledgment(case), self._printed, "reprint")

    def proof(self, case: m.Case) -> None:
        self.message = "正在下载并打印登记证明… Printing the proof…"
        in_background(lambda: _app().desk.print_proof(case), self._printed, "proof")

    def _printed(self, result: Any) -> None:
        if isinstance(result, Exception):
            message = message_for(result)
            self.message = f"{message.zh} {message.en}"
        elif not result.ok and result.message is not None:
            self.message = f"{result.message.zh} {result.message.en}"
        else:
            self.message = "已打印 Printed"

    def logout(self) -> None:
        _app().operator_logout("logout")

    def wipe(self) -> None:
        self.ids.rows.clear_widgets()
        self.operator_text = self.bank_text = self.message = ""


RETURN_REASONS = (
    ("退回：借款人信息或签名有误", "Return: borrower's data or signature"),
    ("退回：合同或附件不全、不清晰", "Return: contract or scans incomplete"),
    ("退回：金额或期限与合同不符", "Return: amount or term not as contracted"),
)


class ApproveScreen(Screen):  # type: ignore[misc]
    """The checker reads another operator's complete application, then approves and files
    it, or sends it back to its maker with one of the reasons (the registry refuses the
    maker's own approval too)."""

    lines = StringProperty("")
    summary = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)
    pages_view: PagesView | None = None  # the documents under review, while they are shown

    def on_kv_post(self, _base: Any) -> None:
        for zh, en in RETURN_REASONS:
            button = BilingualButton(lead=zh, second=en, lead_mm=4.2, second_mm=3)
            button.reason = zh.removeprefix("退回：")
            button.bind(on_release=lambda b: self.send_back(b.reason))
            self.ids.returns.add_widget(button)

    def _ask(self, waiting: str, work: Callable[[], Any], answered: Callable[[Any], None]) -> None:
        """``work`` on a worker while the screen says ``waiting``; its result to ``answered``,
        or the registry's failure said on the screen."""
        if self.busy:
            return
        self.busy = True
        self.message = waiting

        def done(result: Any) -> None:
            self.busy = False
            if isinstance(result, Exception):
                message = message_for(result)
                self.message = f"{message.zh} {message.en}"
                return
            answered(result)

        in_background(work, done, "review")

    def open_pages(self) -> None:
        """The maker's scans and the signatures, fetched from the registry and shown large."""

        def show(pages: Any) -> None:
            self.message = ""
            view = PagesView(pages)
            self.pages_view = view
            view.open()

        desk = _app().desk
        self._ask(
            "正在读取材料… Loading the documents…", lambda: desk.draft_pages(self.draft), show
        )

    def send_back(self, reason: str) -> None:
        def said(_returned: Any) -> None:
            self.message = f"已退回经办人：{reason} Returned to the maker"

        desk = _app().desk
        self._ask("正在退回… Returning…", lambda: desk.return_to_maker(self.draft, reason), said)

    def begin(self, draft: m.Draft) -> None:
        self.draft = draft
        zh, en = BUSINESS_NAMES[draft.type]
        self.summary = f"{zh} {en} · 经办人 Maker：{draft.maker_name}（{draft.maker}）"
        self.lines = "\n".join(f"{v.name}：{v.value}" for v in draft.review)
        self.message = ""

    def approve(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.message = "正在提交… Filing…"
        app = _app()
        in_background(lambda: app.desk.approve(self.draft), self._answer, "approve")

    def _answer(self, result: Any) -> None:
        self.busy = False
        if isinstance(result, LoginRefused):
            self.message = f"{result.message.zh} {result.message.en}"
            return
        if isinstance(result, Exception):
            message = message_for(result)
            self.message = f"{message.zh} {message.en}"
            return
        case: m.Case = result
        self.message = f"已提交，业务编号 {case.case_number} Filed"
        app = _app()
        draft = self.draft  # its maker is the agent on the acknowledgment, the checker named
        in_background(lambda: app.desk.print_acknowledgment(case, draft), lambda _r: None, "ack")

    def back(self) -> None:
        self.wipe()
        _app().show("workbench")

    def wipe(self) -> None:
        self.lines = self.summary = self.message = ""
        view = getattr(self, "pages_view", None)
        if view is not None:  # the borrower's signature and contract are not kept on screen
            view.dismiss()
        self.pages_view = None


class PagesView(ModalView):  # type: ignore[misc]
    """The pages of an application under review, side by side (a PDF is named, not drawn)."""

    def __init__(self, pages: list[tuple[str, bytes]], **kwargs: Any) -> None:
        super().__init__(size_hint=(0.95, 0.92), auto_dismiss=False, **kwargs)
        theme = _app().theme
        box = BoxLayout(orientation="vertical", padding=theme.mm(3), spacing=theme.mm(2))
        strip = BoxLayout(spacing=theme.mm(2))
        self.shown = 0
        for attachment, data in pages:
            if data[:4] == b"%PDF":
                strip.add_widget(Label(text=f"PDF {attachment}", color=(1, 1, 1, 1)))
                continue
            texture = CoreImage(io.BytesIO(data), ext="jpg").texture
            strip.add_widget(Image(texture=texture, fit_mode="contain"))
            self.shown += 1
        box.add_widget(strip)
        close = BilingualButton(lead="关闭", second="Close", size_hint_y=None)
        close.height = theme.mm(16)
        close.bind(on_release=lambda _b: self.dismiss())
        self.ids_close = close
        box.add_widget(close)
        self.add_widget(box)
