"""The home screen: the services, each available or shown disabled with the reason."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen

from kiosk.i18n import both
from kiosk.services import ServiceAvailability
from screens.widgets import BilingualButton, BilingualLabel


class HomeScreen(Screen):  # type: ignore[misc]
    app = ObjectProperty(None)

    def show_services(self, services: list[ServiceAvailability], language: str) -> None:
        grid = self.ids.services
        grid.clear_widgets()
        for item in services:
            service = item.service
            zh, en = service.title_zh, service.title_en
            lead, second = (en, zh) if language == "en" else (zh, en)
            note = ""
            if not item.available:
                reason = item.reason_en if language == "en" else item.reason_zh
                alternative = service.alternative_en if language == "en" else service.alternative_zh
                note = f"{reason}\n{alternative}"
            tile = BilingualButton(
                lead=lead,
                second=second,
                note=note,
                available=item.available,
                disabled=not item.available,
                lead_mm=8.5,
                second_mm=5,
            )
            tile.service_name = service.name
            tile.bind(on_release=self._on_service)
            grid.add_widget(tile)

    def _on_service(self, tile: BilingualButton) -> None:
        from kivy.app import App

        App.get_running_app().open_service(tile.service_name)


class NoticeView(ModalView):  # type: ignore[misc]
    """A short bilingual notice with one button to close it."""

    def __init__(self, key: str, language: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        lead, second = both(key, language)
        self.ids.message.lead = lead
        self.ids.message.second = second


__all__ = ["BilingualLabel", "HomeScreen", "NoticeView"]
