"""The electronic registration proof (不动产登记证明) of a registered mortgage, as a PDF: the
proof number, what was registered, the case, a verification QR and the seal's slot. The
registry issues it (the sandbox uses this layout); the bank's kiosk downloads and prints it."""

from __future__ import annotations

from fpdf import FPDF

from kiosk.documents.china_time import china_date
from kiosk.documents.fonts import font_for
from kiosk.documents.query_certificate import CENTRE, VERIFY_URL, _qr_png


def registration_proof_pdf(
    lines: list[tuple[str, str]], proof_number: str, case_number: str, issued: str, code: str
) -> bytes:
    """``code``: the proof's check code (its QR and the 证明核验 service find it by it)."""
    template = "不动产登记证明业务号出具日期核验码电子印章"
    text = "".join(a + b for a, b in lines) + proof_number + CENTRE + template
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=25)
    pdf.add_font("cjk", fname=font_for(text))
    pdf.add_page()
    pdf.set_font("cjk", size=20)
    pdf.cell(0, 16, "不动产登记证明", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 9, proof_number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=11)
    stamp = [("业务号", case_number), ("出具日期", china_date(issued)), ("核验码", code)]
    for label, value in [*lines, *stamp]:
        pdf.multi_cell(0, 8, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    top = pdf.get_y()
    pdf.cell(0, 8, f"登记机构：{CENTRE}", new_x="LMARGIN", new_y="NEXT")
    pdf.image(_qr_png(VERIFY_URL.format(code=code)), w=32, h=32)
    seal_x = pdf.w - pdf.r_margin - 42
    pdf.set_draw_color(200, 30, 30)
    pdf.ellipse(seal_x, top, 40, 40)
    pdf.set_text_color(200, 30, 30)
    pdf.set_xy(seal_x, top + 16)
    pdf.cell(40, 8, "（电子印章）", align="C")
    return bytes(pdf.output())
