"""Maintenance mode in the real Kivy app, headless: the hidden entry, the PIN pad and its
lockout, the dashboard, each device test against healthy and faulty emulators, calibration,
paper, out of service, the help-desk QR, the log export and the idle exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Role, State
from kiosk.documents.certificate_overlay import Calibration
from kiosk.maintenance import LOCK_S, MaintenanceAccess, load_calibration
from kiosk.technicians import hash_pin
from tests.conftest import UI_PIN
from tests.qr import decode_qr
from tests.ui_driver import UiDriver, best_match, is_blank, render_text

pytestmark = pytest.mark.ui


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def at_attract(ui: UiDriver) -> UiDriver:
    ui.app.leave_maintenance("test")
    ui.app.end_session("test")
    ui.frames(3)
    assert ui.app.manager.current == "attract"
    return ui


def open_pin_pad(ui: UiDriver) -> Any:
    ui.long_press(ui.app.theme.mm(5), ui.window.height - ui.app.theme.mm(5), 0.5)
    assert ui.app.manager.current == "maintenance_pin"
    return ui.app.manager.get_screen("maintenance_pin")


def key(screen: Any, label: str) -> Any:
    return next(w for w in screen.walk() if getattr(w, "lead", None) == label)


def type_pin(ui: UiDriver, screen: Any, pin: str) -> None:
    for digit in pin:
        ui.tap(key(screen, digit))
    ui.tap(screen.ids.ok)


def enter_maintenance(ui: UiDriver) -> Any:
    pad = open_pin_pad(ui)
    type_pin(ui, pad, UI_PIN)
    assert ui.app.manager.current == "maintenance"
    return ui.app.manager.get_screen("maintenance")


def row(screen: Any, role: Role) -> Any:
    return next(r for r in screen.ids.devices.children if r.role is role)


def open_view(ui: UiDriver, cls_name: str) -> Any:
    views = [w for w in ui.window.children if type(w).__name__ == cls_name]
    assert views, f"no {cls_name} open"
    return views[0]


def run_test(ui: UiDriver, screen: Any, role: Role) -> Any:
    ui.tap(row(screen, role).ids.test)
    view = open_view(ui, "TestView")
    assert ui.wait(lambda: view.run is not None, 90), view.verdict
    ui.frames(3)
    return view


def close(ui: UiDriver, view: Any) -> None:
    ui.tap(view.ids.close)
    assert ui.wait(lambda: view.parent is None, 3)


# -- entry ---------------------------------------------------------------------------------


def test_a_short_touch_in_the_corner_starts_a_visit_and_a_long_press_opens_the_pin_pad(
    at_attract: UiDriver,
) -> None:
    ui = at_attract
    ui.tap_at(ui.app.theme.mm(5), ui.window.height - ui.app.theme.mm(5))
    assert ui.app.manager.current == "home"  # a citizen touching the corner is served
    ui.app.end_session("test")
    ui.frames(3)
    pad = open_pin_pad(ui)
    assert ui.app.shell.session is None
    ui.tap(pad.ids.cancel)
    assert ui.app.manager.current == "attract"


def test_wrong_pins_lock_the_pad_and_even_the_right_pin_is_refused_until_it_lifts(
    at_attract: UiDriver, tmp_path: Path
) -> None:
    ui = at_attract
    kiosk = ui.app.kiosk
    original = kiosk.maintenance
    clock = FakeClock()
    kiosk.maintenance = MaintenanceAccess(
        {"tech-ui": hash_pin(UI_PIN)}, kiosk.audit_log, 30.0, clock=clock
    )
    try:
        pad = open_pin_pad(ui)
        for left in (4, 3, 2, 1):
            type_pin(ui, pad, "1111")
            assert f"还可尝试 {left} 次" in pad.message and f"{left} attempts left" in pad.message
        assert pad.dots == ""  # a refused PIN is cleared, never shown
        type_pin(ui, pad, "1111")
        assert "已锁定 5 分钟" in pad.message and "Locked for 5 min" in pad.message
        shot = ui.screenshot(tmp_path / "pin_locked.png")
        theme = ui.app.theme
        assert best_match(shot, render_text("维护登录", theme.font_name, theme.text(8))) > 0.85
        type_pin(ui, pad, UI_PIN)
        assert ui.app.manager.current == "maintenance_pin" and "已锁定" in pad.message
        clock.now += LOCK_S + 1
        type_pin(ui, pad, UI_PIN)
        assert ui.app.manager.current == "maintenance"
        outcomes = [r.outcome for r in kiosk.audit_log.records("maintenance.enter")][-7:]
        assert outcomes == ["denied"] * 4 + ["locked_out", "locked", "ok"]
    finally:
        ui.app.leave_maintenance("test")
        kiosk.maintenance = original


# -- the dashboard and device tests ----------------------------------------------------------


def test_the_dashboard_lists_every_device_with_state_and_counters(
    at_attract: UiDriver, tmp_path: Path
) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    rows = {r.role: r for r in screen.ids.devices.children}
    assert set(rows) == set(Role)
    assert "ready" in rows[Role.RECEIPT].summary
    assert "pages_printed" in rows[Role.RECEIPT].summary
    assert "cards_read" in rows[Role.IDCARD].summary
    assert "paper_left" in rows[Role.CERTIFICATE].summary
    shot = ui.screenshot(tmp_path / "dashboard.png")
    assert not is_blank(shot)
    theme = ui.app.theme
    assert (
        best_match(shot, render_text("导出日志到U盘", theme.font_name, 5.5 * theme.px_per_mm))
        > 0.85
    )


def test_a_fault_shows_its_recommended_action_on_the_dashboard_and_in_the_test(
    at_attract: UiDriver, tmp_path: Path
) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    printer.conditions.paper_out = True
    try:
        assert ui.wait(lambda: "paper_out" in row(screen, Role.RECEIPT).summary, 10)
        assert "补充纸张 / Refill the paper" in row(screen, Role.RECEIPT).todo
        printed_before = len(printer.printed())
        view = run_test(ui, screen, Role.RECEIPT)
        assert not view.run.ok
        assert "未通过 FAIL" in view.verdict and "补充纸张" in view.verdict
        assert len(printer.printed()) == printed_before  # nothing sent to an empty printer
        ui.screenshot(tmp_path / "receipt_test_failed.png")
        close(ui, view)
    finally:
        printer.conditions.paper_out = False
    assert ui.wait(lambda: "paper_out" not in row(screen, Role.RECEIPT).summary, 10)
    faults = ui.app.kiosk.metrics.faults[Role.RECEIPT]
    assert faults >= 1 and f"faults {faults}" in row(screen, Role.RECEIPT).summary


def test_the_receipt_test_prints_a_test_page(at_attract: UiDriver) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    printer.clear()
    printed = ui.app.kiosk.metrics.pages[Role.RECEIPT]
    view = run_test(ui, screen, Role.RECEIPT)
    assert view.run.ok, view.steps_text
    assert [s.name for s in view.run.steps][-1] == "print_test_page"
    receipt = printer.receipts()[-1]
    assert "打印测试 Test print" in receipt.text and receipt.cuts == 1
    close(ui, view)
    # the dashboard's counter moved by the one page (the test refreshes the dashboard)
    assert ui.app.kiosk.metrics.pages[Role.RECEIPT] == printed + 1
    assert f"pages_printed {printed + 1}" in row(screen, Role.RECEIPT).summary


def test_the_certificate_printer_test_and_a_jam(at_attract: UiDriver) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    emulator = ui.app.kiosk.harness.emulators[Role.CERTIFICATE]
    before = set(emulator.out.glob("*.pdf"))
    view = run_test(ui, screen, Role.CERTIFICATE)
    assert view.run.ok, view.steps_text
    assert ui.wait(lambda: len(set(emulator.out.glob("*.pdf")) - before) == 1, 20)
    close(ui, view)
    emulator.set_fault("media-jam-error")
    try:
        view = run_test(ui, screen, Role.CERTIFICATE)
        assert not view.run.ok
        assert "卡纸" in view.steps_text or "jam" in view.steps_text.lower()
        close(ui, view)
    finally:
        emulator.clear_fault()


def test_the_camera_test_boxes_the_face(at_attract: UiDriver, tmp_path: Path) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    view = run_test(ui, screen, Role.CAMERA)
    assert view.run.ok, view.steps_text
    assert [s.name for s in view.run.steps][-2:] == ["capture", "face"]
    image = view.run.image
    green = (image[:, :, 1] == 200) & (image[:, :, 0] == 0) & (image[:, :, 2] == 0)
    assert green.sum() > 400  # the drawn box
    assert view.ids.picture.texture is not None
    shot = ui.screenshot(tmp_path / "camera_test.png")
    screen_green = (shot[:, :, 1] > 170) & (shot[:, :, 0] < 40) & (shot[:, :, 2] < 40)
    assert screen_green.sum() > 100  # and the box is on screen
    close(ui, view)


def test_the_camera_test_fails_with_the_camera_gone(at_attract: UiDriver) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    kiosk = ui.app.kiosk
    emulator = kiosk.harness.emulators[Role.CAMERA]
    # the camera is unplugged: its source is gone and the open capture fails (a USB camera's
    # read fails the same way); the supervisor cannot open it again
    emulator.stop()
    kiosk.device_manager.submit(Role.CAMERA, lambda device: device.close()).result(5)
    try:
        assert ui.wait(lambda: not kiosk.device_manager.statuses()[Role.CAMERA].usable, 15)
        view = run_test(ui, screen, Role.CAMERA)
        assert not view.run.ok and view.run.image is None
        assert "检查设备电源和连接线" in view.verdict or "重新插拔" in view.verdict
        close(ui, view)
    finally:
        emulator.start()
    assert kiosk.device_manager.wait_until(lambda s: s[Role.CAMERA].state is State.READY, 15)


def test_the_scanner_and_reader_tests(at_attract: UiDriver) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    view = run_test(ui, screen, Role.SCANNER)
    assert view.run.ok, view.steps_text
    assert view.run.image is not None and view.run.image.shape[0] > 500
    close(ui, view)
    view = run_test(ui, screen, Role.IDCARD)
    assert view.run.ok, view.steps_text
    read = next(s for s in view.run.steps if s.name == "read_card")
    assert "*" in read.detail and len(read.detail) == 18  # masked: staff see a read, not who
    close(ui, view)
    tests = [r.outcome for r in ui.app.kiosk.audit_log.records("device.test")]
    assert tests[-2:] == ["pass", "pass"]


# -- calibration, paper, out of service ------------------------------------------------------


def test_calibration_is_printed_nudged_and_saved(at_attract: UiDriver) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    kiosk = ui.app.kiosk
    ui.tap(screen.ids.calibration)
    view = open_view(ui, "CalibrationView")
    emulator = kiosk.harness.emulators[Role.CERTIFICATE]
    before = set(emulator.out.glob("*.pdf"))
    ui.tap(view.ids.print_page)
    assert ui.wait(lambda: "已打印" in view.message, 30), view.message
    assert ui.wait(lambda: len(set(emulator.out.glob("*.pdf")) - before) == 1, 20)
    for _ in range(3):
        ui.tap(view.ids.dx_plus)
    ui.tap(view.ids.dy_minus)
    ui.tap(view.ids.save)
    assert "已保存" in view.message
    path = Path(view.message.split(": ", 1)[1])
    assert load_calibration(path) == Calibration(1.5, -0.5)
    assert kiosk.print_service.calibration == Calibration(1.5, -0.5)  # used from now on
    close(ui, view)
    kiosk.print_service.calibration = Calibration()
    path.unlink()


def test_a_calibration_that_cannot_be_written_is_said_not_raised(
    at_attract: UiDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    ui.tap(screen.ids.calibration)
    view = open_view(ui, "CalibrationView")

    def read_only(_calibration: Calibration) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(view.console, "save_calibration", read_only)
    ui.tap(view.ids.dx_plus)
    ui.tap(view.ids.save)
    assert "未能保存" in view.message and "Permission denied" in view.message
    assert ui.app.kiosk.print_service.calibration == Calibration()  # unchanged
    close(ui, view)


def test_loading_a_batch_of_certificate_paper(at_attract: UiDriver) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    ui.tap(screen.ids.paper)
    view = open_view(ui, "PaperView")
    ui.tap(view.ids.prefix)  # A → B
    for digit in "0000901":
        ui.tap(key(view, digit))
    ui.tap(view.ids.last)
    for digit in "0000910":
        ui.tap(key(view, digit))
    ui.tap(view.ids.load)
    assert "已装入 10 张" in view.message, view.message
    states = ui.app.kiosk.print_service.ledger.states()
    assert {s for s in states if s.startswith("B")} == {f"B{n:07d}" for n in range(901, 911)}
    ui.tap(view.ids.load)  # the same batch twice is refused
    assert "未能装入" in view.message
    close(ui, view)
    assert "paper_left" in row(screen, Role.CERTIFICATE).summary


def test_staff_reconcile_the_paper_and_resolve_what_it_blocked(
    at_attract: UiDriver, tmp_path: Path
) -> None:
    ui = at_attract
    ledger = ui.app.kiosk.print_service.ledger
    ledger.load_batch("R0000001", "R0000003", "staff01")
    ledger.record("R0000002", "spoiled")  # torn by hand, R0000001 gone: the registry knows neither
    try:
        screen = enter_maintenance(ui)
        ui.tap(screen.ids.paper)
        view = open_view(ui, "PaperView")
        assert view.ids.resolve.disabled  # nothing blocked yet
        ui.tap(view.ids.reconcile)
        assert ui.wait(lambda: not view.busy and "不一致" in view.message, 20), view.message
        assert "printing paused" in view.blocked and not view.ids.resolve.disabled
        ui.frames(2)
        ui.screenshot(tmp_path / "paper.png")
        assert view.ids.blocked.text.startswith("待核对")
        for _ in range(10):  # each blocked sheet, marked spoiled in turn
            if not view.blocked:
                break
            ui.tap(view.ids.resolve)
            assert ui.wait(lambda: not view.busy, 20), view.message
            assert "已作废" in view.message, view.message
        assert not view.blocked and ledger.blocked() == []
        assert {"R0000001", "R0000002"} <= {
            r.fields["serial"] for r in ui.app.kiosk.audit_log.records("paper.resolve")
        }
        close(ui, view)
    finally:  # the worker's kiosk prints certificates in other tests
        for block in ledger.blocked():
            ledger.resolve(block.serial, "spoiled", "test", "cleanup")


def test_out_of_service_with_a_message_and_back(at_attract: UiDriver, tmp_path: Path) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    ui.tap(screen.ids.toggle_service)
    view = open_view(ui, "OutOfServiceView")
    choice = next(w for w in view.ids.choices.children if w.lead == "系统升级中，请稍后再来")
    ui.tap(choice)
    assert "Out of service" in screen.service
    ui.tap(screen.ids.leave)
    assert ui.app.manager.current == "out_of_service"
    oos = ui.app.manager.get_screen("out_of_service")
    assert "系统升级中" in oos.devices_zh
    shot = ui.screenshot(tmp_path / "oos_by_staff.png")
    theme = ui.app.theme
    assert (
        best_match(
            shot,
            render_text(
                "系统升级中，请稍后再来 / System upgrade: please come back later",
                theme.font_name,
                theme.text(6),
            ),
        )
        > 0.85
    )
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    assert ui.app.shell.session is None  # nobody can start a visit
    screen = enter_maintenance(ui)  # the hidden entry works on this screen too
    ui.tap(screen.ids.toggle_service)
    view = open_view(ui, "ResultView")
    assert "In service" in screen.service
    close(ui, view)
    ui.tap(screen.ids.leave)
    assert ui.app.manager.current == "attract"
    switches = [r.outcome for r in ui.app.kiosk.audit_log.records("service.switch")]
    assert switches[-2:] == ["out_of_service", "in_service"]


# -- help desk, logs, idle ---------------------------------------------------------------------


def test_the_diagnosis_shows_a_help_desk_qr_and_prints(
    at_attract: UiDriver, tmp_path: Path
) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    ui.tap(screen.ids.diagnosis)
    view = open_view(ui, "DiagnosisView")
    assert ui.wait(lambda: view.code != "", 30)
    shot = ui.screenshot(tmp_path / "diagnosis.png")
    code = decode_qr(shot)
    assert code == view.code and code.startswith("DJK1|KIOSK-SIM-0001|")
    assert "receipt:ok:ready" in code and "registry:up" in code
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    printer.clear()
    ui.tap(view.ids.print_it)
    assert ui.wait(lambda: view.message == "已打印 / Printed", 30), view.message
    receipt = printer.receipts()[-1]
    assert "设备诊断" in receipt.text and receipt.qr_codes == [code]
    close(ui, view)


def test_logs_are_exported_to_the_usb_stick(at_attract: UiDriver) -> None:
    ui = at_attract
    kiosk = ui.app.kiosk
    usb = Path(kiosk.config.maintenance.export_dir)
    screen = enter_maintenance(ui)
    ui.tap(screen.ids.export)
    view = open_view(ui, "ResultView")
    assert ui.wait(lambda: "U盘" in view.lead, 30)
    assert not view.ok
    close(ui, view)
    usb.mkdir()
    logs = kiosk.config.data_dir / "logs"
    logs.mkdir(exist_ok=True)
    (logs / "kiosk.log").write_text('{"msg": "kiosk started"}\n')
    ui.tap(screen.ids.export)
    view = open_view(ui, "ResultView")
    assert ui.wait(lambda: "已导出" in view.lead, 30), view.second
    (folder,) = usb.iterdir()
    names = {p.name for p in folder.iterdir()}
    assert {"kiosk.log", "diag.json", "metrics.txt", "audit-verify.txt", "VERSION"} <= names
    assert json.loads((folder / "diag.json").read_text())["kiosk"] == "KIOSK-SIM-0001"
    assert (folder / "audit-verify.txt").read_text() == "audit chain intact\n"
    ui.tap(view.ids.close)


def test_maintenance_ends_by_itself_when_left_alone(at_attract: UiDriver) -> None:
    ui = at_attract
    enter_maintenance(ui)
    access = ui.app.kiosk.maintenance
    access.idle_s = 0.5
    try:
        assert ui.wait(lambda: ui.app.manager.current == "attract", 5)
        assert not access.active
        assert ui.app.kiosk.audit_log.records("maintenance.exit")[-1].outcome == "idle"
    finally:
        access.idle_s = 30.0


def test_restart_is_audited_and_asks_systemd_for_a_new_process(
    at_attract: UiDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    ui = at_attract
    screen = enter_maintenance(ui)
    stopped: list[bool] = []
    monkeypatch.setattr(ui.app, "stop", lambda *a: stopped.append(True))
    ui.tap(screen.ids.restart)
    assert stopped == [True] and ui.app.exit_code == 75
    assert ui.app.kiosk.audit_log.records("kiosk.restart")[-1].outcome == "requested"
    ui.app.exit_code = 0
