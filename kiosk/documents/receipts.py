"""Receipt layouts (80 mm or 58 mm paper): queue ticket, acknowledgment, payment receipt.

Each returns receipt operations; the printer's driver owns the bytes. Text is wrapped to the
profile's columns (double-size lines get half), Chinese first and English under it.
"""

from __future__ import annotations

from drivers.receipt.ops import Align, Cut, Feed, Op, Qr, Text
from kiosk.backend import models as m
from kiosk.documents.china_time import china_minute
from kiosk.documents.text_fit import wrap

CENTRE = "不动产登记中心"
SERVICE_NAMES = {
    "query_certificate": ("查询证明", "Records query"),
    "pay_fee": ("缴费", "Fee payment"),
    "mortgage_cancellation": ("抵押注销", "Mortgage cancellation"),
    "address_change": ("变更登记", "Change registration"),
    "name_change": ("变更登记", "Change registration"),
    "print_certificate": ("证书领取", "Certificate collection"),
    "counter": ("综合窗口", "General counter"),
    "private_mortgage": ("个人之间抵押", "Mortgage between individuals"),
    "new_home_transfer": ("新建商品房转移", "New home transfer"),
    "certificate_reissue": ("证书补换发", "Certificate reissue"),
}
BUSINESS_NAMES = {
    m.ApplicationType.MORTGAGE_CANCELLATION: ("抵押权注销登记", "Mortgage cancellation"),
    m.ApplicationType.ADDRESS_CHANGE: ("地址变更登记", "Address change"),
    m.ApplicationType.NAME_CHANGE: ("更名变更登记", "Name change"),
    m.ApplicationType.MORTGAGE_FIRST: ("抵押权首次登记", "First mortgage"),
    m.ApplicationType.MORTGAGE_CHANGE: ("抵押权变更登记", "Mortgage change"),
    m.ApplicationType.ADVANCE_MORTGAGE: ("抵押预告登记", "Advance-notice mortgage"),
    m.ApplicationType.ADVANCE_TO_MORTGAGE: ("预告转本登记", "Advance notice to mortgage"),
    m.ApplicationType.CERTIFICATE_REISSUE: ("证书补换发", "Certificate reissue"),
    m.ApplicationType.PRIVATE_MORTGAGE: ("个人之间抵押登记", "Mortgage between individuals"),
    m.ApplicationType.ADVANCE_NOTICE: ("预购商品房预告登记", "Advance notice of a purchase"),
    m.ApplicationType.ADVANCE_NOTICE_CANCELLATION: ("预告登记注销", "Advance notice cancellation"),
    m.ApplicationType.NEW_HOME_TRANSFER: ("新建商品房转移登记", "New home transfer"),
    m.ApplicationType.ADVANCE_TO_OWNERSHIP: ("预告转本登记", "Advance notice to ownership"),
    m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE: (
        "新建商品房转移及抵押登记",
        "New home transfer with the mortgage",
    ),
    m.ApplicationType.OBJECTION: ("异议登记", "Objection"),
    m.ApplicationType.OBJECTION_CANCELLATION: ("异议登记注销", "Objection cancellation"),
}


class Layout:
    def __init__(self, chars_per_line: int) -> None:
        self.width = chars_per_line
        self.ops: list[Op] = []

    def text(
        self, text: str, align: Align = "left", *, double: bool = False, bold: bool = False
    ) -> Layout:
        for line in wrap(text, self.width // 2 if double else self.width):
            self.ops.append(Text(line, align, double, bold))
        return self

    def pair(self, label_zh: str, label_en: str, value: str) -> Layout:
        return self.text(f"{label_zh} {label_en}: {value}")

    def rule(self) -> Layout:
        self.ops.append(Text("-" * self.width))
        return self

    def qr(self, payload: str) -> Layout:
        self.ops.append(Qr(payload))
        return self

    def end(self) -> list[Op]:
        self.ops += [Feed(2), Cut()]
        return self.ops


def yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def queue_ticket(ticket: m.Ticket, chars_per_line: int, centre: str = CENTRE) -> list[Op]:
    zh, en = SERVICE_NAMES.get(ticket.service, (ticket.service, ticket.service))
    layout = Layout(chars_per_line)
    layout.text(centre, "center", bold=True).text("排队号 Queue number", "center")
    layout.text(ticket.ticket_number, "center", double=True)
    layout.text(f"{zh} {en}", "center")
    layout.text(f"前面还有 {ticket.waiting_ahead} 人 / {ticket.waiting_ahead} ahead", "center")
    layout.text(_local(ticket.issued_at), "center")
    layout.text("请留意叫号，过号请重新取号 Please listen for your number", "center")
    return layout.end()


def appointment_slip(booked: m.Appointment, chars_per_line: int, centre: str = CENTRE) -> list[Op]:
    """预约凭条: the code and the time; the person checks in with their ID card."""
    zh, en = SERVICE_NAMES.get(booked.service, (booked.service, booked.service))
    layout = Layout(chars_per_line)
    layout.text(centre, "center", bold=True)
    layout.text("预约凭条", "center", double=True).text("Appointment", "center")
    layout.rule()
    layout.text(booked.code, "center", double=True)
    layout.pair("业务", "Service", f"{zh} {en}")
    layout.pair("时间", "Time", booked.slot.replace("T", " "))
    layout.rule()
    layout.text("请按时携带身份证到登记中心，在自助机「预约签到」取号（预约时间后30分钟内有效）")
    layout.text("Bring your ID card and check in at a kiosk (until 30 min after the time).")
    return layout.end()


def guide_slip(guide: m.Guide, chars_per_line: int, centre: str = CENTRE) -> list[Op]:
    """办事指南 on paper: what to bring, the fee and the time limit."""
    layout = Layout(chars_per_line)
    layout.text(centre, "center", bold=True)
    layout.text("办事指南", "center", double=True).text("Service guide", "center")
    layout.text(f"{guide.title_zh} {guide.title_en}", "center")
    layout.rule()
    layout.text("所需材料 What to bring:")
    for document in guide.documents:
        layout.text(f"  · {document}")
    fee = yuan(guide.fee_fen) if guide.fee_fen else "免费"
    layout.pair("收费", "Fee", f"{fee}（{guide.fee_note}）")
    layout.pair("办理时限", "Time limit", guide.time_limit)
    layout.text("本机可办理 At this kiosk" if guide.at_kiosk else "请到登记中心窗口办理")
    layout.rule()
    layout.text("可通过信息共享获取的材料无需提交；以登记机构审核为准", "center")
    return layout.end()


def authorization_slip(
    grant: m.Authorization, address: str, chars_per_line: int, centre: str = CENTRE
) -> list[Op]:
    """查询授权凭条: the code the holder hands to the person they authorize (masked name)."""
    layout = Layout(chars_per_line)
    layout.text(centre, "center", bold=True)
    layout.text("不动产登记查询授权", "center", double=True).text("Query authorization", "center")
    layout.rule()
    layout.text(grant.code, "center", double=True)
    layout.pair("不动产", "Property", address)
    layout.pair("被授权人", "Grantee", grant.grantee)
    layout.pair("有效至", "Valid until", f"{grant.expires}（含当日 inclusive）")
    layout.rule()
    layout.text("被授权人本人持身份证，在自助机「授权查询」输入此授权码查询；")
    layout.text(
        "The grantee, in person with their ID card, types this code under Authorized query."
    )
    layout.text("查询记录将告知您。请勿将授权码交给他人 Keep it for the grantee only.")
    layout.qr(grant.code)
    return layout.end()


def acknowledgment(
    case: m.Case | None,
    business: m.ApplicationType,
    applicant_masked: str,
    progress_url: str,
    chars_per_line: int,
    *,
    local_reference: str = "",
    centre: str = CENTRE,
    agent: str = "",
    awaiting_review: str = "",
    checker: str = "",
) -> list[Op]:
    """受理回执. ``case`` is None while the application waits in the outbox (network down), or
    (bank service points) while it waits for a second operator's approval (``awaiting_review``:
    the draft's reference). ``agent``: the bank and operator filing as the applicant's agent."""
    zh, en = BUSINESS_NAMES[business]
    layout = Layout(chars_per_line)
    layout.text(centre, "center", bold=True)
    layout.text("受理回执", "center", double=True).text("Acknowledgment of application", "center")
    layout.rule()
    if case is None and awaiting_review:
        layout.pair("申请编号", "Application", awaiting_review)
        layout.text("本行第二名经办人复核通过后提交登记中心；复核后可在工作台补打受理回执。")
        layout.text(
            "Filed with the registry once a second operator of the bank approves it; the"
            " workbench reprints the acknowledgment then."
        )
    elif case is None:
        layout.pair("本机编号", "Reference", local_reference)
        layout.text(
            "申请已安全保存在本机，网络恢复后自动提交，无需重新办理；凭本机编号可在窗口查询进度。"
        )
        layout.text(
            "Your application is saved and is sent when the network is back: nothing to do"
            " again. A counter can follow it by the reference."
        )
    else:
        layout.pair("业务编号", "Case number", case.case_number)
    layout.pair("业务类型", "Business", f"{zh} {en}")
    layout.pair("申请人", "Applicant", applicant_masked)
    if agent:
        layout.pair("代理人", "Agent", agent)
    if checker:
        layout.pair("复核人", "Checked by", checker)
    if case is not None:
        layout.pair("应缴费用", "Fee", yuan(case.fee_fen))
        layout.pair("受理时间", "Accepted", _local(case.created_at))
    layout.rule()
    if progress_url.startswith("https://"):  # a page a phone opens; never a private code
        layout.text("扫码查询办理进度 Scan to follow your case", "center")
        layout.qr(progress_url)
    else:
        layout.text("凭上述编号在人工窗口或本行工作台查询进度")
        layout.text("A counter or the bank's workbench follows it by the number above")
    return layout.end()


def payment_receipt(receipt: m.EReceipt, chars_per_line: int, centre: str = CENTRE) -> list[Op]:
    layout = Layout(chars_per_line)
    layout.text(centre, "center", bold=True)
    layout.text("缴费凭证", "center", double=True).text("Payment receipt", "center")
    layout.rule()
    layout.pair("票据号码", "Receipt no.", receipt.receipt_number)
    layout.pair("项目", "Item", receipt.item)
    if receipt.paid_for:
        layout.pair("业务编号", "For", receipt.paid_for)
    if receipt.payer:
        layout.pair("交款人", "Payer", receipt.payer)
    layout.pair("金额", "Amount", yuan(receipt.amount_fen))
    layout.pair("收款单位", "Payee", receipt.payee)
    layout.pair("缴费时间", "Paid", _local(receipt.issued_at))
    layout.pair("校验码", "Check code", receipt.check_code)
    layout.rule()
    layout.text("扫码查验电子票据 Scan to verify the e-receipt", "center")
    layout.qr(receipt.verify_url)
    return layout.end()


def _local(iso: str) -> str:
    """UTC ISO time from the registry → Beijing time for people."""
    return china_minute(iso)


def handoff_slip(
    reference: str,
    service_zh: str,
    service_en: str,
    done: list[tuple[str, str]],
    reason_zh: str,
    reason_en: str,
    chars_per_line: int,
    *,
    ticket_number: str = "",
    centre: str = CENTRE,
    parties: list[tuple[str, str]] | None = None,
) -> list[Op]:
    """人工接续单: the counter continues where the kiosk stopped, instead of starting over.
    Nothing personal is printed: the counter finds the visit by its reference. A sitting of
    several lists where each party got to, by role."""
    layout = Layout(chars_per_line)
    layout.text(centre, "center", bold=True)
    layout.text("人工窗口接续单", "center", double=True).text("Counter hand-off", "center")
    layout.rule()
    layout.pair("接续编号", "Reference", reference)
    if ticket_number:
        layout.pair("排队号", "Queue number", ticket_number)
    layout.pair("业务", "Service", f"{service_zh} {service_en}")
    layout.text("已在自助终端完成 Done at the kiosk:")
    for zh, en in done or [("（无）", "(nothing)")]:
        layout.text(f"  √ {zh} {en}")
    if parties:
        layout.text("当事人 Parties:")
        for zh, en in parties:
            layout.text(f"  · {zh} / {en}")
    layout.text(f"未能完成原因 Why it stopped: {reason_zh} / {reason_en}")
    layout.rule()
    layout.text("请持此单到人工窗口，工作人员将接续办理", "center")
    layout.text("Show this slip at a counter to continue", "center")
    layout.qr(f"HANDOFF:{reference}")
    return layout.end()
