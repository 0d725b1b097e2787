"""Sizes, colours and the CJK font, with sizes in millimetres of the real screen.

A kiosk's targets must be big enough for a finger whatever the panel: sizes are given in mm and
converted with the configured screen's pixel density, then scaled in large-text mode.
"""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
from pathlib import Path

from kivy.core.text import LabelBase
from kivy.event import EventDispatcher
from kivy.properties import NumericProperty, StringProperty

from kiosk.config import UiSection
from kiosk.documents.fonts import full_font

log = logging.getLogger(__name__)

FONT_NAME = "KioskCJK"

NAVY = (0.05, 0.20, 0.42, 1)
NAVY_DARK = (0.03, 0.13, 0.29, 1)
PAPER = (0.95, 0.96, 0.98, 1)
INK = (0.10, 0.12, 0.16, 1)
MUTED = (0.45, 0.48, 0.53, 1)
WARN = (0.70, 0.12, 0.10, 1)
DISABLED = (0.80, 0.82, 0.85, 1)


def find_cjk_font(configured: str = "") -> str:
    """A font file whose first face is Chinese (not a Japanese-first .ttc)."""
    if configured:
        if not Path(configured).exists():
            raise FileNotFoundError(f"configured font {configured} does not exist")
        return configured
    try:
        return full_font()
    except FileNotFoundError:
        pass
    if shutil.which("fc-match"):
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", "WenQuanYi Micro Hei:lang=zh-cn"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if found and Path(found).exists():
            return found
    raise FileNotFoundError("no Chinese font found: install fonts-wqy-microhei")


class Theme(EventDispatcher):  # type: ignore[misc]
    """Bound from kv as ``app.theme``; changing ``scale`` or ``language`` re-lays the screens."""

    font_name = StringProperty("Roboto")
    scale = NumericProperty(1.0)
    px_per_mm = NumericProperty(4.0)
    language = StringProperty("zh_CN")

    def __init__(self, ui: UiSection, window_width: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.ui = ui
        diagonal_px = math.hypot(ui.width, ui.height)
        native_px_per_mm = diagonal_px / (ui.screen_diagonal_inch * 25.4)
        # The window may be smaller than the panel (tests, previews): keep physical proportions.
        self.px_per_mm = native_px_per_mm * window_width / ui.width
        try:
            path = find_cjk_font(ui.font)
            LabelBase.register(FONT_NAME, path)
            self.font_name = FONT_NAME
        except FileNotFoundError as err:
            log.error("no CJK font: Chinese will not render", extra={"error": str(err)})

    def mm(self, value: float) -> float:
        """Pixels for a physical length (layout: unaffected by large text). In kv, write
        ``X * app.theme.px_per_mm`` instead, so that the rule binds to the property."""
        return float(value * self.px_per_mm)

    def text(self, value_mm: float) -> float:
        """Pixels for a font size in mm, scaled in large-text mode."""
        return float(value_mm * self.px_per_mm * self.scale)

    @property
    def touch_px(self) -> float:
        return self.mm(self.ui.min_touch_mm)
