"""Overlay printing on pre-printed, numbered certificate paper (不动产权证书 / 登记证明).

The paper already carries the form; the kiosk prints only the values, each in its box of the
template (millimetres from the top-left corner of the sheet), moved by the printer's
calibration offsets. A value that does not fit its box is printed smaller, down to a minimum
size; below that the print is refused with the field's name, never cut off silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF

from kiosk.backend import models as m
from kiosk.documents.fonts import font_for, full_font
from kiosk.documents.query_certificate import VERIFY_URL, _qr_png

MAX_PT, MIN_PT = 11.0, 6.5
LINE_FACTOR = 0.45  # line height in mm per point of font size


class LayoutError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Calibration:
    """Where this printer really puts things, relative to the template (mm)."""

    dx_mm: float = 0.0
    dy_mm: float = 0.0


# The registration page of the certificate (A4 portrait), value boxes only.
TEMPLATE: dict[str, Box] = {
    "certificate_number": Box(120, 22, 80, 8),
    "holders": Box(52, 48, 140, 12),
    "co_ownership": Box(52, 62, 140, 8),
    "address": Box(52, 72, 140, 14),
    "unit_code": Box(52, 88, 140, 8),
    "right_type": Box(52, 98, 140, 8),
    "use": Box(52, 108, 140, 8),
    "area": Box(52, 118, 140, 8),
    "issued_on": Box(130, 250, 60, 8),
}


# the check code's QR, in the blank corner left of the issuing date on both pages
CHECK_BOX = Box(22, 232, 26, 30)

# The registration proof (不动产登记证明) states a right on the unit, not its ownership: the
# right or matter, its holder, the obligors and the other terms (a mortgage's amount and term).
PROOF_TEMPLATE: dict[str, Box] = {
    "certificate_number": Box(120, 22, 80, 8),
    "matter": Box(52, 48, 140, 8),
    "holder": Box(52, 58, 140, 12),
    "obligors": Box(52, 72, 140, 12),
    "address": Box(52, 86, 140, 14),
    "unit_code": Box(52, 102, 140, 8),
    "other": Box(52, 112, 140, 30),
    "issued_on": Box(130, 250, 60, 8),
}


def _template(data: m.CertificateData) -> dict[str, Box]:
    """The proof's boxes when the registry says what right it proves, else the title's."""
    stated = {f.name for f in data.fields}
    return PROOF_TEMPLATE if data.kind == "proof" and "matter" in stated else TEMPLATE


def _values(data: m.CertificateData) -> dict[str, str]:
    holders = data.holders
    if _template(data) is PROOF_TEMPLATE:
        fields = {f.name: f.value for f in data.fields}
        return {
            "certificate_number": data.certificate_number,
            "matter": fields["matter"],
            "holder": fields.get("holder", "/"),
            "obligors": fields.get("obligors", "/"),
            "address": data.address,
            "unit_code": data.unit_code,
            "other": fields.get("other", "/"),
            "issued_on": data.issued_on,
        }
    return {
        "certificate_number": data.certificate_number,
        "holders": "、".join(holders),
        "co_ownership": co_ownership(holders, data.shares),
        "address": data.address,
        "unit_code": data.unit_code,
        "right_type": data.right_type,
        "use": data.use,
        "area": f"{data.area_m2:g} 平方米",
        "issued_on": data.issued_on,
    }


def co_ownership(holders: list[str], shares: list[str]) -> str:
    """共有情况 as the certificate states it: sole, in common, or in shares with each one's."""
    if len(holders) == 1:
        return "单独所有"
    if shares and len(shares) == len(holders) and all(shares):
        each = "，".join(f"{name}占{share}" for name, share in zip(holders, shares, strict=True))
        return f"按份共有（{each}）"
    return "共同共有"


def _fit(pdf: FPDF, field: str, text: str, box: Box) -> tuple[float, list[str]]:
    size = MAX_PT
    while size >= MIN_PT:
        pdf.set_font("cjk", size=size)
        lines = pdf.multi_cell(box.w, size * LINE_FACTOR, text, dry_run=True, output="LINES")
        assert isinstance(lines, list)
        if len(lines) * size * LINE_FACTOR <= box.h:
            return size, [str(line) for line in lines]
        size -= 0.5
    raise LayoutError(field, f"does not fit in {box.w}x{box.h} mm even at {MIN_PT} pt")


def certificate_overlay_pdf(data: m.CertificateData, calibration: Calibration) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    values = _values(data)
    check = f"核验码 {data.check_code}" if data.check_code else ""
    pdf.add_font("cjk", fname=font_for(*values.values(), check))
    pdf.add_page()
    template = _template(data)
    if data.check_code:  # anyone holding the paper checks it with 证明核验 (QR or code)
        box = CHECK_BOX
        x, y = box.x + calibration.dx_mm, box.y + calibration.dy_mm
        pdf.image(_qr_png(VERIFY_URL.format(code=data.check_code)), x=x, y=y, w=box.w, h=box.w)
        pdf.set_font("cjk", size=7)
        pdf.set_xy(x - 6, y + box.w + 1)
        pdf.cell(box.w + 12, 3, check, align="C")
    for field, text in values.items():
        box = template[field]
        size, lines = _fit(pdf, field, text, box)
        pdf.set_font("cjk", size=size)
        y = box.y + calibration.dy_mm
        for line in lines:
            pdf.set_xy(box.x + calibration.dx_mm, y)
            pdf.cell(box.w, size * LINE_FACTOR, line)
            y += size * LINE_FACTOR
    return bytes(pdf.output())


def calibration_page_pdf(calibration: Calibration) -> bytes:
    """Crosshairs at every box's corner and a millimetre scale, to measure the offsets."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", fname=full_font())
    pdf.add_page()
    pdf.set_font("cjk", size=7)
    for field, box in TEMPLATE.items():
        x, y = box.x + calibration.dx_mm, box.y + calibration.dy_mm
        pdf.line(x - 4, y, x + 4, y)
        pdf.line(x, y - 4, x, y + 4)
        pdf.set_xy(x + 1, y + 1)
        pdf.cell(40, 3, f"{field} ({box.x:g},{box.y:g})")
    for mm in range(0, 200, 10):
        pdf.line(10 + mm, 285, 10 + mm, 290 if mm % 50 else 292)
    pdf.set_xy(10, 278)
    pdf.cell(
        100, 4, f"校准页 calibration dx={calibration.dx_mm:+.1f} dy={calibration.dy_mm:+.1f} mm"
    )
    return bytes(pdf.output())
