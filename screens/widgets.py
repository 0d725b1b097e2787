"""Widgets shared by the screens: bilingual labels and buttons sized in millimetres."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.label import Label


def bilingual_markup(lead: str, second: str, lead_px: float, second_px: float) -> str:
    """Lead text big, the other language under it, smaller. Escapes markup characters."""

    def esc(value: str) -> str:
        return value.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")

    if not second:
        return f"[size={int(lead_px)}]{esc(lead)}[/size]"
    return f"[size={int(lead_px)}]{esc(lead)}[/size]\n[size={int(second_px)}]{esc(second)}[/size]"


class BilingualLabel(Label):  # type: ignore[misc]
    lead = StringProperty("")
    second = StringProperty("")
    lead_mm = NumericProperty(8.0)
    second_mm = NumericProperty(5.0)


class BilingualButton(Button):  # type: ignore[misc]
    lead = StringProperty("")
    second = StringProperty("")
    lead_mm = NumericProperty(8.0)
    second_mm = NumericProperty(5.0)
    note = StringProperty("")  # e.g. why a service is unavailable
    fill = ListProperty([0.05, 0.20, 0.42, 1])
    available = BooleanProperty(True)
