"""The real Kivy app, headless: attract → home → language → large text → idle → attract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drivers.base import Role
from kiosk.config import DEFAULT_SERVICES
from tests.ui_driver import UiDriver, best_match, is_blank, render_text

pytestmark = pytest.mark.ui
PROFILES = Path(__file__).parent / "data" / "profiles"


@pytest.fixture
def at_attract(ui: UiDriver) -> UiDriver:
    ui.app.end_session("test")
    ui.frames(3)
    assert ui.app.manager.current == "attract"
    return ui


def home_buttons(ui: UiDriver) -> dict[str, object]:
    ids = ui.app.manager.get_screen("home").ids
    return {"language": ids.language, "large_text": ids.large_text, "exit": ids.exit}


def test_attract_screenshot_shows_chinese(at_attract: UiDriver, tmp_path: Path) -> None:
    ui = at_attract
    shot = ui.screenshot(tmp_path / "attract.png")
    assert not is_blank(shot)
    theme = ui.app.theme
    title = render_text("不动产登记自助服务", theme.font_name, theme.text(16))
    assert best_match(shot, title) > 0.85
    other = render_text("这段文字不在屏幕上", theme.font_name, theme.text(16))
    assert best_match(shot, other) < 0.6  # the check can fail
    # the test app runs on the sandbox and the emulators: a training kiosk, and it says so
    assert ui.app.training
    banner = render_text("培训演示模式：不作实际登记", theme.font_name, theme.mm(6))
    assert best_match(shot, banner) > 0.85


def test_home_language_large_text_and_idle_back_to_attract(
    at_attract: UiDriver, tmp_path: Path
) -> None:
    ui = at_attract
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    assert ui.app.manager.current == "home"
    session = ui.app.shell.session
    assert session is not None

    tiles = list(ui.app.manager.get_screen("home").ids.services.children)
    # the eleven registrations under one tile: thirteen tiles for twenty-three services
    assert len(DEFAULT_SERVICES) == 23 and len(tiles) == 13
    assert all(not t.disabled for t in tiles)
    group = next(t for t in tiles if t.group_name == "registrations")
    ui.tap(group)
    inside = list(ui.app.manager.get_screen("home").ids.services.children)
    assert {t.service_name for t in inside} == {*group.members, ""}  # and the way back
    ui.screenshot(tmp_path / "home_registrations.png")
    ui.tap(next(t for t in inside if t.group_name == "back"))
    tiles = list(ui.app.manager.get_screen("home").ids.services.children)
    assert len(tiles) == 13
    assert any("取号" in t.text for t in tiles)
    shot = ui.screenshot(tmp_path / "home_zh.png")
    assert (
        best_match(
            shot, render_text("请选择要办理的业务", ui.app.theme.font_name, ui.app.theme.text(9))
        )
        > 0.85
    )

    ui.tap(home_buttons(ui)["language"])
    assert ui.app.theme.language == "en"
    tiles = list(ui.app.manager.get_screen("home").ids.services.children)
    queue = next(t for t in tiles if t.service_name == "queue_ticket")
    assert queue.lead == "Queue ticket" and queue.second == "取号"
    ui.screenshot(tmp_path / "home_en.png")

    normal_px = ui.app.theme.text(8.5)
    ui.tap(home_buttons(ui)["large_text"])
    assert ui.app.theme.scale == pytest.approx(1.35)
    assert f"[size={int(normal_px * 1.35)}]Queue ticket" in queue.text
    shot = ui.screenshot(tmp_path / "home_large.png")
    assert not is_blank(shot)

    # No more touches: the countdown appears, then the visit ends and everything resets.
    timing = ui.app.shell.timing
    ui.idle(timing.idle_timeout_s + 0.5)
    assert ui.wait(lambda: ui.app.countdown is not None, 6)
    assert ui.app.countdown.seconds >= 1
    ui.idle(timing.warning_s + 1)
    assert ui.wait(lambda: ui.app.manager.current == "attract", 6)
    assert ui.app.shell.session is None
    assert session.end_reason == "idle" and session.data == {}
    assert ui.app.theme.language == "zh_CN" and ui.app.theme.scale == 1.0
    assert ui.app.countdown is None


def test_continue_in_the_countdown_keeps_the_session(at_attract: UiDriver) -> None:
    ui = at_attract
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    session = ui.app.shell.session
    assert session is not None, ui.app.manager.current
    ui.idle(ui.app.shell.timing.idle_timeout_s + 0.5)
    assert ui.wait(lambda: ui.app.countdown is not None, 6)
    ui.tap(ui.app.countdown.ids.stay)
    assert ui.app.countdown is None
    assert ui.app.shell.session is session and ui.app.manager.current == "home"


def test_touch_targets_are_at_least_15_mm(at_attract: UiDriver) -> None:
    from kivy.uix.button import Button

    ui = at_attract
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    minimum = ui.app.theme.touch_px
    assert minimum == pytest.approx(15 * ui.app.theme.px_per_mm)
    buttons = [w for w in ui.walk() if isinstance(w, Button)]
    assert len(buttons) >= 12
    small = [
        (b.text[:20], b.width, b.height) for b in buttons if b.width < minimum or b.height < minimum
    ]
    assert small == []


def test_a_down_printer_disables_its_tiles_live(at_attract: UiDriver, tmp_path: Path) -> None:
    ui = at_attract
    kiosk = ui.app.kiosk
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    printer = kiosk.harness.emulators[Role.RECEIPT]
    printer.stop()
    try:

        def tile(name: str) -> Any:
            tiles = ui.app.manager.get_screen("home").ids.services.children
            return next(t for t in tiles if t.service_name == name)

        assert ui.wait(lambda: tile("queue_ticket").disabled, 10)
        assert "凭条打印机暂不可用" in tile("queue_ticket").text
        assert not tile("query_certificate").disabled
        ui.screenshot(tmp_path / "home_printer_down.png")
    finally:
        printer.start()
    assert ui.wait(lambda: not tile("queue_ticket").disabled, 10)


def test_out_of_service_when_the_reader_is_down(at_attract: UiDriver, tmp_path: Path) -> None:
    ui = at_attract
    reader = ui.app.kiosk.harness.emulators[Role.IDCARD]
    reader.stop()
    try:
        assert ui.wait(lambda: ui.app.manager.current == "out_of_service", 10)
        screen = ui.app.manager.get_screen("out_of_service")
        assert "身份证阅读器" in screen.devices_zh
        shot = ui.screenshot(tmp_path / "oos.png")
        assert (
            best_match(
                shot,
                render_text("设备故障，暂停服务", ui.app.theme.font_name, ui.app.theme.text(13)),
            )
            > 0.85
        )
        ui.tap_at(ui.window.width / 2, ui.window.height / 2)
        assert ui.app.shell.session is None  # no visit can start
    finally:
        reader.start()
    assert ui.wait(lambda: ui.app.manager.current == "attract", 10)


def test_the_scan_screen_captures_a_still_page_by_itself(
    at_attract: UiDriver, tmp_path: Path
) -> None:
    ui = at_attract
    _scan_a_still_page(ui, tmp_path)


def _scan_a_still_page(ui: UiDriver, tmp_path: Path) -> None:
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    screen = ui.app.open_scan()
    assert ui.app.manager.current == "scan"
    assert ui.wait(lambda: screen.pages >= 1, 20), screen.guidance_en
    assert ui.wait(lambda: len(screen.ids.thumbs.children) >= 1, 5)
    shot = ui.screenshot(tmp_path / "scan.png")
    assert not is_blank(shot)
    theme = ui.app.theme
    assert (
        best_match(shot, render_text("请将材料平放在拍摄区", theme.font_name, 8 * theme.px_per_mm))
        > 0.85
    )
    assert screen.ids.preview.texture is not None
    ui.tap(screen.ids.done)
    assert ui.app.manager.current == "home"
    batch = ui.app.scanned
    assert batch is not None and len(batch.pages) >= 1
    page = batch.pages[0]
    assert page.height / page.width == pytest.approx(297 / 210, rel=0.03)
    assert page.mode == "L"  # enhanced for text: grey, shadows evened out
    assert screen.ids.thumbs.children == [] and screen.ids.preview.texture is None


def test_a_visit_that_times_out_while_scanning_leaves_nothing_behind(at_attract: UiDriver) -> None:
    ui = at_attract
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    screen = ui.app.open_scan()
    assert ui.wait(lambda: screen.pages >= 1, 20)
    ui.app.finish_scan()
    assert ui.app.scanned is not None
    screen = ui.app.open_scan()  # back to scanning, then the person walks away
    session = screen.session
    timing = ui.app.shell.timing
    ui.idle(timing.idle_timeout_s + timing.warning_s + 1)
    assert ui.wait(lambda: ui.app.manager.current == "attract", 15)
    assert screen.session is None and ui.app.scanned is None
    assert screen.ids.thumbs.children == [] and screen.ids.preview.texture is None
    assert session is not None and session._thread is not None
    assert not session._thread.is_alive()  # the camera loop stopped with the visit


def test_each_ui_test_gets_an_app_of_its_own(ui: UiDriver) -> None:
    """What one UI test leaves (a visit in English, large text, a screen's state) is not the
    next test's start: ``ui`` stops the last app as the product stops it and builds a new one
    on the worker's window."""
    from screens.app import KioskApp

    old = ui.app
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    ui.tap(home_buttons(ui)["language"])
    ui.tap(home_buttons(ui)["large_text"])
    assert old.shell.session is not None and old.theme.language == "en"
    old_home = old.manager.get_screen("home")

    ui.open_app(KioskApp(old.kiosk))

    new = ui.app
    assert new is not old and KioskApp.get_running_app() is new
    # the last app was stopped: its visit ended, its timers and subscriptions gone, its
    # screens off the window
    assert old.shell.session is None and old._stopped and old._subscriptions == []
    assert old.root.parent is None and ui.window.children == [new.root]
    # the new one starts as a kiosk starts: attract, Chinese, normal text, screens its own
    assert new.manager.current == "attract" and new.shell.session is None
    assert new.theme.language == "zh_CN" and new.theme.scale == 1.0
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    assert new.manager.current == "home" and new.manager.get_screen("home") is not old_home
    assert old.manager.current == "attract" and old.shell.session is None  # took no touch
