"""A receipt as a list of simple operations. The kiosk lays receipts out in these; the driver
turns them into the bytes its printer model needs (encoding, kanji mode, QR, cut)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Text:
    text: str  # one line; the layout has wrapped it to the paper width already
    align: Align = "left"
    double: bool = False  # double width and height
    bold: bool = False


@dataclass(frozen=True)
class Qr:
    payload: str
    size: int = 6  # module size in dots


@dataclass(frozen=True)
class Image:
    image: Any  # a PIL image (a logo)


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    pass


Op = Text | Qr | Image | Feed | Cut
