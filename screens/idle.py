"""The idle countdown: before an idle session ends, the person gets a visible chance to stay."""

from __future__ import annotations

from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView


class IdleCountdown(ModalView):  # type: ignore[misc]
    seconds = NumericProperty(0)
