"""A holder issues a query authorization at the kiosk (出具查询授权) and the person they name
queries with it (授权查询): only a holder of the unit, verified here, for one ID number, for
1-90 days; the code works for that person only, through its last Beijing day."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import BackendError
from kiosk.flows.runner import Phase
from kiosk.flows.spec import StepKind
from tests.backend_fixtures import Registry
from tests.runner_harness import TYPED, Kit, Visit, play, start_kit

HOLDER, GRANTEE, STRANGER = DEMO_CARDS[0], DEMO_CARDS[4], DEMO_CARDS[2]
GRANTEE_RESIDENT = "320102198806151246"  # a resident's number (李娜's), for the form's check


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


def issue(kit: Kit, grantee_number: str, name: str = "李娜", days: str = "7") -> Visit:
    """The holder at the kiosk, their first property chosen, the grantee typed in: the
    review is on screen."""
    typed = {"grantee_name": name, "grantee_id_number": grantee_number, "valid_days": days}
    visit = kit.visit("issue_authorization")
    form = play(visit, until=StepKind.FORM)
    assert form.form is not None
    problems = visit.journey.fill_form({**visit.journey.form_values(), **typed})
    assert not problems, problems
    visit.runner.next()
    return visit


def test_a_holder_issues_a_code_and_only_the_grantee_queries_with_it(kit: Kit) -> None:
    visit = issue(kit, GRANTEE_RESIDENT, days="7")
    review = visit.screens.last
    assert review.kind is StepKind.REVIEW
    assert ("被授权人身份证号", "Grantee's ID number", GRANTEE_RESIDENT) in review.review
    done = play(visit)
    assert done.kind is StepKind.DONE
    grant = visit.journey.ctx.grant
    assert grant is not None and grant.code.startswith("AUTH-") and grant.grantee == "李*"
    assert f"授权码 Code: {grant.code}" in done.outputs
    (slip,) = [p for p in kit.printers.printed if p.kind == "authorization"]
    text = "".join(str(getattr(op, "text", "")) for op in slip.what)
    assert grant.code in text and "李*" in text and GRANTEE_RESIDENT not in text
    with sqlite3.connect(kit.registry.sandbox.db_path) as conn:
        row = conn.execute(
            "SELECT holder, grantee, unit_code, expires FROM authorizations WHERE code = ?",
            (grant.code,),
        ).fetchone()
    record = visit.journey.ctx.property
    assert record is not None
    assert row[:3] == (HOLDER.number, GRANTEE_RESIDENT, record.unit_code)
    assert ("authorization.issue", "issued") in visit.actions()
    # the grantee, in person, queries the unit with it; anyone else is refused
    client = kit.registry.client
    stranger = kit.registry.verify(GRANTEE.number, GRANTEE.name).verification_id
    with pytest.raises(BackendError) as refused:
        client.list_records(m.RecordsQuery(stranger, m.QueryKind.UNIT, "", grant.code))
    assert refused.value.error == "not_authorized"  # the code is 李娜's, not theirs


def test_the_grantee_queries_at_the_kiosk_with_the_code(kit: Kit) -> None:
    visit = issue(kit, GRANTEE.number, name="玛丽", days="30")
    play(visit)
    assert visit.journey.ctx.grant is not None
    code = visit.journey.ctx.grant.code
    kit.devices.reader.card = GRANTEE
    query = kit.visit("authorized_query")
    TYPED["authorization_code"], before = code, TYPED["authorization_code"]
    try:
        done = play(query)
    finally:
        TYPED["authorization_code"] = before
    assert done.kind is StepKind.DONE and query.journey.ctx.query is not None
    assert query.journey.ctx.query.kind is m.QueryKind.UNIT


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"grantee_id_number": "320102198806151247"}, "invalid", "grantee_id_number"),
        ({"grantee_id_number": HOLDER.number}, "invalid", "grantee_id_number"),
        ({"valid_days": 0}, "invalid", "valid_days"),
        ({"valid_days": 91}, "invalid", "valid_days"),
        ({"grantee_name": " "}, "invalid", "grantee_name"),
        ({"unit_code": "370102019019GB99999F00990098"}, "not_holder", "unit_code"),
    ],
)
def test_the_registry_refuses_an_authorization_outside_its_rules(
    registry: Registry, change: dict[str, object], error: str, field: str
) -> None:
    from kiosk.sandbox.seed import DEMO_SHARED_UNIT

    body = m.IssueAuthorization(
        registry.verify().verification_id, DEMO_SHARED_UNIT, GRANTEE_RESIDENT, "李娜", 7
    )
    body = m.IssueAuthorization(**{**m.dump(body), **change})
    with pytest.raises(BackendError) as refused:
        registry.client.issue_authorization(body)
    assert refused.value.error == error and refused.value.field == field


def test_only_a_holder_verified_here_authorizes(registry: Registry) -> None:
    from kiosk.sandbox.seed import DEMO_SHARED_UNIT

    lender = registry.verify(GRANTEE.number, GRANTEE.name).verification_id  # holds none of it
    body = m.IssueAuthorization(lender, DEMO_SHARED_UNIT, GRANTEE_RESIDENT, "李娜", 7)
    with pytest.raises(BackendError) as refused:
        registry.client.issue_authorization(body)
    assert refused.value.error == "not_holder"


def test_a_code_works_through_its_last_beijing_day_and_not_after(registry: Registry) -> None:
    from kiosk.sandbox.seed import DEMO_SHARED_UNIT

    holder = registry.verify().verification_id
    grant = registry.client.issue_authorization(
        m.IssueAuthorization(holder, DEMO_SHARED_UNIT, GRANTEE.number, "玛丽", 1)
    )
    grantee = registry.verify(GRANTEE.number, GRANTEE.name).verification_id
    found = registry.client.list_records(m.RecordsQuery(grantee, m.QueryKind.UNIT, "", grant.code))
    assert [p.unit_code for p in found.properties] == [DEMO_SHARED_UNIT]
    registry.clock.offset = 86400 + 60  # a day later: past its last day
    try:
        late = registry.verify(GRANTEE.number, GRANTEE.name).verification_id
        with pytest.raises(BackendError) as refused:
            registry.client.list_records(m.RecordsQuery(late, m.QueryKind.UNIT, "", grant.code))
        assert refused.value.error == "expired"
    finally:
        registry.clock.offset = 0


def test_a_wrong_id_number_is_caught_on_the_form(kit: Kit) -> None:
    visit = kit.visit("issue_authorization")
    play(visit, until=StepKind.FORM)
    values = {**visit.journey.form_values(), "grantee_name": "李娜"}
    problems = visit.journey.fill_form({**values, "grantee_id_number": "320102198806151247"})
    assert problems["grantee_id_number"][0] == "身份证号码不正确，请核对"
    assert visit.screens.last.phase is Phase.STEP
