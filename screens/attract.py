"""The attract screen: what the kiosk offers, and "touch to begin"."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.screenmanager import Screen

from screens.hidden_entry import HiddenEntry


class AttractScreen(HiddenEntry, Screen):  # type: ignore[misc]
    """Any touch starts a session (the app decides what comes next); a long press in the
    top-left corner opens maintenance."""

    def on_short_touch(self) -> None:
        App.get_running_app().begin_session()
