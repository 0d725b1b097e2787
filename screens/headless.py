"""Drives the real Kivy app without a screen: frames, taps on widgets, waits, screenshots.

Used by ``kiosk demo`` and by the UI tests (which add image checks on top)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class HeadlessDriver:
    def __init__(self, app: Any) -> None:
        from kivy.base import EventLoop

        self.app = app
        self.loop = EventLoop
        app._run_prepare()
        self.window = EventLoop.window
        self.taps = 0
        self.on_frame: Callable[[], None] | None = None  # e.g. a recorder's screenshots
        self.frames(5)

    def frames(self, count: int = 3) -> None:
        """Run ``count`` frames of the app: its clock, input and layout, but no drawing.

        Nobody looks at a headless window between screenshots, and software GL drawing the
        whole window every frame was about 60% of a UI walk's CPU (llvmpipe's thread, measured
        on the maker-checker walk); ``save`` draws before it photographs."""
        from kivy.clock import Clock
        from kivy.lang import Builder

        loop = self.loop
        for _ in range(count):
            # EventLoop.idle without its last part (on_draw/on_flip when the canvas changed)
            Clock.tick()
            loop.dispatch_input()
            Builder.sync()
            Clock.tick_draw()
            Builder.sync()
            if self.on_frame is not None:
                self.on_frame()

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.frames(1)
            if predicate():
                return True
        return predicate()

    def settle(self, timeout: float = 2.0) -> None:
        """Frames until no animation runs (a dialog fading out still takes touches): a person
        taps what has come to rest."""
        from kivy.animation import Animation

        deadline = time.monotonic() + timeout
        while Animation._instances and time.monotonic() < deadline:
            self.frames(1)

    def tap_at(self, x: float, y: float) -> None:
        from kivy.tests.common import UnitTestTouch

        self.settle()
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.taps += 1
        self.frames(3)

    def long_press(self, x: float, y: float, seconds: float) -> None:
        """Hold a finger at (x, y) for ``seconds`` with frames running, then lift it."""
        from kivy.tests.common import UnitTestTouch

        self.settle()
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.frames(1)
        touch.touch_up()
        self.taps += 1
        self.frames(3)

    def drag(self, points: list[tuple[float, float]]) -> None:
        """One finger stroke through ``points`` (window coordinates): a signature."""
        from kivy.tests.common import UnitTestTouch

        self.settle()
        touch = UnitTestTouch(*points[0])
        touch.touch_down()
        self.frames(1)
        for x, y in points[1:]:
            touch.touch_move(x, y)
            self.frames(1)
        touch.touch_up()
        self.taps += 1
        self.frames(3)

    def tap(self, widget: Any) -> None:
        assert not widget.disabled, f"{widget} is disabled"
        x, y = widget.to_window(*widget.center)
        self.tap_at(x, y)

    def save(self, path: Path) -> Path:
        for _ in range(3):  # let the screen draw (without re-entering on_frame)
            self.loop.idle()  # the whole frame, drawn
        self.app.save_screenshot(str(path))
        return path

    def walk(self, root: Any | None = None) -> Iterator[Any]:
        yield from (root or self.app.root).walk()

    def overflowing(self, root: Any | None = None, slack_px: float = 2.0) -> list[str]:
        """Visible labels (and buttons) whose text does not fit their box: cut off on screen."""
        from kivy.uix.label import Label

        out = []
        for widget in (root or self.app.root).walk():
            if not isinstance(widget, Label) or not widget.text or widget.opacity == 0:
                continue
            if widget.width < 2 or widget.height < 2:  # collapsed on purpose
                continue
            tw, th = widget.texture_size
            if th > widget.height + slack_px or tw > widget.width + slack_px:
                text = widget.text.replace("\n", " ")[:40]
                out.append(f"{text!r} {tw:.0f}x{th:.0f} in {widget.width:.0f}x{widget.height:.0f}")
        return out

    def stop(self) -> None:
        self.app.leave_maintenance("test")
        self.app.end_session("test")  # close dialogs and cameras before the window goes
        self.frames(3)
        self.app.stop()
        self.frames(2)
