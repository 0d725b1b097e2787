"""Objections (异议登记) against the sandbox: the unit lookup shows where a unit is and never
who holds it, a few times per verification; an objection by someone who is not a holder
stands at once for 15 days and shows on the holder's records; each rule refuses with its
reason; the objector cancels their own and nobody else's."""

from __future__ import annotations

import hashlib
import sqlite3
import time

import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import BackendError
from kiosk.sandbox.objections import LOOKUPS_PER_VERIFICATION
from tests.backend_fixtures import Registry, signature_jpeg

HOLDER, OBJECTOR, OTHER = DEMO_CARDS[0], DEMO_CARDS[4], DEMO_CARDS[2]
REASON = "权利人登记有误"
DAY = 24 * 3600


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def verified(registry: Registry, card: object = OBJECTOR) -> str:
    number, name = card.number, card.name  # type: ignore[attr-defined]
    return registry.verify(number, name).verification_id


def holders_unit(registry: Registry) -> str:
    records = registry.client.list_records(m.RecordsQuery(verified(registry, HOLDER)))
    return records.properties[0].unit_code


def objection(
    registry: Registry,
    unit: str,
    card: object = OBJECTOR,
    kind: m.ApplicationType = m.ApplicationType.OBJECTION,
    fields: dict[str, str] | None = None,
    evidence: bool = True,
) -> m.Case:
    client = registry.client
    attachments = []
    if evidence:
        attachments.append(client.upload_attachment(b"%PDF-1.4 evidence", "application/pdf"))
    image = signature_jpeg("objector")
    attachments.append(client.upload_attachment(image, "image/jpeg"))
    values = fields if fields is not None else {"interest": "继承人", "reason": REASON}
    body = m.Application(
        kind,
        unit,
        verified(registry, card),
        [m.FieldValue(k, v) for k, v in values.items()],
        [a.attachment_id for a in attachments],
        [m.Signature("applicant", hashlib.sha256(image).hexdigest(), now())],
    )
    return client.submit_application(body)


def refusal(registry: Registry, *args: object, **kwargs: object) -> BackendError:
    with sqlite3.connect(registry.sandbox.db_path) as conn:
        before = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    with pytest.raises(BackendError) as caught:
        objection(registry, *args, **kwargs)  # type: ignore[arg-type]
    with sqlite3.connect(registry.sandbox.db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == before
    return caught.value


def test_the_lookup_says_where_the_unit_is_and_never_who_holds_it(registry: Registry) -> None:
    unit = holders_unit(registry)
    found = registry.client.lookup_unit(verified(registry), unit)
    assert found.unit_code == unit and found.address
    assert set(vars(found)) == {"unit_code", "address", "objection"}  # no holder, no certificate


def test_lookups_are_a_few_per_verification_found_or_not(registry: Registry) -> None:
    client, unit = registry.client, holders_unit(registry)
    verification = verified(registry)
    missing = unit[:-4] + "9999"
    for _ in range(LOOKUPS_PER_VERIFICATION):  # guessing costs as much as finding
        with pytest.raises(BackendError) as caught:
            client.lookup_unit(verification, missing)
        assert caught.value.error == "unit_not_found"
    with pytest.raises(BackendError) as caught:
        client.lookup_unit(verification, unit)
    assert caught.value.error == "too_many_lookups"
    with pytest.raises(BackendError) as bad:
        client.lookup_unit(verified(registry), "not a unit code")
    assert bad.value.error == "invalid"


def test_an_objection_stands_at_once_free_and_shows_on_the_holders_records(
    registry: Registry,
) -> None:
    unit = holders_unit(registry)
    case = objection(registry, unit)
    assert case.status is m.CaseStatus.REGISTERED and case.fee_fen == 0
    mine = registry.client.list_objections(verified(registry)).objections
    assert [(o.unit_code, o.reason) for o in mine] == [(unit, REASON)]
    records = registry.client.list_records(m.RecordsQuery(verified(registry, HOLDER)))
    record = next(p for p in records.properties if p.unit_code == unit)
    assert any(mine[0].since in text for text in record.objections)
    assert registry.client.lookup_unit(verified(registry), unit).objection
    # nobody else's list has it (the holder's has only their own, seeded, on another flat)
    theirs = registry.client.list_objections(verified(registry, HOLDER)).objections
    assert unit not in [o.unit_code for o in theirs]
    assert registry.client.list_objections(verified(registry, OTHER)).objections == []


def test_it_lapses_after_fifteen_days(registry: Registry) -> None:
    unit = holders_unit(registry)
    objection(registry, unit)
    registry.clock.offset = 16 * DAY
    assert registry.client.list_objections(verified(registry)).objections == []
    records = registry.client.list_records(m.RecordsQuery(verified(registry, HOLDER)))
    assert not next(p for p in records.properties if p.unit_code == unit).objections


def test_the_objector_cancels_their_own_and_cannot_cancel_anothers(registry: Registry) -> None:
    unit = holders_unit(registry)
    objection(registry, unit)
    (standing,) = registry.client.list_objections(verified(registry)).objections
    cancel = {"objection_id": standing.objection_id}
    someone = refusal(
        registry, unit, HOLDER, m.ApplicationType.OBJECTION_CANCELLATION, cancel, False
    )
    assert someone.error == "no_objection"
    done = objection(registry, unit, OBJECTOR, m.ApplicationType.OBJECTION_CANCELLATION, cancel)
    assert done.status is m.CaseStatus.REGISTERED
    assert registry.client.list_objections(verified(registry)).objections == []
    # the same matter for the same reason again: not accepted (实施细则第八十三条)
    assert refusal(registry, unit).error == "objection_repeated"


def test_each_rule_refuses_with_its_reason(registry: Registry) -> None:
    unit = holders_unit(registry)
    assert refusal(registry, unit, HOLDER).error == "is_holder"
    no_evidence = refusal(registry, unit, evidence=False)
    assert no_evidence.error == "invalid" and no_evidence.field == "attachments"
    no_reason = refusal(registry, unit, fields={"interest": "继承人"})
    assert no_reason.error == "invalid" and no_reason.field == "fields.reason"
    objection(registry, unit)
    other_reason = {"interest": "继承人", "reason": "共有情况或份额登记有误"}
    assert refusal(registry, unit, fields=other_reason).error == "objection_exists"
