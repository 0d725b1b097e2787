"""The one place in ``kiosk`` that starts the Kivy UI. It imports ``screens`` lazily."""

from __future__ import annotations

import logging
import os
import sys

from kiosk.core import Kiosk

log = logging.getLogger(__name__)


def prepare_environment(kiosk: Kiosk) -> bool:
    """Set Kivy's environment before it is imported. Returns True when running headless."""
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and "SDL_VIDEODRIVER" not in os.environ:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        print(
            "kiosk: no display found — running with the offscreen video driver "
            "(nothing is shown; use --screenshot or `kiosk demo` to see the screens)",
            file=sys.stderr,
        )
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    kivy_home = kiosk.config.data_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    return headless and os.environ.get("SDL_VIDEODRIVER") == "offscreen"


def run_ui(kiosk: Kiosk, exit_after: float | None = None, screenshot: str | None = None) -> int:
    prepare_environment(kiosk)
    from screens.app import KioskApp  # the launcher alone reaches up into screens

    app = KioskApp(kiosk, exit_after=exit_after, screenshot=screenshot)
    app.run()
    return int(app.exit_code)  # RESTART_EXIT when staff asked for a restart (systemd restarts)


def run_demo(kiosk: Kiosk, journey: str, out: str, large_text: bool = False) -> dict[str, object]:
    """Walk one scripted journey on the real app, headless (``kiosk demo``)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    prepare_environment(kiosk)
    from pathlib import Path

    from screens.app import KioskApp
    from screens.demo import run_journey

    return run_journey(KioskApp(kiosk), journey, Path(out), large_text)
