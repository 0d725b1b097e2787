"""The step screens of an application: the form (known values read-only, the rest typed on the
screen's keyboard), the review of everything that will be submitted with the legal statement,
and the finger signature that covers the whole sitting."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from kivy.graphics import Color, Line
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from kiosk.flows import forms
from kiosk.flows.runner import SIGN_TEXTS, StepView
from screens.steps import StepScreen

STATEMENT_ZH = (
    "本人承诺：所填写的申请信息和提交的材料真实、合法、有效，复印件与原件一致；"
    "如有不实，本人愿承担相应的法律责任。"
)
STATEMENT_EN = (
    "I declare that what I entered and the documents I submit are true, lawful and complete, "
    "and that copies match the originals; I bear the legal responsibility if they are not."
)


class FieldBox(Button):  # type: ignore[misc]
    """One field: its label, its value (or what to do), and its problem."""

    field_name = StringProperty("")
    label_zh = StringProperty("")
    label_en = StringProperty("")
    value = StringProperty("")
    note_zh = StringProperty("")
    note_en = StringProperty("")
    active = BooleanProperty(False)
    editable = BooleanProperty(True)
    problem = BooleanProperty(False)


class FormScreen(StepScreen):
    """Few fields; the kiosk fills what it knows (read-only), the keyboard types the rest."""

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        assert view.form is not None
        self.fields = [f.field for f in view.form.fields]
        self.editable = {f.field.name: f.editable for f in view.form.fields}
        self.values = dict(view.form.values)
        box = self.ids.fields
        box.clear_widgets()
        # a bank's loan form has ten fields: two columns keep them all in sight
        box.cols = 2 if len(self.fields) > 5 else 1
        self.boxes: dict[str, FieldBox] = {}
        for field in self.fields:
            widget = FieldBox(
                field_name=field.name,
                label_zh=field.label_zh,
                label_en=field.label_en,
                editable=self.editable[field.name],
            )
            widget.bind(on_release=lambda w: self.activate(w.field_name))
            box.add_widget(widget)
            self.boxes[field.name] = widget
        keyboard = self.ids.keyboard
        keyboard.on_text = self.type
        keyboard.on_backspace = self.backspace
        first = next(
            (
                f.name
                for f in self.fields
                if self.editable[f.name] and f.keyboard is not forms.Keyboard.CHOICE
            ),
            "",
        )
        self.active = ""
        self.activate(first)
        self._refresh()

    def activate(self, name: str) -> None:
        field = next((f for f in self.fields if f.name == name), None)
        if field is None or not self.editable.get(name, False):
            return
        if field.keyboard is forms.Keyboard.CHOICE:  # a tap takes the next option
            options = field.options
            current = self.values.get(name, options[0])
            at = options.index(current) if current in options else -1
            self.values[name] = options[(at + 1) % len(options)]
            self._refresh()
            return
        self.active = name
        for key, widget in self.boxes.items():
            widget.active = key == name
        self.ids.keyboard.mode = field.keyboard.value

    def _refresh(self, problems: dict[str, tuple[str, str]] | None = None) -> None:
        for field in self.fields:
            widget = self.boxes[field.name]
            widget.value = self.values.get(field.name, "")
            problem = (problems or {}).get(field.name)
            widget.problem = problem is not None
            if problem:
                widget.note_zh, widget.note_en = problem
            elif widget.value == forms.NOT_APPLICABLE:
                widget.note_zh, widget.note_en = "不适用", "does not apply"
            elif not widget.editable:
                widget.note_zh, widget.note_en = "已自动填写", "filled in for you"
            elif field.keyboard is forms.Keyboard.CHOICE:
                widget.note_zh, widget.note_en = "点击切换选项", "tap to change"
            elif not widget.value:
                widget.note_zh, widget.note_en = "请点击并输入", "tap and type"
            else:
                widget.note_zh = widget.note_en = ""

    def type(self, text: str) -> None:
        field = next((f for f in self.fields if f.name == self.active), None)
        if field is None:
            return
        value = self.values.get(field.name, "")
        if len(value) + len(text) <= field.max_len:
            self.values[field.name] = value + text
        self._refresh()

    def backspace(self) -> None:
        if self.active:
            self.values[self.active] = self.values.get(self.active, "")[:-1]
            self._refresh()

    def clear_field(self) -> None:
        if self.active:
            self.values[self.active] = ""
            self.ids.keyboard.composer.clear()
            self._refresh()

    def wipe(self) -> None:
        """The visit ended: no typed value stays on the screen."""
        self.values = {}
        self.ids.fields.clear_widgets()
        self.boxes = {}
        self.ids.keyboard.composer.clear()

    def next(self) -> None:
        problems = self.flow.submit_form(self.values)
        if problems:
            self._refresh(problems)
            self.activate(next(iter(problems)))


class ReviewScreen(StepScreen):
    """Everything that will be submitted, and the statement the signature makes."""

    lines = StringProperty("")
    statement_zh = StringProperty(STATEMENT_ZH)
    statement_en = StringProperty(STATEMENT_EN)

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        english = flow.app.theme.language == "en"
        self.lines = "\n".join(f"{en if english else zh}：{value}" for zh, en, value in view.review)

    def confirm(self) -> None:
        self.flow.next()

    def wipe(self) -> None:
        self.lines = ""

    def change(self) -> None:
        self.flow.change()


class SignaturePad(Widget):  # type: ignore[misc]
    """A finger signature: strokes drawn as they are made, kept as points for the image."""

    ink = NumericProperty(0.0)  # how much was written, in pixels

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.strokes: list[list[tuple[float, float]]] = []

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        self.strokes.append([self._local(touch.pos)])
        with self.canvas:
            Color(0.05, 0.1, 0.25, 1)
            touch.ud["line"] = Line(points=list(touch.pos), width=2.2)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self or "line" not in touch.ud:
            return False
        x, y = touch.pos
        if not self.collide_point(x, y):
            return True
        last_x, last_y = touch.ud.get("last", touch.opos)
        self.ink += float(np.hypot(x - last_x, y - last_y))
        touch.ud["last"] = (x, y)
        self.strokes[-1].append(self._local((x, y)))
        touch.ud["line"].points += [x, y]
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is self:
            touch.ungrab(self)
            return True
        return False

    def _local(self, pos: tuple[float, float]) -> tuple[float, float]:
        """0..1 across, 0..1 down: the image does not depend on the screen's size."""
        return ((pos[0] - self.x) / max(1, self.width), 1 - (pos[1] - self.y) / max(1, self.height))

    def clear(self) -> None:
        self.strokes = []
        self.ink = 0.0
        self.canvas.clear()

    def to_jpeg(self, width: int = 800) -> bytes:
        """Black strokes on white, the pad's proportions."""
        height = max(1, round(width * self.height / max(1, self.width)))
        image = np.full((height, width), 255, np.uint8)
        for stroke in self.strokes:
            points = np.array([(x * width, y * height) for x, y in stroke], np.int32)
            cv2.polylines(image, [points.reshape(-1, 1, 2)], False, 0, 4, cv2.LINE_AA)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        return bytes(data)


class SignScreen(StepScreen):
    """One signature for the whole sitting, after the one face check (at a bank: the
    borrower's authorization first, then borrower and operator on what is filed)."""

    MIN_INK_MM = 25.0  # a signature, not a tap
    heading_zh = StringProperty(SIGN_TEXTS["applicant"][0])
    heading_en = StringProperty(SIGN_TEXTS["applicant"][1])
    sub_zh = StringProperty(SIGN_TEXTS["applicant"][2])
    sub_en = StringProperty(SIGN_TEXTS["applicant"][3])

    def render(self, flow: Any, view: StepView) -> None:
        self._begin(flow)
        self.ids.pad.clear()
        self.heading_zh, self.heading_en, self.sub_zh, self.sub_en = view.sign_texts

    @property
    def enough(self) -> bool:
        return bool(self.ids.pad.ink >= self.flow.app.theme.mm(self.MIN_INK_MM))

    def clear(self) -> None:
        self.ids.pad.clear()

    def confirm(self) -> None:
        if not self.enough:
            return
        jpeg = self.ids.pad.to_jpeg()
        self.ids.pad.clear()  # the signature leaves the screen with the step
        self.flow.signed(jpeg)

    def on_leave(self, *_args: Any) -> None:
        self.ids.pad.clear()

    def wipe(self) -> None:
        self.ids.pad.clear()
