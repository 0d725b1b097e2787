"""The home screen: the services, each available or shown disabled with the reason."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen

from kiosk.i18n import both
from kiosk.services import ServiceAvailability, ServiceGroup, home_tiles
from screens.widgets import BilingualButton, BilingualLabel


class HomeScreen(Screen):  # type: ignore[misc]
    """The services as tiles; a group's tile opens its services in the same grid, with a tile
    back to all of them (the next visit starts from all of them again)."""

    app = ObjectProperty(None)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.group = ""  # the group whose services are shown, "" for the home tiles
        self._services: list[ServiceAvailability] = []
        self._language = "zh"

    def show_services(self, services: list[ServiceAvailability], language: str) -> None:
        self._services, self._language = services, language
        grid = self.ids.services
        grid.clear_widgets()
        tiles = home_tiles(services)
        opened = next((t for t in tiles if t.group and t.group.name == self.group), None)
        if opened is None:
            self.group = ""
            for tile in tiles:
                grid.add_widget(self._tile(tile.item, language, tile.group))
            return
        for item in opened.members:
            grid.add_widget(self._tile(item, language))
        back = BilingualButton(
            lead="返回全部业务" if language != "en" else "All services",
            second="All services" if language != "en" else "返回全部业务",
            lead_mm=8.5,
            second_mm=5,
        )
        back.service_name = ""
        back.group_name = "back"
        back.bind(on_release=self._on_group)
        grid.add_widget(back)

    def _tile(
        self, item: ServiceAvailability, language: str, group: ServiceGroup | None = None
    ) -> BilingualButton:
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
        if group is not None:  # a group: its services are one tap further
            tile.service_name = ""
            tile.group_name = group.name
            tile.members = group.members
            tile.bind(on_release=self._on_group)
        else:
            tile.service_name = service.name
            tile.group_name = ""
            tile.bind(on_release=self._on_service)
        return tile

    def _on_group(self, tile: BilingualButton) -> None:
        self.group = "" if tile.group_name == "back" else tile.group_name
        self.show_services(self._services, self._language)

    def on_leave(self, *_args: object) -> None:
        if self.group:  # whoever comes next starts from all the services
            self.group = ""
            self.show_services(self._services, self._language)

    def tile_for(self, service: str) -> tuple[BilingualButton | None, BilingualButton | None]:
        """(The service's tile if shown, else the tile of the group holding it.)"""
        tiles = list(self.ids.services.children)
        own = next((t for t in tiles if t.service_name == service), None)
        group = next((t for t in tiles if service in getattr(t, "members", ())), None)
        return own, group

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
