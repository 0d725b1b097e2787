"""ESC/POS bytes for receipt operations, per printer model.

python-escpos alone sends "?" for many Chinese characters (it picks a code page per character
and knows no GB18030 outside U+4E00–U+9FA5), so the text encoding is ours: GB18030, wrapped in
``FS &`` … ``FS .`` when the model needs kanji mode. QR codes and raster images reuse
python-escpos's command builders through its in-memory ``Dummy`` printer.
"""

from __future__ import annotations

from dataclasses import dataclass

from escpos.printer import Dummy

from drivers.errors import NotSupported
from drivers.receipt.ops import Cut, Feed, Image, Op, Qr, Text

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
INIT = ESC + b"@"
KANJI_ON, KANJI_OFF = FS + b"&", FS + b"."
ALIGN = {"left": ESC + b"a\x00", "center": ESC + b"a\x01", "right": ESC + b"a\x02"}
SIZE_NORMAL, SIZE_DOUBLE = GS + b"!\x00", GS + b"!\x11"
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
CUT = GS + b"V\x41\x03"  # feed 3 and cut (partial cut where the model can)


@dataclass(frozen=True)
class EncoderModel:
    """What differs between printer models, from the device profile."""

    kanji_mode: bool = True  # wrap GB18030 text in FS & / FS .
    native_qr: bool = True  # GS ( k; else the QR is sent as a raster image
    cut: bool = True


def encode_text(text: str, model: EncoderModel) -> bytes:
    try:
        raw = text.encode("gb18030")
    except UnicodeEncodeError as err:  # only lone surrogates fail GB18030
        raise NotSupported(f"text cannot be printed: {err}") from err
    if model.kanji_mode and any(b >= 0x80 for b in raw):
        return KANJI_ON + raw + KANJI_OFF
    return raw


def encode(ops: list[Op], model: EncoderModel) -> bytes:
    out = bytearray(INIT)
    for op in ops:
        if isinstance(op, Text):
            out += ALIGN[op.align]
            out += SIZE_DOUBLE if op.double else SIZE_NORMAL
            out += BOLD_ON if op.bold else BOLD_OFF
            out += encode_text(op.text, model) + b"\n"
        elif isinstance(op, Qr):
            out += ALIGN["center"]
            out += _qr(op, model)
        elif isinstance(op, Image):
            out += ALIGN["center"]
            dummy = Dummy()
            dummy.image(op.image)
            out += dummy.output
        elif isinstance(op, Feed):
            out += ESC + b"d" + bytes([max(0, min(op.lines, 255))])
        elif isinstance(op, Cut):
            if not model.cut:
                raise NotSupported("this printer has no cutter")
            out += CUT
    out += ALIGN["left"] + SIZE_NORMAL + BOLD_OFF
    return bytes(out)


def _qr(op: Qr, model: EncoderModel) -> bytes:
    dummy = Dummy()
    if model.native_qr:
        dummy.qr(op.payload, size=op.size, native=True)
    else:
        dummy.qr(op.payload, size=op.size, native=False)
    return bytes(dummy.output) + b"\n"
