"""The on-screen keyboard of the form step: a digit pad (a phone number), letters and digits (an
authorization code), or pinyin with a candidate bar (an address, a name). Keys are big enough
for a finger; the keyboard hands text to ``on_text`` and deletions to ``on_backspace``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.flows.forms import Keyboard
from kiosk.ime.pinyin import Candidate, Composer
from screens.widgets import BilingualButton

LETTER_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM")
DIGIT_ROWS = ("123", "456", "789", "0")
TEXT_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl#", "zxcvbnm@._")
CANDIDATES_SHOWN = 7


class KeyButton(BilingualButton):
    key = StringProperty("")


class OnScreenKeyboard(BoxLayout):  # type: ignore[misc]
    mode = StringProperty(Keyboard.NONE.value)
    composing = StringProperty("")  # the pinyin letters typed so far

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="vertical", **kwargs)
        self.on_text: Callable[[str], None] = lambda _text: None
        self.on_backspace: Callable[[], None] = lambda: None
        self.composer = Composer()
        self._page = 0
        self.upper = False  # the text keyboard's shift
        self.bar = BoxLayout(size_hint_y=None)
        self.keys = BoxLayout(orientation="vertical")
        self.add_widget(self.bar)
        self.add_widget(self.keys)
        self.bind(mode=lambda *_a: self._build())
        self._build()

    # -- layout ---------------------------------------------------------------------------

    def _mm(self, value: float) -> float:
        return float(App.get_running_app().theme.mm(value))

    def _key(self, label: str, key: str, fill: Any = None, small: bool = False) -> KeyButton:
        button = KeyButton(lead=label, second="", lead_mm=4.8 if small else 6.5, key=key)
        if fill is not None:
            button.fill = fill
        button.bind(on_release=lambda b: self.press(b.key))
        return button

    def _build(self) -> None:
        from screens import theme

        self.keys.clear_widgets()
        self.bar.clear_widgets()
        self.composer.clear()
        self.composing = ""
        mode = Keyboard(self.mode)
        spacing = self._mm(1.5)
        self.keys.spacing = spacing
        self.bar.height = self._mm(15) if mode is Keyboard.PINYIN else 0
        self.bar.spacing = spacing
        self.bar.opacity = 1 if mode is Keyboard.PINYIN else 0
        if mode is Keyboard.NONE:
            return
        rows = {Keyboard.DIGITS: DIGIT_ROWS, Keyboard.TEXT: TEXT_ROWS}.get(mode, LETTER_ROWS)
        for index, row in enumerate(rows):
            line = BoxLayout(spacing=spacing)
            keys = row.replace("-", "") if mode is Keyboard.PINYIN else row
            if mode is Keyboard.TEXT and self.upper:
                keys = keys.upper()
            if mode is Keyboard.TEXT and index == len(rows) - 1:
                shift = self._key("⇧" if not self.upper else "abc", "shift", theme.NAVY_DARK)
                shift.second, shift.second_mm = "Shift", 3.5
                line.add_widget(shift)
            for char in keys:
                line.add_widget(self._key(char.lower() if mode is Keyboard.PINYIN else char, char))
            if index == len(rows) - 1:
                delete = self._key("删除", "backspace", theme.NAVY_DARK, small=True)
                delete.second, delete.second_mm = "Delete", 3.5
                line.add_widget(delete)
            self.keys.add_widget(line)
        if mode is Keyboard.PINYIN:
            self._candidates()

    def _candidates(self) -> None:
        from screens import theme

        self.bar.clear_widgets()
        letters = self.composer.letters
        self.composing = letters
        options = self.composer.candidates if letters else []
        start = self._page * CANDIDATES_SHOWN
        shown = options[start : start + CANDIDATES_SHOWN]
        hint = KeyButton(
            lead=letters or "拼音输入", second="" if letters else "pinyin", lead_mm=5, second_mm=3.5
        )
        hint.fill = theme.MUTED
        hint.size_hint_x = 1.6
        hint.disabled = True
        self.bar.add_widget(hint)
        for candidate in shown:
            button = KeyButton(lead=candidate.text, second="", lead_mm=6.5)
            button.candidate = candidate
            button.fill = (0.16, 0.42, 0.28, 1)
            button.size_hint_x = max(1.0, len(candidate.text) * 0.8)
            button.bind(on_release=lambda b: self.pick(b.candidate))
            self.bar.add_widget(button)
        more = KeyButton(lead="更多 ›", second="", lead_mm=4.8, key="more")
        more.disabled = len(options) <= start + CANDIDATES_SHOWN and self._page == 0
        more.available = not more.disabled
        more.bind(on_release=lambda _b: self.more(len(options)))
        self.bar.add_widget(more)

    # -- keys -----------------------------------------------------------------------------

    def press(self, key: str) -> None:
        mode = Keyboard(self.mode)
        if key == "shift":
            self.upper = not self.upper
            self._build()
            return
        if key == "backspace":
            if mode is Keyboard.PINYIN and self.composer.backspace():
                self._page = 0
                self._candidates()
            else:
                self.on_backspace()
            return
        if mode is Keyboard.PINYIN and key.isalpha():
            self.composer.type(key)
            self._page = 0
            self._candidates()
            return
        self.on_text(key)

    def pick(self, candidate: Candidate) -> None:
        self.on_text(self.composer.pick(candidate))
        self._page = 0
        self._candidates()

    def more(self, total: int) -> None:
        self._page = self._page + 1 if (self._page + 1) * CANDIDATES_SHOWN < total else 0
        self._candidates()

    def candidate_buttons(self) -> list[Any]:
        """The candidate buttons in the bar, first to last (tests tap them)."""
        return [w for w in reversed(self.bar.children) if hasattr(w, "candidate")]

    def key_button(self, key: str) -> Any:
        return next(w for w in self.keys.walk() if getattr(w, "key", None) == key)
