"""Shown when the kiosk cannot serve anyone: required devices down, nothing available, or
staff took it out of service (then with their message)."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from screens.hidden_entry import HiddenEntry


class OutOfServiceScreen(HiddenEntry, Screen):  # type: ignore[misc]
    devices_zh = StringProperty("")
    devices_en = StringProperty("")
