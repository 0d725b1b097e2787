"""The services a kiosk offers on its home screen, what each needs, and whether it can run now.

A service whose devices are down is not hidden: it is shown disabled with the reason and the
alternative, so the home screen tells the truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from drivers.base import Role, Status


@dataclass(frozen=True)
class Service:
    name: str
    title_zh: str
    title_en: str
    needs: frozenset[Role]
    alternative_zh: str = "请到人工窗口办理"
    alternative_en: str = "Please go to a service counter"


def _s(name: str, zh: str, en: str, *needs: Role, alt: tuple[str, str] | None = None) -> Service:
    if alt:
        return Service(name, zh, en, frozenset(needs), alt[0], alt[1])
    return Service(name, zh, en, frozenset(needs))


_E_CERT = ("可扫码下载电子证明，或到人工窗口", "Scan for the e-certificate, or go to a counter")
_BANK_ALT = ("请到不动产登记中心窗口办理", "Please file it at the registration centre")
_ID, _CAM, _SCAN, _RCPT, _CERT = (
    Role.IDCARD,
    Role.CAMERA,
    Role.SCANNER,
    Role.RECEIPT,
    Role.CERTIFICATE,
)

SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        _s(
            "query_certificate",
            "查询本人不动产",
            "My property records",
            _ID,
            _CAM,
            _CERT,
            alt=_E_CERT,
        ),
        _s(
            "property_proof",
            "有无房产证明",
            "Property ownership proof",
            _ID,
            _CAM,
            _CERT,
            alt=_E_CERT,
        ),
        _s("authorized_query", "授权查询", "Authorized query", _ID, _CAM, _CERT, alt=_E_CERT),
        _s("my_cases", "我的办件", "My cases", _ID, _CAM),
        _s("check_proof", "证明核验", "Check a proof"),
        _s("service_guides", "办事指南", "Service guides"),
        _s("book_appointment", "预约办理", "Book an appointment", _ID, _CAM, _RCPT),
        _s("issue_authorization", "出具查询授权", "Authorize a query", _ID, _CAM, _RCPT),
        _s("pay_fee", "缴纳登记费", "Pay a fee", _ID, _CAM, _RCPT),
        _s("mortgage_cancellation", "抵押注销", "Mortgage cancellation", _ID, _CAM, _SCAN, _RCPT),
        _s("address_change", "地址变更", "Address change", _ID, _CAM, _SCAN, _RCPT),
        _s("name_change", "更名变更", "Name change", _ID, _CAM, _SCAN, _RCPT),
        _s(
            "private_mortgage",
            "个人之间抵押",
            "Mortgage between individuals",
            _ID,
            _CAM,
            _SCAN,
            _RCPT,
        ),
        _s(
            "print_certificate",
            "打印证书证明",
            "Print my certificate",
            _ID,
            _CAM,
            _CERT,
            alt=_E_CERT,
        ),
        _s("appointment_check_in", "预约签到", "Appointment check-in", _ID, _CAM, _RCPT),
        *(
            _s(name, zh, en, _ID, _CAM, _SCAN, _RCPT, alt=_BANK_ALT)
            for name, zh, en in (
                ("bank_mortgage_first", "抵押权首次登记", "Mortgage: first registration"),
                ("bank_mortgage_change", "抵押权变更登记", "Mortgage: change"),
                ("bank_mortgage_cancellation", "抵押权注销登记", "Mortgage: cancellation"),
                ("bank_advance_mortgage", "抵押预告登记", "Advance-notice mortgage"),
                ("bank_advance_to_mortgage", "预告抵押转本登记", "Advance notice to mortgage"),
            )
        ),
        _s("advance_notice", "预告登记", "Advance notice", _ID, _CAM, _RCPT),
        _s(
            "advance_notice_cancellation",
            "预告登记注销",
            "Cancel an advance notice",
            _ID,
            _CAM,
            _SCAN,
            _RCPT,
        ),
        _s("new_home_transfer", "新建商品房转移", "New home transfer", _ID, _CAM, _RCPT),
        _s("advance_to_ownership", "预告转本登记", "Advance notice to ownership", _ID, _CAM, _RCPT),
        _s(
            "new_home_transfer_mortgage",
            "新建商品房转移及抵押",
            "New home transfer with the mortgage",
            _ID,
            _CAM,
            _RCPT,
        ),
        _s("objection", "异议登记", "Objection", _ID, _CAM, _SCAN, _RCPT),
        _s("objection_cancellation", "异议登记注销", "Withdraw an objection", _ID, _CAM, _RCPT),
        _s(
            "queue_ticket",
            "取号",
            "Queue ticket",
            _RCPT,
            alt=("请到大厅取号机取号", "Please use the ticket machine in the hall"),
        ),
    )
}


@dataclass(frozen=True)
class ServiceAvailability:
    service: Service
    available: bool
    reason_zh: str = ""
    reason_en: str = ""


ROLE_NAMES = {
    Role.IDCARD: ("身份证阅读器", "ID card reader"),
    Role.CAMERA: ("摄像头", "camera"),
    Role.SCANNER: ("扫描仪", "scanner"),
    Role.RECEIPT: ("凭条打印机", "receipt printer"),
    Role.CERTIFICATE: ("证书打印机", "certificate printer"),
}


def availability(
    enabled: tuple[str, ...],
    statuses: Mapping[Role, Status | None],
    backend_up: bool = True,
    needs: Mapping[str, frozenset[Role]] | None = None,
) -> list[ServiceAvailability]:
    """Each enabled service, in order, with why it cannot run when a device it needs is down.

    ``statuses`` maps each configured role to its status; a role missing from the map is not
    fitted on this kiosk at all. ``needs`` overrides what a service needs — a service with a
    journey needs what its steps need (``FlowSpec.needs``).
    """
    out = []
    for name in enabled:
        service = SERVICES[name]
        down = []
        for role in sorted((needs or {}).get(name, service.needs)):
            status = statuses.get(role)
            if status is None or not status.usable:
                down.append(role)
        if down:
            zh = "、".join(ROLE_NAMES[r][0] for r in down) + "暂不可用"
            en = ", ".join(ROLE_NAMES[r][1] for r in down) + " unavailable"
            out.append(ServiceAvailability(service, False, zh, en))
        elif not backend_up:
            out.append(
                ServiceAvailability(
                    service, False, "登记中心网络暂不可用", "registration centre unreachable"
                )
            )
        else:
            out.append(ServiceAvailability(service, True))
    return out


@dataclass(frozen=True)
class ServiceGroup:
    """Services under one home tile: a person looking for "register something" finds one
    tile, not eleven among twenty-three (the tiles stay large enough to read and to hit)."""

    name: str
    title_zh: str
    title_en: str
    members: tuple[str, ...]


# the registrations a citizen files here (in the home screen's order)
REGISTRATIONS = (
    "mortgage_cancellation",
    "address_change",
    "name_change",
    "private_mortgage",
    "advance_notice",
    "advance_notice_cancellation",
    "new_home_transfer",
    "advance_to_ownership",
    "new_home_transfer_mortgage",
    "objection",
    "objection_cancellation",
)
HOME_GROUPS = (ServiceGroup("registrations", "自助登记", "Registrations", REGISTRATIONS),)


@dataclass(frozen=True)
class HomeTile:
    """One tile of the home screen: a service, or a group of them (``group`` set; available
    when any of its services is, else with the first one's reason)."""

    item: ServiceAvailability
    group: ServiceGroup | None = None
    members: tuple[ServiceAvailability, ...] = ()


def home_tiles(
    services: list[ServiceAvailability], groups: tuple[ServiceGroup, ...] = HOME_GROUPS
) -> list[HomeTile]:
    """The enabled services in their order, each group's members folded into one tile where
    its first member stands. A group with a single enabled member shows that service."""
    group_of = {name: g for g in groups for name in g.members}
    members: dict[str, list[ServiceAvailability]] = {}
    for item in services:
        group = group_of.get(item.service.name)
        if group is not None:
            members.setdefault(group.name, []).append(item)
    tiles: list[HomeTile] = []
    placed: set[str] = set()
    for item in services:
        group = group_of.get(item.service.name)
        if group is None or len(members[group.name]) < 2:
            tiles.append(HomeTile(item))
            continue
        if group.name in placed:
            continue
        placed.add(group.name)
        inside = tuple(members[group.name])
        service = Service(group.name, group.title_zh, group.title_en, frozenset())
        usable = [m for m in inside if m.available]
        shown = (
            ServiceAvailability(service, True)
            if usable
            else ServiceAvailability(service, False, inside[0].reason_zh, inside[0].reason_en)
        )
        tiles.append(HomeTile(shown, group, inside))
    return tiles


def devices_text(roles: list[Role]) -> tuple[str, str]:
    """ "Devices down: …" in Chinese and English, or empty texts when none is down."""
    if not roles:
        return "", ""
    zh = "不可用设备：" + "、".join(ROLE_NAMES[r][0] for r in roles)
    en = "Devices down: " + ", ".join(ROLE_NAMES[r][1] for r in roles)
    return zh, en
