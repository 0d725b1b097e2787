"""The hidden way into maintenance: hold the top-left corner for a few seconds.

Citizens touch the corner by chance and let go at once; only a held press opens the PIN pad.
Available on the attract and out-of-service screens (the latter is when staff need it most),
and at a bank on the operator login (the screen a bank kiosk rests on).
"""

from __future__ import annotations

import time
from typing import Any

from kivy.app import App

CORNER_MM = 25.0


class HiddenEntry:
    """Mixed into a Screen. ``on_short_touch`` is what an ordinary touch does there.

    ``passes_touches``: the screen has its own buttons and fields (the operator login at a
    bank), so every touch also goes on to them; its corner must hold none."""

    passes_touches = False

    def on_touch_down(self, touch: Any) -> bool:
        app = App.get_running_app()
        corner = app.theme.mm(CORNER_MM)
        touch.ud[id(self)] = True  # a touch that went down elsewhere does nothing here
        if touch.x <= corner and touch.y >= app.window.height - corner:
            touch.ud["corner_down"] = time.monotonic()
        if self.passes_touches:
            return bool(super().on_touch_down(touch))  # type: ignore[misc]
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if not touch.ud.get(id(self)):
            return False
        app = App.get_running_app()
        started = touch.ud.get("corner_down")
        held = time.monotonic() - started if started is not None else 0.0
        if started is not None and held >= app.kiosk.config.maintenance.long_press_s:
            app.open_maintenance_pin()
        elif self.passes_touches:
            return bool(super().on_touch_up(touch))  # type: ignore[misc]
        else:
            self.on_short_touch()
        return True

    def on_short_touch(self) -> None:
        pass
