"""Shown when the kiosk cannot serve anyone: required devices down, or nothing available."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen


class OutOfServiceScreen(Screen):  # type: ignore[misc]
    devices_zh = StringProperty("")
    devices_en = StringProperty("")
