"""Drives the real Kivy app headless: frames, taps on widgets, screenshots, waits."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.sandbox.control import SandboxControl
from screens.headless import HeadlessDriver


class IdleClock:
    """The visits' idle clock (``Shell``'s): the monotonic clock, which a test moves on
    instead of waiting for a timeout to pass."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class UiDriver(HeadlessDriver):
    """The product's headless driver, with screenshots read back as images for checks."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.clock = IdleClock()
        app.shell._clock = self.clock  # the visits' idle clock: tests move it on
        self.registry_template = Path()  # the register as the UI run started
        self._control: SandboxControl | None = None

    def close_app(self) -> None:
        """Stop the app as the product stops it (the visit, cameras, timers, bus
        subscriptions) and take its screens off the window; the window stays for the next."""
        app = self.app
        if app.root is None or app.root.parent is None:
            return  # closed already
        app.leave_maintenance("test")
        app.end_session("test")
        for view in [w for w in self.window.children if hasattr(w, "dismiss")]:
            view.dismiss(animation=False)  # a dialog a failed test left open
        self.frames(2)
        app.dispatch("on_stop")
        self.window.remove_widget(app.root)

    def open_app(self, app: Any) -> None:
        """Build and start a new app on the process's one window (Kivy has one window per
        process), with a fresh idle clock. ``KioskApp()`` made it the running app, the one
        kv's ``app`` names."""
        self.close_app()
        self.app = app
        app.root = app.build()
        app.built = True
        app._app_window = self.window
        self.window.add_widget(app.root)
        app.dispatch("on_start")
        self.clock = IdleClock()
        app.shell._clock = self.clock
        self._control = None
        self.frames(5)

    def sandbox(self) -> SandboxControl:
        """The embedded sandbox's test mode: the payer's phone, the registry's review."""
        if self._control is None:
            sandbox = self.app.kiosk.backend_link.sandbox
            assert sandbox is not None, "the UI tests run on the embedded sandbox"
            self._control = sandbox.control()
        return self._control

    def idle(self, seconds: float) -> None:
        """Nobody touches the screen for ``seconds`` (on the visits' clock), then the app's
        next tick sees it."""
        self.clock.advance(seconds)
        self.frames(1)

    def screenshot(self, path: Path) -> np.ndarray[Any, Any]:
        self.save(path)
        image = cv2.imread(str(path))
        assert image is not None, f"no screenshot at {path}"
        return np.asarray(image)


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
