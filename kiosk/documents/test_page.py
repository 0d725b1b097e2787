"""Maintenance test prints: Chinese and English text, a QR code, a cut."""

from __future__ import annotations

import io
import time

import qrcode
from fpdf import FPDF

from drivers.receipt.ops import Op
from kiosk.documents.fonts import font_for
from kiosk.documents.receipts import Layout

QR_TEXT = "https://sandbox.invalid/test?page=1"


def receipt_test_page(chars_per_line: int, kiosk_id: str) -> list[Op]:
    layout = Layout(chars_per_line)
    layout.text("打印测试 Test print", "center", double=True)
    layout.text(f"终端 Kiosk: {kiosk_id}", "center")
    layout.text(time.strftime("%Y-%m-%d %H:%M:%S"), "center")
    layout.text("中文：不动产登记自助终端【测试】，全角标点，￥123.45")
    layout.text("English: the quick brown fox jumps over the lazy dog 0123456789")
    layout.rule()
    layout.qr(QR_TEXT)
    return layout.end()


def a4_test_page(kiosk_id: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_font("cjk", fname=font_for("打印测试终端", kiosk_id))
    pdf.set_font("cjk", size=16)
    pdf.add_page()
    pdf.cell(0, 12, "打印测试 Test print", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        10,
        f"终端 Kiosk: {kiosk_id}  {time.strftime('%Y-%m-%d %H:%M')}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    buffer = io.BytesIO()
    qrcode.make(QR_TEXT).save(buffer, format="PNG")
    buffer.seek(0)
    pdf.image(buffer, w=40, h=40)
    return bytes(pdf.output())
