"""Shown when the kiosk cannot serve anyone: required devices down, nothing available, or
staff took it out of service (then with their message)."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.shell import OutOfService
from screens.hidden_entry import HiddenEntry


class OutOfServiceScreen(HiddenEntry, Screen):  # type: ignore[misc]
    title_zh = StringProperty("")
    title_en = StringProperty("")
    body_zh = StringProperty("")
    body_en = StringProperty("")
    devices_zh = StringProperty("")
    devices_en = StringProperty("")

    def show(self, notice: OutOfService) -> None:
        self.title_zh, self.title_en = notice.title_zh, notice.title_en
        self.body_zh, self.body_en = notice.body_zh, notice.body_en
        self.devices_zh, self.devices_en = notice.detail_zh, notice.detail_en
