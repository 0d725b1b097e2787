"""Slow work (devices, the registry, printers) off the UI thread, its answer back on it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock


def in_background(
    work: Callable[[], Any], done: Callable[[Any], None], name: str = "screen-work"
) -> None:
    """Run ``work`` on a worker thread; hand its result — or the exception it raised — to
    ``done`` on the UI thread."""

    def run() -> None:
        try:
            result: Any = work()
        except Exception as err:
            result = err
        Clock.schedule_once(lambda _dt: done(result), 0)

    threading.Thread(target=run, name=name, daemon=True).start()
