"""What the done screen says at the end of a journey: the heading, what the person takes away
(numbers, codes, a case's progress, a check's answer), what happens next and the one QR to
scan. Pure: composed from the journey's context, no screen and no registry call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.backend import models as m
from kiosk.documents.china_time import china_minute
from kiosk.documents.receipts import BUSINESS_NAMES, yuan
from kiosk.flows import choices
from kiosk.flows.spec import FlowSpec, StepKind, StepSpec
from kiosk.redact import mask_id_number, mask_name


@dataclass
class DoneText:
    heading: tuple[str, str]
    outputs: list[str]
    next_zh: str
    next_en: str
    qr: str = ""  # the screen's one QR ("" for none)


def done_text(flow: FlowSpec, step: StepSpec, ctx: Any) -> DoneText:
    """``ctx``: the journey's context (kiosk.flows.journey.JourneyContext). Each part adds
    what applies; a later one may take the heading, the next step or the QR."""
    done = DoneText(
        ("办理完成", "All done"), [], str(step.param("next_zh")), str(step.param("next_en"))
    )
    _issued(ctx, done)
    _found(flow, ctx, done)
    _filed(ctx, done)
    _delivered(ctx, done)
    _receipt(ctx, done)
    return done


def _issued(ctx: Any, done: DoneText) -> None:
    """Numbers and codes the person takes away: a ticket, a query's check code, the sheet a
    certificate was printed on, a payment, an appointment, an authorization's code."""
    taken = done.outputs
    if ctx.ticket is not None:
        taken.append(f"排队号 Queue number: {ctx.ticket.ticket_number}")
    if ctx.query is not None:
        taken.append(f"查验码 Check code: {ctx.query.verification_code}")
    if ctx.sheet:
        taken.append(f"证书纸编号 Sheet number: {ctx.sheet}")
    if ctx.case is not None and ctx.order is not None:
        taken.append(
            f"业务编号 Case: {ctx.case.case_number}  已缴 Paid: {yuan(ctx.order.amount_fen)}"
        )
    if ctx.booked is not None:
        names = {key: (zh, en) for key, zh, en in choices.BOOKING_SERVICES}
        zh, en = names.get(ctx.booked.service, (ctx.booked.service,) * 2)
        taken.append(f"预约号 Appointment: {ctx.booked.code}")
        taken.append(f"时间 Time: {ctx.booked.slot.replace('T', ' ')}  {zh} {en}")
    if ctx.grant is not None:
        taken.append(f"授权码 Code: {ctx.grant.code}")
        taken.append(f"被授权人 Grantee: {ctx.grant.grantee}  有效至 Until: {ctx.grant.expires}")


def _found(flow: FlowSpec, ctx: Any, done: DoneText) -> None:
    """What was looked up: a service guide, a proof's check, a case's progress."""
    if ctx.guide is not None:
        done.heading = ("办事指南", "Service guide")
        done.outputs.extend(guide_lines(ctx.guide))
    if ctx.check is not None:
        done.heading, lines = proof_check_lines(ctx.check)
        done.outputs.extend(lines)
    looked_up = any(  # a flow that shows a case's progress: its status and next step
        s.kind is StepKind.CHOOSE and s.param("items") == "my_cases" for s in flow.steps
    )
    if ctx.case is not None and looked_up:
        status_zh, status_en, done.next_zh, done.next_en = choices.progress(ctx.case)
        zh, en = BUSINESS_NAMES.get(ctx.case.type, (ctx.case.type.value,) * 2)
        done.outputs.append(f"业务编号 Case: {ctx.case.case_number}  {zh} {en}")
        done.outputs.append(f"状态 Status: {status_zh} {status_en}")
        done.outputs.append(f"受理时间 Filed: {china_minute(ctx.case.created_at)}")
        done.heading = ("办件进度", "Case progress")
        done.qr = ctx.case.progress_url


def _filed(ctx: Any, done: DoneText) -> None:
    """An application: its case, or the kiosk's reference while it waits in the outbox, or
    (a bank's maker-checker) the draft a checker approves."""
    if ctx.queued:
        done.heading = ("申请已保存", "Application saved")
    if ctx.awaiting_review:  # maker-checker: nothing is filed until a checker approves
        done.heading = ("已提交本行复核", "Sent for review")
        done.outputs.append(f"草稿编号 Draft: {ctx.awaiting_review}")
        done.next_zh = "复核人批准后提交登记中心；可在工作台查看进度"
        done.next_en = "It is filed once a checker approves it; follow it on the workbench"
    if ctx.submitted is not None:
        done.outputs.append(f"业务编号 Case number: {ctx.submitted.case_number}")
        done.qr = ctx.submitted.progress_url
    elif ctx.queued:
        done.outputs.append(f"本机编号 Reference: {ctx.queued}")
        done.outputs.append("网络恢复后自动提交，无需重新办理")
        done.outputs.append("It is sent when the network is back: nothing to do again")


def _delivered(ctx: Any, done: DoneText) -> None:
    """A certificate mailed (its EMS number) or issued electronically (its QR)."""
    delivery = ctx.delivery
    if delivery is not None and delivery.method is m.DeliveryMethod.EMS:
        done.outputs.append(f"邮件号 EMS item: {delivery.reference}")
        done.next_zh = "证书将通过 EMS 寄出，请留意快递员来电；可凭邮件号查询"
        done.next_en = "Your certificate goes by EMS: expect the courier's call"
    elif delivery is not None:
        done.outputs.append("扫码领取电子证照 Scan for your electronic certificate")
        done.next_zh = "电子证照与纸质证书具有同等效力；二维码 30 天内有效"
        done.next_en = "It has the same force as the paper one; the QR works for 30 days"
        done.qr = delivery.url


def _receipt(ctx: Any, done: DoneText) -> None:
    """A payment's receipt that could not be printed: the e-receipt instead (its QR when the
    screen's one QR is free, else its number and check code)."""
    receipt = ctx.receipt
    if receipt is None or ctx.receipt_printed:
        return
    done.outputs.append(
        f"电子票据 E-receipt: {receipt.receipt_number}  校验码 {receipt.check_code}"
    )
    if not done.qr:
        done.outputs.append("缴费凭证未能打印，请扫码保存电子票据")
        done.outputs.append("The receipt could not be printed: scan to keep the e-receipt")
        done.qr = receipt.verify_url
    else:
        done.outputs.append("缴费凭证未能打印，可凭票据号和校验码查验电子票据")
        done.outputs.append("The receipt could not be printed: its number and code verify it")


PROOF_TITLES = {
    m.QueryKind.OWN.value: ("不动产登记信息查询结果证明", "Record query certificate"),
    m.QueryKind.OWNERSHIP.value: ("有无房产查询结果证明", "Property ownership proof"),
    m.QueryKind.UNIT.value: ("授权查询结果证明", "Authorized query certificate"),
    "certificate": ("不动产权证书", "Certificate of title"),
    "proof": ("不动产登记证明", "Registration proof"),
}
ORGANISATIONS = ("公司", "银行", "分行", "支行", "中心", "法院")


def _shown_name(name: str) -> str:
    """A person's name masked on the public screen; a bank's or company's as it is."""
    return name if name.endswith(ORGANISATIONS) else mask_name(name)


def guide_lines(guide: m.Guide) -> list[str]:
    fee = yuan(guide.fee_fen) if guide.fee_fen else "免费 free"
    where = "本机可办理 At this kiosk" if guide.at_kiosk else "请到登记中心窗口办理 At a counter"
    return [
        f"{guide.title_zh} {guide.title_en}",
        "所需材料 What to bring:",
        *[f"· {document}" for document in guide.documents],
        f"收费 Fee: {fee}（{guide.fee_note}）",
        f"办理时限 Time: {guide.time_limit} · {where}",
    ]


def proof_check_lines(check: m.CertificateCheck) -> tuple[tuple[str, str], list[str]]:
    """The done screen after a proof check: genuine and what it says, the person masked (a
    public screen; the checker compares it with the paper in their hand), or not found."""
    if not check.valid:
        return ("未找到该证明", "No such proof"), [
            "请核对验证码后重试；证明如有涂改或无法核验，请到人工窗口",
            "Check the code and try again; a proof that does not verify: ask at a counter",
        ]
    zh, en = PROOF_TITLES.get(check.kind, (check.kind, check.kind))
    if check.kind in ("certificate", "proof"):  # a title or a registration proof
        heading = (
            ("证书证明真实有效", "Genuine and current")
            if check.current
            else ("证书证明真实，但登记已变更或注销", "Genuine, but the register has changed")
        )
        holders = "、".join(_shown_name(n) for n in check.holder.split("、") if n)
        lines = [f"{zh} {en}", f"证号 No.: {check.certificate_number}"]
        if check.matter:
            lines.append(f"登记事项 Right: {check.matter}")
        lines += [
            f"权利人 Holder: {holders}",
            f"坐落 Property: {check.address}",
            f"出具日期 Issued: {check.issued_on}",
        ]
        if not check.current:
            lines.append(
                "以登记簿现状为准，请到人工窗口核实 The register now differs: ask a counter"
            )
        return heading, lines
    if check.kind == m.QueryKind.OWNERSHIP.value:
        found = (
            ("名下有不动产", "owns real estate")
            if check.owns_property
            else ("名下无不动产", "owns none")
        )
    else:
        found = (f"查询到 {check.property_count} 处", f"{check.property_count} found")
    return ("证明真实有效", "The proof is genuine"), [
        f"{zh} {en}",
        f"出具日期 Issued: {check.issued_on}",
        f"查询人 Person: {mask_name(check.holder)}  {mask_id_number(check.id_number)}",
        f"结果 Result: {found[0]} {found[1]}",
    ]
