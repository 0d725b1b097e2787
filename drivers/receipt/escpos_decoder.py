"""Reads ESC/POS bytes back into what is on the paper: text lines (GB18030 aware), QR
payloads, raster images, cuts; and draws it as a PNG. The emulator uses it to show and check
what a kiosk printed; nothing on the registries does this (TOOLCHAIN.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
PAPER_DOTS = 576  # 80 mm paper at 203 dpi (72 mm printable)


@dataclass
class Line:
    text: str
    align: str = "left"
    double: bool = False
    bold: bool = False


@dataclass
class Receipt:
    lines: list[Line] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)
    cuts: int = 0
    unreadable: int = 0  # high bytes that arrived outside kanji mode on a model that needs it
    blocks: list[tuple[str, object]] = field(default_factory=list)  # in paper order

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def decode(data: bytes, kanji_required: bool = True) -> list[Receipt]:
    """Every receipt in ``data`` (a cut ends one)."""
    receipts = [Receipt()]
    state = {"align": "left", "double": False, "bold": False, "kanji": False}
    pending = bytearray()  # bytes of the current run, all in one kanji state
    decoded: list[str] = []  # earlier runs of the current line
    qr_store = b""

    def close_run() -> None:
        text = _text(bytes(pending), bool(state["kanji"]) or not kanji_required)
        receipts[-1].unreadable += text.count("\ufffd")
        decoded.append(text)
        pending.clear()

    def flush_line() -> None:
        close_run()
        line = Line(
            "".join(decoded), str(state["align"]), bool(state["double"]), bool(state["bold"])
        )
        decoded.clear()
        receipts[-1].lines.append(line)
        receipts[-1].blocks.append(("line", line))

    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x0A:
            flush_line()
            i += 1
        elif b == 0x1B and i + 1 < len(data):
            cmd = data[i + 1]
            if cmd == 0x40:
                state.update(align="left", double=False, bold=False, kanji=False)
                i += 2
            elif cmd == 0x61:
                state["align"] = {
                    0: "left",
                    1: "center",
                    2: "right",
                    48: "left",
                    49: "center",
                    50: "right",
                }.get(data[i + 2], "left")
                i += 3
            elif cmd in (0x45, 0x64, 0x21, 0x4D, 0x74, 0x2D, 0x47, 0x20, 0x33):
                if cmd == 0x45:
                    state["bold"] = bool(data[i + 2] & 1)
                if cmd == 0x64:  # ESC d n: feed n lines
                    receipts[-1].blocks.append(("feed", data[i + 2]))
                i += 3
            else:
                i += 2
        elif b == 0x1C and i + 1 < len(data):
            close_run()
            if data[i + 1] == 0x26:
                state["kanji"] = True
            elif data[i + 1] == 0x2E:
                state["kanji"] = False
            i += 2
        elif b == 0x1D and i + 1 < len(data):
            cmd = data[i + 1]
            if cmd == 0x21:
                state["double"] = data[i + 2] != 0
                i += 3
            elif cmd == 0x56:  # cut: GS V m [n]
                m = data[i + 2]
                i += 4 if m in (0x41, 0x42, 65, 66) else 3
                if pending or decoded:
                    flush_line()
                receipts[-1].cuts += 1
                receipts.append(Receipt())
            elif cmd == 0x76 and data[i + 2] == 0x30:  # GS v 0 m xL xH yL yH
                x_bytes = data[i + 4] | data[i + 5] << 8
                height = data[i + 6] | data[i + 7] << 8
                size = x_bytes * height
                bitmap = data[i + 8 : i + 8 + size]
                image = Image.frombytes("1", (x_bytes * 8, height), bitmap).point(lambda v: 255 - v)
                receipts[-1].images.append(image)
                receipts[-1].blocks.append(("image", image))
                i += 8 + size
            elif cmd == 0x28 and data[i + 2] == 0x6B:  # GS ( k pL pH cn fn ...
                length = data[i + 3] | data[i + 4] << 8
                body = data[i + 5 : i + 5 + length]
                if len(body) >= 2 and body[0] == 0x31 and body[1] == 0x50:
                    qr_store = body[3:]
                elif len(body) >= 2 and body[0] == 0x31 and body[1] == 0x51:
                    payload = qr_store.decode("utf-8", errors="replace")
                    receipts[-1].qr_codes.append(payload)
                    receipts[-1].blocks.append(("qr", payload))
                i += 5 + length
            elif cmd in (0x72, 0x61, 0x42, 0x48, 0x66, 0x68, 0x77, 0x4C, 0x57):
                i += 3
            else:
                i += 2
        elif b == 0x10 and i + 2 < len(data) and data[i + 1] == 0x04:
            i += 3
        else:
            pending.append(b)
            i += 1
    if pending or decoded:
        flush_line()
    if not receipts[-1].blocks and not receipts[-1].cuts and len(receipts) > 1:
        receipts.pop()
    return receipts


def _text(raw: bytes, gb: bool) -> str:
    if gb:
        return raw.decode("gb18030", errors="replace")
    return "".join(chr(b) if b < 0x80 else "\ufffd" for b in raw)


def render(receipt: Receipt, path: Path, width: int = PAPER_DOTS) -> Path:
    """Draw the receipt as it would come out of the printer."""
    font = ImageFont.truetype(FONT, 24)
    big = ImageFont.truetype(FONT, 48)
    parts: list[Image.Image] = []
    for kind, value in receipt.blocks:
        if kind == "line":
            assert isinstance(value, Line)
            chosen = big if value.double else font
            height = 60 if value.double else 32
            strip = Image.new("L", (width, height), 255)
            draw = ImageDraw.Draw(strip)
            text_width = draw.textlength(value.text, font=chosen)
            x = {"left": 0, "center": (width - text_width) / 2, "right": width - text_width}[
                value.align
            ]
            draw.text((max(0, x), 2), value.text, font=chosen, fill=0)
            parts.append(strip)
        elif kind == "qr":
            code = qrcode.make(str(value), box_size=6, border=4).convert("L")
            parts.append(_centered(code, width))
        elif kind == "image":
            assert isinstance(value, Image.Image)
            parts.append(_centered(value.convert("L"), width))
        elif kind == "feed":
            assert isinstance(value, int)
            parts.append(Image.new("L", (width, 32 * value), 255))
    total = sum(p.height for p in parts) + 40
    paper = Image.new("L", (width, max(total, 40)), 255)
    y = 20
    for part in parts:
        paper.paste(part, (0, y))
        y += part.height
    paper.save(path)
    return path


def _centered(image: Image.Image, width: int) -> Image.Image:
    strip = Image.new("L", (width, image.height), 255)
    strip.paste(image, (max(0, (width - image.width) // 2), 0))
    return strip
