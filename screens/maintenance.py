"""Maintenance screens for staff: PIN keypad, device dashboard, device tests, calibration,
certificate paper, log export, out of service, help-desk QR, restart.

The logic lives in ``kiosk.maintenance_console``; these screens lay it out and run the slow
calls (device tests, prints, exports) on a worker thread, putting results up on the UI thread.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen

from kiosk.documents.certificate_overlay import Calibration
from kiosk.hardware import Role, SelfTestStep, State
from kiosk.maintenance_console import DeviceRow, MaintenanceConsole, TestRun, help_desk_code
from kiosk.paper_ledger import LedgerError
from kiosk.services import ROLE_NAMES
from screens.background import in_background
from screens.textures import to_texture
from screens.widgets import BilingualButton, BilingualLabel

PIN_LENGTH = 8
OUT_OF_SERVICE_MESSAGES = (
    ("设备维护中", "Under maintenance"),
    ("系统升级中，请稍后再来", "System upgrade: please come back later"),
    ("设备故障，请到人工窗口办理", "Device fault: please go to a counter"),
)
STATE_COLOURS = {
    State.READY: "1d7a32",
    State.BUSY: "1d5a9a",
    State.UNKNOWN: "b36b00",
    State.OFFLINE: "b01f1a",
    State.ERROR: "b01f1a",
}


def app() -> Any:
    return App.get_running_app()


# -- the PIN ------------------------------------------------------------------------------


class MaintenancePinScreen(Screen):  # type: ignore[misc]
    """Digits only; the PIN never shows, only a dot per digit."""

    dots = StringProperty("")
    message = StringProperty("")

    def on_pre_enter(self, *_args: Any) -> None:
        self._pin = ""
        self.dots = ""
        access = app().kiosk.maintenance
        self.message = (
            ""
            if access is not None and access.enabled
            else "未设置维护密码 / No maintenance PIN is configured"
        )

    def press(self, key: str) -> None:
        if key == "clear":
            self._pin = ""
        elif key == "ok":
            self._submit()
            return
        elif len(self._pin) < PIN_LENGTH:
            self._pin += key
        self.dots = "●" * len(self._pin)

    def _submit(self) -> None:
        access = app().kiosk.maintenance
        pin, self._pin, self.dots = self._pin, "", ""
        if access is None:
            return
        result = access.enter(pin)
        if result.ok:
            app().show_maintenance()
        elif result.locked_for_s:
            minutes = int(result.locked_for_s / 60 + 0.99)
            self.message = f"错误次数过多，已锁定 {minutes} 分钟 / Locked for {minutes} min"
        elif not access.enabled:
            self.message = "未设置维护密码 / No maintenance PIN is configured"
        else:
            self.message = (
                f"密码错误，还可尝试 {result.attempts_left} 次 / "
                f"Wrong PIN: {result.attempts_left} attempts left"
            )

    def cancel(self) -> None:
        app().leave_maintenance("cancelled")


# -- the dashboard ------------------------------------------------------------------------


class DeviceRowView(BoxLayout):  # type: ignore[misc]
    role_name = StringProperty("")
    summary = StringProperty("")
    todo = StringProperty("")

    def __init__(self, row: DeviceRow, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.role = row.role
        zh, en = ROLE_NAMES[row.role]
        need = "必需 required" if row.required else "可选 optional"
        self.role_name = f"{zh} {en}"
        colour = STATE_COLOURS.get(row.state, "333333")
        details = f" ({', '.join(row.details)})" if row.details else ""
        counters = "  ".join(f"{k} {v}" for k, v in row.counters.items())
        self.summary = (
            f"[color={colour}][b]{row.state.value}[/b]{details}[/color]  {row.driver} · {need}"
            f"\n{counters}"
        )
        self.todo = "\n".join(f"→ {a.zh} / {a.en}" for a in row.actions)

    def run_test(self) -> None:
        app().screens.get("maintenance").run_test(self.role)


class MaintenanceScreen(Screen):  # type: ignore[misc]
    service = StringProperty("")
    busy = StringProperty("")
    console = ObjectProperty(None, allownone=True)

    def on_pre_enter(self, *_args: Any) -> None:
        self.console = MaintenanceConsole(app().kiosk)
        self.refresh()

    def refresh(self) -> None:
        if self.console is None:
            return
        box = self.ids.devices
        box.clear_widgets()
        for row in self.console.rows():
            box.add_widget(DeviceRowView(row))
        out, message = self.console.service_state()
        self.service = (
            f"[color=b01f1a]暂停服务 Out of service[/color]: {message}"
            if out
            else "[color=1d7a32]服务中 In service[/color]"
        )
        blocks = self.console.paper_blocks()
        if blocks:
            self.service += f"\n证书纸待核对 Paper to reconcile: {len(blocks)}"

    # each staff action ------------------------------------------------------------------

    def run_test(self, role: Role) -> TestView:
        view = TestView(role)
        view.open()
        console = self.console

        def step(item: SelfTestStep) -> None:
            Clock.schedule_once(lambda _dt: view.add_step(item), 0)

        def done(result: Any) -> None:
            view.finish(result)
            self.refresh()

        in_background(lambda: console.test_device(role, step), done)
        return view

    def open_calibration(self) -> CalibrationView:
        view = CalibrationView(self.console)
        view.open()
        return view

    def open_paper(self) -> PaperView:
        view = PaperView(self.console)
        view.open()
        return view

    def toggle_service(self) -> ModalView:
        out, _ = self.console.service_state()
        if out:
            self.console.set_out_of_service(False)
            self.refresh()
            done = ResultView("已恢复服务", "Back in service")
            done.open()
            return done
        view = OutOfServiceView(self.console)
        view.open()
        return view

    def export_logs(self) -> ResultView:
        view = ResultView("正在导出日志…", "Exporting the logs…")
        view.open()

        def done(result: Any) -> None:
            if isinstance(result, FileNotFoundError):
                view.show("请插入U盘后重试", "Insert a USB stick and try again", ok=False)
            elif isinstance(result, Exception):
                view.show("导出失败", f"Export failed: {result}", ok=False)
            else:
                view.show(f"已导出到 {result}", f"Exported to {result}")

        in_background(self.console.export_logs, done)
        return view

    def show_diagnosis(self) -> DiagnosisView:
        view = DiagnosisView(self.console)
        view.open()
        return view

    def restart(self) -> None:
        self.console.restart()
        app().restart()

    def leave(self) -> None:
        app().leave_maintenance("done")


# -- dialogs ------------------------------------------------------------------------------


class ResultView(ModalView):  # type: ignore[misc]
    lead = StringProperty("")
    second = StringProperty("")
    ok = ObjectProperty(True)

    def __init__(self, zh: str, en: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show(zh, en)

    def show(self, zh: str, en: str, ok: bool = True) -> None:
        self.lead, self.second, self.ok = zh, en, ok


class TestView(ModalView):  # type: ignore[misc]
    title = StringProperty("")
    steps_text = StringProperty("")
    verdict = StringProperty("")

    def __init__(self, role: Role, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        zh, en = ROLE_NAMES[role]
        self.title = f"{zh}测试 · {en} test"
        self.verdict = "测试中… / Testing…"
        self.steps: list[SelfTestStep] = []
        self.run: TestRun | None = None

    def add_step(self, step: SelfTestStep) -> None:
        self.steps.append(step)
        self.steps_text = "\n".join(
            f"[color={'1d7a32' if s.ok else 'b01f1a'}]{'✔' if s.ok else '✘'}[/color] "
            f"{s.name}  {s.detail}"
            for s in self.steps
        )

    def finish(self, result: Any) -> None:
        if isinstance(result, Exception):
            self.verdict = f"[color=b01f1a]测试未能完成 / The test could not run: {result}[/color]"
            return
        self.run = result
        if result.image is not None:
            self.ids.picture.texture = to_texture(result.image)
        colour, zh, en = ("1d7a32", "通过", "PASS") if result.ok else ("b01f1a", "未通过", "FAIL")
        todo = "".join(f"\n→ {a.zh} / {a.en}" for a in result.actions)
        self.verdict = f"[color={colour}][b]{zh} {en}[/b][/color]{todo}"


class CalibrationView(ModalView):  # type: ignore[misc]
    dx = NumericProperty(0.0)
    dy = NumericProperty(0.0)
    message = StringProperty("")

    def __init__(self, console: MaintenanceConsole, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.console = console
        self.dx, self.dy = console.calibration.dx_mm, console.calibration.dy_mm

    def nudge(self, axis: str, step: float) -> None:
        value = round(getattr(self, axis) + step, 1)
        setattr(self, axis, max(-20.0, min(20.0, value)))

    def print_page(self) -> None:
        self.message = "正在打印校准页… / Printing the calibration page…"
        calibration = Calibration(self.dx, self.dy)

        def done(result: Any) -> None:
            self.message = (
                "已打印，请量出偏移 / Printed: measure the offset"
                if result is True
                else "打印失败，请检查打印机 / Printing failed: check the printer"
            )

        in_background(lambda: self.console.print_calibration_page(calibration), done)

    def save(self) -> None:
        try:
            path = self.console.save_calibration(Calibration(self.dx, self.dy))
        except ValueError as err:
            self.message = f"偏移过大 / {err}"
            return
        except OSError as err:  # the data folder cannot be written: said, not a crash
            self.message = f"[color=b01f1a]未能保存 / Not saved: {err.strerror or err}[/color]"
            return
        self.message = f"已保存 Saved: {path}"


class PaperView(ModalView):  # type: ignore[misc]
    """A batch of numbered certificate paper (prefix letter, first and last number); and the
    ledger's reconciliation with the registry, with the sheets it blocked resolved one by
    one (each is marked spoiled: lost, torn or used by a test)."""

    prefix = StringProperty("A")
    first = StringProperty("")
    last = StringProperty("")
    field = StringProperty("first")
    message = StringProperty("")
    blocked = StringProperty("")  # the first sheet waiting to be resolved, and how many
    busy = BooleanProperty(False)

    def __init__(self, console: MaintenanceConsole, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.console = console
        self.show_blocks()

    def show_blocks(self) -> None:
        blocks = self.console.paper_blocks()
        if not blocks:
            self.blocked = ""
            return
        first = blocks[0]
        self.blocked = (
            f"待核对 {len(blocks)} 张，证书打印已暂停 / {len(blocks)} to resolve, printing paused"
            f"\n{first.serial}: {first.reason}"
        )

    def reconcile(self) -> None:
        self.busy = True
        self.message = "正在与登记中心核对… / Reconciling with the registry…"

        def done(result: Any) -> None:
            self.busy = False
            if isinstance(result, Exception):
                self.message = f"[color=b01f1a]未能核对 / Not reconciled: {result}[/color]"
            elif result:
                self.message = (
                    f"[color=b01f1a]{len(result)} 张不一致 / {len(result)} mismatched[/color]"
                )
            else:
                self.message = "[color=1d7a32]账实相符 / The ledger matches the registry[/color]"
            self.show_blocks()
            app().screens.get("maintenance").refresh()

        in_background(self.console.reconcile_paper, done)

    def resolve_spoiled(self) -> None:
        blocks = self.console.paper_blocks()
        if not blocks or self.busy:
            return
        serial = blocks[0].serial
        self.busy = True

        def done(result: Any) -> None:
            self.busy = False
            if isinstance(result, Exception):
                self.message = f"[color=b01f1a]未处理 / Not resolved: {result}[/color]"
            else:
                self.message = f"[color=1d7a32]{serial} 已作废 / {serial} marked spoiled[/color]"
            self.show_blocks()
            app().screens.get("maintenance").refresh()

        in_background(
            lambda: self.console.resolve_paper(serial, "spoiled", "marked spoiled at the kiosk"),
            done,
        )

    def next_prefix(self) -> None:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        self.prefix = letters[(letters.index(self.prefix) + 1) % len(letters)]

    def press(self, key: str) -> None:
        current = getattr(self, self.field)
        if key == "clear":
            current = ""
        elif len(current) < 10:
            current += key
        setattr(self, self.field, current)

    def load(self) -> None:
        try:
            count = self.console.load_paper(self.prefix + self.first, self.prefix + self.last)
        except LedgerError as err:
            self.message = f"[color=b01f1a]未能装入 / Not loaded: {err}[/color]"
            return
        self.message = f"[color=1d7a32]已装入 {count} 张 / {count} sheets loaded[/color]"
        app().screens.get("maintenance").refresh()


class OutOfServiceView(ModalView):  # type: ignore[misc]
    def __init__(self, console: MaintenanceConsole, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.console = console
        for zh, en in OUT_OF_SERVICE_MESSAGES:
            button = BilingualButton(lead=zh, second=en, lead_mm=6, second_mm=4.5)
            button.bind(on_release=lambda _b, zh=zh, en=en: self.choose(zh, en))
            self.ids.choices.add_widget(button)

    def choose(self, zh: str, en: str) -> None:
        self.console.set_out_of_service(True, f"{zh} / {en}")
        self.dismiss()
        app().screens.get("maintenance").refresh()


class DiagnosisView(ModalView):  # type: ignore[misc]
    """The diagnosis as text and as a QR for the help desk, and printed on request."""

    summary = StringProperty("诊断中… / Diagnosing…")
    message = StringProperty("")

    def __init__(self, console: MaintenanceConsole, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.console = console
        self.diagnosis: Any = None
        self.code = ""
        in_background(console.diagnose, self._show)

    def _show(self, result: Any) -> None:
        if isinstance(result, Exception):
            self.summary = f"诊断失败 / Diagnosis failed: {result}"
            return
        import qrcode

        self.diagnosis = result
        self.code = help_desk_code(result)
        self.summary = result.as_text()
        image = qrcode.make(self.code, border=2).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        rgb = np.asarray(image)[:, :, ::-1]
        self.ids.qr.texture = to_texture(np.ascontiguousarray(rgb))
        self.ids.qr.texture.mag_filter = "nearest"

    def print_it(self) -> None:
        if self.diagnosis is None:
            return
        self.message = "打印中… / Printing…"

        def done(result: Any) -> None:
            self.message = (
                "已打印 / Printed"
                if result is True
                else "打印失败 / Printing failed: check the receipt printer"
            )

        diagnosis = self.diagnosis
        in_background(lambda: self.console.print_diagnosis(diagnosis), done)


__all__ = ["BilingualLabel", "MaintenancePinScreen", "MaintenanceScreen"]
