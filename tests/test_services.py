from __future__ import annotations

from drivers.base import Detail, Role, State, Status
from kiosk.config import DEFAULT_SERVICES
from kiosk.services import availability

READY = Status(State.READY)
DOWN = Status(State.OFFLINE, frozenset({Detail.DISCONNECTED}))


def test_everything_ready_everything_available() -> None:
    result = availability(DEFAULT_SERVICES, dict.fromkeys(Role, READY))
    assert [a.service.name for a in result] == list(DEFAULT_SERVICES)
    assert all(a.available for a in result)


def test_a_down_receipt_printer_disables_exactly_its_services() -> None:
    statuses = dict.fromkeys(Role, READY) | {Role.RECEIPT: DOWN}
    result = {a.service.name: a for a in availability(DEFAULT_SERVICES, statuses)}
    assert not result["queue_ticket"].available
    assert result["queue_ticket"].reason_zh == "凭条打印机暂不可用"
    assert result["queue_ticket"].reason_en == "receipt printer unavailable"
    assert not result["pay_fee"].available
    assert result["query_certificate"].available


def test_paper_out_counts_as_down_and_a_missing_role_too() -> None:
    paper_out = Status(State.ERROR, frozenset({Detail.PAPER_OUT}))
    statuses = {Role.IDCARD: READY, Role.RECEIPT: paper_out}
    result = {a.service.name: a for a in availability(("pay_fee", "query_certificate"), statuses)}
    assert not result["pay_fee"].available
    assert "摄像头" in result["query_certificate"].reason_zh
    assert "certificate printer" in result["query_certificate"].reason_en


def test_a_service_with_a_journey_needs_what_its_steps_need() -> None:
    from kiosk.flows.spec import load_flows

    needs = {name: flow.needs for name, flow in load_flows().items()}
    statuses = {role: READY for role in Role}
    statuses[Role.RECEIPT] = Status(State.ERROR, frozenset({Detail.PAPER_OUT}))
    by_name = {a.service.name: a for a in availability(DEFAULT_SERVICES, statuses, True, needs)}
    # paying works without the receipt printer (the e-receipt stays with the registry) ...
    assert by_name["pay_fee"].available
    # ... a queue ticket does not
    assert not by_name["queue_ticket"].available
    statuses[Role.RECEIPT] = READY
    statuses[Role.CAMERA] = Status(State.OFFLINE)
    by_name = {a.service.name: a for a in availability(DEFAULT_SERVICES, statuses, True, needs)}
    assert not by_name["pay_fee"].available and "摄像头" in by_name["pay_fee"].reason_zh


def test_the_registrations_fold_into_one_home_tile_where_the_first_stands() -> None:
    from kiosk.services import HOME_GROUPS, home_tiles

    tiles = home_tiles(availability(DEFAULT_SERVICES, dict.fromkeys(Role, READY)))
    names = [t.item.service.name for t in tiles]
    assert len(tiles) == 13 and names.count("registrations") == 1
    assert names.index("registrations") == names.index("pay_fee") + 1  # where the first stood
    (group,) = [t for t in tiles if t.group is not None]
    assert [m.service.name for m in group.members] == list(HOME_GROUPS[0].members)
    assert group.item.available and group.item.service.title_zh == "自助登记"


def test_a_group_is_available_while_any_of_its_services_is_and_one_alone_is_no_group() -> None:
    from kiosk.services import home_tiles

    no_scanner = dict.fromkeys(Role, READY) | {Role.SCANNER: DOWN}
    tiles = home_tiles(availability(DEFAULT_SERVICES, no_scanner))
    group = next(t for t in tiles if t.group is not None)
    assert group.item.available  # the new-home registrations scan nothing
    assert not next(m for m in group.members if m.service.name == "objection").available
    no_camera = dict.fromkeys(Role, READY) | {Role.CAMERA: DOWN}
    group = next(t for t in home_tiles(availability(DEFAULT_SERVICES, no_camera)) if t.group)
    assert not group.item.available and group.item.reason_zh == "摄像头暂不可用"
    alone = home_tiles(availability(("pay_fee", "address_change"), dict.fromkeys(Role, READY)))
    assert [t.item.service.name for t in alone] == ["pay_fee", "address_change"]
    assert all(t.group is None for t in alone)
