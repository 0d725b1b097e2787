"""What a choose step shows: the texts of each list while it loads, when it is empty and when
there is something to pick, and each item as a ``Choice`` (both languages; the screen picks
one by the visitor's language). Pure: no registry call, no screen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from kiosk.backend import models as m
from kiosk.documents.receipts import BUSINESS_NAMES, SERVICE_NAMES, yuan

# items → {state: (zh, en)}
CHOOSE_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "cases": {
        "empty": ("您没有待缴费的业务", "You have no fees to pay"),
        "pick": ("请选择要缴费的业务", "Choose the case to pay"),
    },
    "booking_services": {
        "empty": ("暂无可预约的业务", "Nothing can be booked now"),
        "pick": ("请选择要预约的业务", "What would you like to book?"),
    },
    "booking_days": {
        "empty": ("近期已约满，请到人工窗口或稍后再试", "Fully booked for now: ask a counter"),
        "pick": ("请选择日期（后五个工作日）", "Choose a day (the next five working days)"),
    },
    "booking_times": {
        "empty": ("这一天已约满，请返回选择其他日期", "That day is full: go back for another"),
        "pick": ("请选择时段", "Choose a time"),
    },
    "guides": {
        "empty": ("暂无办事指南", "No guides available"),
        "pick": ("请选择要了解的业务", "Choose the service to read about"),
    },
    "my_cases": {
        "empty": ("您没有在办的业务", "You have no cases under way"),
        "pick": ("您的业务及进度：点选一项查看下一步", "Your cases: tap one for what happens next"),
    },
    "ready": {
        "empty": ("暂无可打印的证书证明", "Nothing is ready to print yet"),
        "pick": ("请选择要打印的证书证明", "Choose what to print"),
    },
    "properties": {
        "empty": ("您名下没有可办理的不动产", "There is no property in your name to change"),
        "pick": ("请选择要办理的不动产", "Choose the property"),
    },
    "renamed": {
        "empty": (
            "您名下不动产的登记簿上已是现用名，无需办理更名",
            "Your property is already registered in your current name: nothing to change",
        ),
        "pick": (
            "请选择登记簿上仍是曾用名的不动产",
            "Choose the property still in your former name",
        ),
    },
    "to_mortgage": {
        "empty": ("您名下没有登记的不动产", "There is no property registered in your name"),
        "pick": (
            "请选择要抵押的不动产；共有的不动产须全部共有人到场",
            "Choose the property; every co-owner of it must be here too",
        ),
    },
    "mortgages": {
        "empty": ("您名下的不动产没有有效的抵押登记", "No active mortgage on your property"),
        "pick": ("请选择要注销的抵押", "Choose the mortgage to cancel"),
    },
    "appointments": {
        "empty": ("未找到您的预约，可返回首页取号", "No appointment found: you can take a ticket"),
        "pick": ("请选择要签到的预约", "Choose the appointment to check in for"),
    },
    "delivery": {
        "empty": ("请选择领取方式", "How would you like to get it?"),
        "pick": ("请选择领取方式", "How would you like to get it?"),
    },
    # a new flat bought from its developer (the contracts on file with the person as a buyer)
    "presale": {
        "empty": (
            "您没有可办理预告登记的购房合同（期房、未办预告）",
            "No contract of a flat in pre-sale without an advance notice",
        ),
        "pick": (
            "请选择购房合同；合同上的每位买受人都须到场",
            "Choose the contract; every buyer on it must be here",
        ),
    },
    "new_homes": {
        "empty": (
            "您没有可办理转移登记的购房合同（房屋须已办首次登记）",
            "No contract whose flat can be transferred yet (first registered)",
        ),
        "pick": (
            "请选择购房合同；合同上的每位买受人都须到场",
            "Choose the contract; every buyer on it must be here",
        ),
    },
    "noticed_homes": {
        "empty": (
            "您没有可办理预告转本的合同（须已办预告登记且房屋已首次登记）",
            "No advance notice can become ownership yet (the flat must be first registered)",
        ),
        "pick": (
            "请选择要转本的预告登记；合同上的每位买受人都须到场",
            "Choose the advance notice; every buyer on it must be here",
        ),
    },
    "mortgaged_homes": {
        "empty": (
            "没有银行已办抵押预告登记的购房合同",
            "No contract with a bank's advance-notice mortgage on file",
        ),
        "pick": (
            "请选择购房合同；合同上的每位买受人都须到场",
            "Choose the contract; every buyer on it must be here",
        ),
    },
    "advance_notices": {
        "empty": ("您没有有效的预告登记", "You have no advance notice registered"),
        "pick": (
            "请选择要注销的预告登记；合同上的每位买受人都须到场",
            "Choose the advance notice to cancel; every buyer must be here",
        ),
    },
    "proof_input": {
        "empty": ("请选择核验方式", "How would you like to check it?"),
        "pick": ("请选择核验方式", "How would you like to check it?"),
    },
    "my_objections": {
        "empty": ("您没有在有效期内的异议登记", "You have no standing objection"),
        "pick": ("请选择要注销的异议登记", "Choose the objection to cancel"),
    },
    # a bank operator, through the borrower's authorization
    "bank_properties": {
        "empty": ("借款人名下没有可抵押的不动产", "The borrower holds no property to mortgage"),
        "pick": ("请选择抵押的不动产", "Choose the property to mortgage"),
    },
    "bank_mortgages": {
        "empty": ("借款人名下没有本行的有效抵押", "No active mortgage of this bank"),
        "pick": ("请选择本行的抵押登记", "Choose the bank's mortgage"),
    },
    "contracts": {
        "empty": ("借款人没有已备案的预售合同", "The borrower has no pre-sale contract on file"),
        "pick": ("请选择预售合同", "Choose the pre-sale contract"),
    },
    "advance": {
        "empty": ("没有可转本登记的预告抵押", "No advance-notice mortgage can be converted yet"),
        "pick": ("请选择要转本登记的预告抵押", "Choose the advance notice to convert"),
    },
}
LOADING = {
    "cases": ("正在查找您的业务…", "Looking for your cases…"),
    "ready": ("正在查找您的业务…", "Looking for your cases…"),
    "my_cases": ("正在查找您的业务…", "Looking for your cases…"),
    "guides": ("正在获取办事指南…", "Getting the guides…"),
    "booking_services": ("请选择要预约的业务", "What would you like to book?"),
    "booking_days": ("正在查询可预约时段…", "Looking up free slots…"),
    "booking_times": ("正在查询可预约时段…", "Looking up free slots…"),
    "properties": ("正在查询您名下的不动产…", "Looking up your property…"),
    "renamed": ("正在查询您名下的不动产…", "Looking up your property…"),
    "mortgages": ("正在查询您名下的抵押登记…", "Looking up your mortgages…"),
    "to_mortgage": ("正在查询您名下的不动产…", "Looking up your property…"),
    "delivery": ("请选择领取方式", "How would you like to get it?"),
    **{
        items: ("正在查询您的购房合同备案…", "Looking up your sale contracts…")
        for items in ("presale", "new_homes", "noticed_homes", "mortgaged_homes")
    },
    "advance_notices": ("正在查询您的预告登记…", "Looking up your advance notices…"),
    "my_objections": ("正在查询您的异议登记…", "Looking up your objections…"),
    "proof_input": ("请选择核验方式", "How would you like to check it?"),
    "appointments": ("正在查找您的预约…", "Looking for your appointments…"),
    "bank_properties": ("正在查询借款人名下的不动产…", "Looking up the borrower's property…"),
    "bank_mortgages": ("正在查询本行的抵押登记…", "Looking up the bank's mortgages…"),
    "contracts": ("正在查询预售合同备案…", "Looking up pre-sale contracts…"),
    "advance": ("正在查询预告抵押…", "Looking up advance notices…"),
}
DELIVERY_CHOICES = (
    ("print", "在本机打印纸质证书", "Print it here on certificate paper"),
    ("ems", "邮寄到家（EMS）", "Mail it to me (EMS)"),
    ("electronic", "电子证照（扫码领取）", "Electronic certificate (scan a QR)"),
)
CHOSEN_BEFORE = "上次所选 · chosen before"


@dataclass(frozen=True)
class Choice:
    """One button: its key (what a tap sends back), the lead line in both languages, the
    second line (in the other language, or one bilingual line), and a note when it cannot
    be chosen now or was chosen before."""

    key: str
    lead_zh: str
    lead_en: str
    second_zh: str = ""  # shown under the English lead
    second_en: str = ""  # shown under the Chinese lead
    note: str = ""
    available: bool = True


# a choice and what choosing it does
Option = tuple[Choice, Callable[[], None]]


# each status: what it means and what happens next (for the person: where to go, what to do)
CASE_PROGRESS: dict[m.CaseStatus, tuple[str, str, str, str]] = {
    m.CaseStatus.ACCEPTED: (
        "已受理",
        "Accepted",
        "登记机构将进行审核，无需操作；结果短信通知",
        "The registry reviews it; nothing to do, we text you the result",
    ),
    m.CaseStatus.AWAITING_PAYMENT: (
        "待缴费",
        "Fee due",
        "请在本机「缴纳登记费」缴费，缴费后进入审核",
        "Pay it here under Pay a fee; the review starts once it is paid",
    ),
    m.CaseStatus.IN_REVIEW: (
        "审核中",
        "Under review",
        "登记机构正在审核，无需操作；登簿后短信通知",
        "The registry is reviewing it; nothing to do, we text you when it is registered",
    ),
    m.CaseStatus.REGISTERED: (
        "已登簿",
        "Registered",
        "可在本机「打印证书证明」打印，或选择邮寄、电子证照",
        "Print it here under Print my certificate, or have it mailed or issued electronically",
    ),
    m.CaseStatus.REJECTED: (
        "不予登记",
        "Refused",
        "请持身份证到人工窗口了解原因",
        "Please ask at a counter, with your ID card, why",
    ),
}


def progress(case: m.Case) -> tuple[str, str, str, str]:
    """The case's status and what happens next; a registered case that issues nothing (a
    cancellation) has nothing to collect."""
    if case.status is m.CaseStatus.REGISTERED and not case.issues:
        return (
            "已办结",
            "Done",
            "已登簿，无需领取证书证明",
            "Registered: there is nothing to collect",
        )
    return CASE_PROGRESS[case.status]


# what can be booked (the registry's APPOINTMENT_SERVICES), with its names
BOOKING_SERVICES = (
    ("counter", "综合窗口业务", "General counter"),
    ("private_mortgage", "个人之间抵押登记", "Mortgage between individuals"),
    ("new_home_transfer", "新建商品房转移登记（窗口）", "New home transfer (counter)"),
    ("certificate_reissue", "证书补换发", "Certificate reissue"),
)
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def booking_services(choose: Callable[[str], None]) -> list[Option]:
    return [(Choice(key, zh, en, en, zh), partial(choose, key)) for key, zh, en in BOOKING_SERVICES]


def booking_days(found: list[m.Slot], choose: Callable[[str], None]) -> list[Option]:
    """Each day with free slots, and how many."""
    days: dict[str, int] = {}
    for slot in found:
        days[slot.slot[:10]] = days.get(slot.slot[:10], 0) + slot.free
    options: list[Option] = []
    for day, free in days.items():
        weekday = dt.date.fromisoformat(day).weekday()
        line = f"余 {free} 个 · {free} left"
        choice = Choice(
            day, f"{day} {WEEKDAYS[weekday]}", f"{day} {WEEKDAYS_EN[weekday]}", line, line
        )
        options.append((choice, partial(choose, day)))
    return options


def booking_times(found: list[m.Slot], day: str, choose: Callable[[str], None]) -> list[Option]:
    """The day's free slots, each with how many places are left."""
    options: list[Option] = []
    for slot in (s for s in found if s.slot.startswith(day)):
        time_ = slot.slot[11:16]
        line = f"余 {slot.free} 个 · {slot.free} left"
        options.append((Choice(slot.slot, time_, time_, line, line), partial(choose, slot.slot)))
    return options


def guides(found: list[m.Guide], choose: Callable[[m.Guide], None]) -> list[Option]:
    """Each business: its title, the fee and the time limit."""
    options: list[Option] = []
    for guide in found:
        fee = yuan(guide.fee_fen) if guide.fee_fen else "免费 free"
        line = f"收费 Fee: {fee} · 时限 {guide.time_limit}"
        choice = Choice(guide.business, guide.title_zh, guide.title_en, line, line)
        options.append((choice, partial(choose, guide)))
    return options


def my_cases(found: list[m.Case], choose: Callable[[m.Case], None]) -> list[Option]:
    """Every case of the person, each with its status and what happens next."""
    options: list[Option] = []
    for case in found:
        zh, en = BUSINESS_NAMES.get(case.type, (case.type.value, case.type.value))
        status_zh, status_en, _next_zh, _next_en = progress(case)
        choice = Choice(
            case.case_number,
            f"{case.case_number}  {zh} · {status_zh}",
            f"{case.case_number}  {en} · {status_en}",
            second_zh=f"{en} · {status_en}",
            second_en=f"{zh} · {status_zh}",
        )
        options.append((choice, partial(choose, case)))
    return options


def cases(found: list[m.Case], ready: bool, choose: Callable[[m.Case], None]) -> list[Option]:
    options: list[Option] = []
    for case in found:
        zh, en = BUSINESS_NAMES.get(case.type, (case.type.value, case.type.value))
        fee = "" if ready else f"  {yuan(case.fee_fen)}"
        choice = Choice(
            case.case_number,
            f"{case.case_number}  {zh}{fee}",
            f"{case.case_number}  {en}{fee}",
            second_zh=zh,
            second_en=en,
        )
        options.append((choice, partial(choose, case)))
    return options


def properties(
    found: list[m.PropertyRecord],
    mortgages: bool,
    choose: Callable[[m.PropertyRecord, m.Mortgage | None], None],
) -> list[Option]:
    options: list[Option] = []
    for record in found:
        if mortgages:
            for mortgage in record.mortgages:
                kind = "最高额抵押" if mortgage.maximum else "抵押"
                line = (
                    f"{kind} {mortgage.creditor} {yuan(mortgage.amount_fen)}"
                    f"  至 to {mortgage.term_to}"
                )
                choice = Choice(mortgage.mortgage_id, record.address, record.address, line, line)
                options.append((choice, partial(choose, record, mortgage)))
        else:
            line = f"单元号 Unit {record.unit_code}  证号 No. {record.certificate_number}"
            choice = Choice(record.unit_code, record.address, record.address, line, line)
            options.append((choice, partial(choose, record, None)))
    return options


SEIZED = "已查封，不能抵押 · seized: it cannot be mortgaged"


def to_mortgage(
    found: list[m.PropertyRecord], choose: Callable[[m.PropertyRecord, m.Mortgage | None], None]
) -> list[Option]:
    """The person's properties with who holds each (the others masked, with their shares):
    everyone listed must come to the kiosk. A seized one is shown, not offered."""
    options: list[Option] = []
    for record in found:
        shares = record.shares or [""] * len(record.holders)
        who = "、".join(
            f"{name} {share}".strip() for name, share in zip(record.holders, shares, strict=False)
        )
        if len(record.holders) == 1:
            line = f"单独所有 Sole holder · 单元号 Unit {record.unit_code}"
        else:
            kind = "共同共有 Joint" if record.joint else "按份共有 In shares"
            line = f"{kind}: {who}"
        choice = Choice(
            record.unit_code,
            record.address,
            record.address,
            line,
            line,
            note=SEIZED if record.seizures else "",
            available=not record.seizures,
        )
        options.append((choice, partial(choose, record, None)))
    return options


def sales(found: list[m.SaleContract], choose: Callable[[m.SaleContract], None]) -> list[Option]:
    """Each contract: the flat, the developer and price, and who must come (the other buyers
    masked, with their shares). A seized flat is shown, not offered."""
    options: list[Option] = []
    for sale in found:
        who = "、".join(
            f"{name} {share}".strip() for name, share in zip(sale.buyers, sale.shares, strict=False)
        )
        line = f"合同 Contract {sale.contract_number} · {sale.developer} · 买受人 Buyers: {who}"
        choice = Choice(
            sale.contract_number,
            sale.address,
            sale.address,
            line,
            line,
            note=SEIZED_FLAT if sale.seized else "",
            available=not sale.seized,
        )
        options.append((choice, partial(choose, sale)))
    return options


SEIZED_FLAT = "已查封，暂不能办理 · seized: nothing can be registered on it now"


def objections(found: list[m.Objection], choose: Callable[[m.Objection], None]) -> list[Option]:
    options: list[Option] = []
    for objection in found:
        line = f"{objection.reason} · {objection.since} 至 to {objection.until}"
        choice = Choice(objection.objection_id, objection.address, objection.address, line, line)
        options.append((choice, partial(choose, objection)))
    return options


def appointments(
    found: list[m.Appointment], choose: Callable[[m.Appointment], None]
) -> list[Option]:
    options: list[Option] = []
    for appointment in found:
        zh, en = SERVICE_NAMES.get(appointment.service, ("综合业务", "General"))
        when = appointment.slot.replace("T", " ")
        line = f"预约号 Appointment {appointment.code}"
        choice = Choice(appointment.code, f"{when}  {zh}", f"{when}  {en}", line, line)
        options.append((choice, partial(choose, appointment)))
    return options


def bank_items(found: list[Any], choose: Callable[[Any], None]) -> list[Option]:
    """Pre-sale contracts and advance notices (the bank's properties and mortgages are
    ``properties``)."""
    options: list[Option] = []
    for item in found:
        if isinstance(item, m.PresaleContract):
            line = f"合同 Contract {item.contract_number}  {item.developer}  {yuan(item.price_fen)}"
            key = item.contract_number
        else:
            line = f"预告 Notice {item.notice_id}  {yuan(item.amount_fen)}"
            key = item.notice_id
        choice = Choice(key, item.address, item.address, line, line)
        options.append((choice, partial(choose, item)))
    return options


PROOF_INPUTS = (
    ("type", "输入证明上的验证码", "Type the code printed on the proof"),
    ("scan", "扫描证明上的二维码", "Scan the proof's QR code"),
)


def proof_input(
    scanner_usable: bool, name: tuple[str, str], choose: Callable[[str], None]
) -> list[Option]:
    options: list[Option] = []
    for key, zh, en in PROOF_INPUTS:
        down = key == "scan" and not scanner_usable
        note = f"{name[0]}暂不可用 {name[1]} unavailable" if down else ""
        choice = Choice(key, zh, en, second_zh=zh, second_en=en, note=note, available=not down)
        options.append((choice, partial(choose, key)))
    return options


def delivery(
    printer_usable: bool, printer_name: tuple[str, str], choose: Callable[[str], None]
) -> list[Option]:
    options: list[Option] = []
    for key, zh, en in DELIVERY_CHOICES:
        down = key == "print" and not printer_usable
        note = f"{printer_name[0]}暂不可用 {printer_name[1]} unavailable" if down else ""
        choice = Choice(key, zh, en, second_zh=zh, second_en=en, note=note, available=not down)
        options.append((choice, partial(choose, key)))
    return options


def identifiers(item: Any) -> set[str]:
    """The keys under which ``item`` may be listed (a draft remembers one of them)."""
    if isinstance(item, m.PropertyRecord):
        return {item.unit_code, *(g.mortgage_id for g in item.mortgages)}
    return {getattr(item, "contract_number", ""), getattr(item, "notice_id", "")} - {""}
