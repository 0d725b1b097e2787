"""The attract screen: what the kiosk offers, and "touch to begin"."""

from __future__ import annotations

from kivy.uix.screenmanager import Screen


class AttractScreen(Screen):  # type: ignore[misc]
    """Any touch starts a session (the app decides what comes next)."""

    def on_touch_up(self, touch: object) -> bool:
        from kivy.app import App

        App.get_running_app().begin_session()
        return True
