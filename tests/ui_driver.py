"""Drives the real Kivy app headless: frames, taps on widgets, screenshots, waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np


class UiDriver:
    def __init__(self, app: Any) -> None:
        from kivy.base import EventLoop

        self.app = app
        self.loop = EventLoop
        app._run_prepare()
        self.window = EventLoop.window
        self.taps = 0
        self.frames(5)

    def frames(self, count: int = 3) -> None:
        for _ in range(count):
            self.loop.idle()

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.loop.idle()
            if predicate():
                return True
        return predicate()

    def tap_at(self, x: float, y: float) -> None:
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.taps += 1
        self.frames(3)

    def long_press(self, x: float, y: float, seconds: float) -> None:
        """Hold a finger at (x, y) for ``seconds`` with frames running, then lift it."""
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(x, y)
        touch.touch_down()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.loop.idle()
        touch.touch_up()
        self.taps += 1
        self.frames(3)

    def tap(self, widget: Any) -> None:
        assert not widget.disabled, f"{widget} is disabled"
        x, y = widget.to_window(*widget.center)
        self.tap_at(x, y)

    def screenshot(self, path: Path) -> np.ndarray[Any, Any]:
        self.frames(3)
        self.app.save_screenshot(str(path))
        image = cv2.imread(str(path))
        assert image is not None, f"no screenshot at {path}"
        return np.asarray(image)

    def walk(self, root: Any | None = None) -> Iterator[Any]:
        yield from (root or self.app.root).walk()

    def stop(self) -> None:
        self.app.leave_maintenance("test")
        self.app.end_session("test")  # close dialogs and cameras before the window goes
        self.frames(3)
        self.app.stop()
        self.frames(2)


def render_text(text: str, font_name: str, font_px: float) -> np.ndarray[Any, Any]:
    """The text's glyphs as a grey mask (what a label draws), for matching in a screenshot."""
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(text=text, font_name=font_name, font_size=int(font_px))
    label.refresh()
    texture = label.texture
    rgba = np.frombuffer(texture.pixels, np.uint8).reshape(texture.height, texture.width, 4)
    return np.ascontiguousarray(rgba[:, :, 3])


def best_match(screenshot: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> float:
    """Best normalised correlation of ``mask`` in the screenshot (either flip, either polarity:
    light text on a dark ground correlates positively, dark text on a light ground negatively).
    """
    grey = cv2.cvtColor(screenshot, cv2.COLOR_BGR2GRAY)
    scores = []
    for candidate in (mask, np.flipud(mask)):
        result = cv2.matchTemplate(grey, np.ascontiguousarray(candidate), cv2.TM_CCOEFF_NORMED)
        scores.append(max(float(result.max()), -float(result.min())))
    return max(scores)


def is_blank(image: np.ndarray[Any, Any]) -> bool:
    return float(image.std()) < 3.0 or len(np.unique(image.reshape(-1, 3), axis=0)) < 4
