"""The query certificate (查询结果证明) as a PDF: who asked (full name and ID number, as an
official proof names its person: a school or a household registration office accepts nothing
less), the result, the centre, the date in Beijing time, a verification code and its QR, a slot
for the centre's electronic seal, page x/y and a warning against alteration on every page. Long
addresses and holder lists wrap; nothing is cut off. The registry issues it (the sandbox uses
this layout); the kiosk prints what it is given."""

from __future__ import annotations

import io

import qrcode
from fpdf import FPDF

from kiosk.backend import models as m
from kiosk.documents.china_time import china_date
from kiosk.documents.fonts import font_for

CENTRE = "某市不动产登记中心（沙箱）"
VERIFY_URL = "https://sandbox.invalid/verify?code={code}"


def _all_text(records: m.Records, person: str, centre: str) -> str:
    """Every character the certificate will carry (the template's own are all common)."""
    parts = [person, centre, "不动产登记信息查询结果证明有无房产授权第页共验证码涂改无效"]
    for record in records.properties:
        parts += [
            record.address,
            record.certificate_number,
            record.use,
            record.right_type,
            *record.holders,
            *record.seizures,
            *record.objections,
        ]
        parts += [g.creditor for g in record.mortgages]
    return "".join(parts)


def _qr_png(text: str) -> io.BytesIO:
    buffer = io.BytesIO()
    qrcode.make(text, border=2).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def query_certificate_pdf(
    records: m.Records,
    person: str,
    id_number: str,
    code: str,
    issued: str,
    centre: str = CENTRE,
    seal_png: bytes | None = None,
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=25)
    pdf.add_font("cjk", fname=font_for(_all_text(records, person + id_number, centre)))
    pdf.alias_nb_pages()

    def footer() -> None:
        pdf.set_y(-18)
        pdf.set_font("cjk", size=8)
        pdf.cell(
            0, 5, f"第 {pdf.page_no()} 页 / 共 {{nb}} 页    验证码 {code}    涂改无效", align="C"
        )

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    title = {
        m.QueryKind.OWN: "不动产登记信息查询结果证明",
        m.QueryKind.OWNERSHIP: "有无房产查询结果证明",
        m.QueryKind.UNIT: "不动产登记信息查询结果证明（授权查询）",
    }[records.kind]
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    issued_on = china_date(issued)
    pdf.cell(0, 8, f"查询人：{person}    证件号码：{id_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"出具日期：{issued_on}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if records.kind is m.QueryKind.OWNERSHIP:
        text = "经查询，截至出具日期，查询人名下" + ("有" if records.owns_property else "无")
        pdf.multi_cell(0, 8, text + "不动产登记记录。", new_x="LMARGIN", new_y="NEXT")
    elif not records.properties:
        pdf.multi_cell(0, 8, "经查询，查询人名下无不动产登记记录。", new_x="LMARGIN", new_y="NEXT")
    for index, record in enumerate(records.properties, 1):
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 9, f"{index}. {record.address}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        lines = [
            f"不动产单元号：{record.unit_code}",
            f"不动产权证号：{record.certificate_number}",
            f"权利类型：{record.right_type}    用途：{record.use}    面积：{record.area_m2} ㎡",
            f"权利人：{'、'.join(record.holders)}",
        ]
        lines += [
            f"抵押：{g.creditor} {g.amount_fen / 100:,.2f} 元 {g.term_from} 至 {g.term_to}"
            for g in record.mortgages
        ]
        lines += [f"查封：{s}" for s in record.seizures]
        lines += [f"异议：{o}" for o in record.objections]
        for line in lines:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.ln(4)
    pdf.set_font("cjk", size=11)
    if pdf.get_y() > pdf.h - 85:  # the seal block stays whole
        pdf.add_page()
    top = pdf.get_y()
    pdf.cell(0, 8, f"出具机构：{centre}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"出具日期：{issued_on}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"验证码：{code}  扫码或登录网站核验", new_x="LMARGIN", new_y="NEXT")
    pdf.image(_qr_png(VERIFY_URL.format(code=code)), w=32, h=32)
    seal_x, seal_y = pdf.w - pdf.r_margin - 42, top
    if seal_png is not None:
        pdf.image(io.BytesIO(seal_png), x=seal_x, y=seal_y, w=40, h=40)
    else:  # the slot where the centre's electronic seal goes
        pdf.set_draw_color(200, 30, 30)
        pdf.ellipse(seal_x, seal_y, 40, 40)
        pdf.set_text_color(200, 30, 30)
        pdf.set_xy(seal_x, seal_y + 16)
        pdf.cell(40, 8, "（电子印章）", align="C")
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
