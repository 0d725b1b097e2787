"""What each registration issues, as print-certificate gets it from the registry: a title for
the buyers of a new flat (in their shares), a registration proof for an advance notice (the
buyers' right, the developer bound) and for an objection (its objector's, the holders masked),
nothing for a cancellation — and an objection's case is its objector's, not the holder's."""

from __future__ import annotations

import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import BackendError
from kiosk.documents.certificate_overlay import co_ownership
from kiosk.flows.choices import progress
from kiosk.sandbox.seed import DEMO_CONTRACT, DEMO_NEW_HOME, DEVELOPER
from tests.backend_fixtures import Registry
from tests.test_new_home_rules import Filing, pay_and_register
from tests.test_objections import HOLDER, OBJECTOR, holders_unit, objection, verified

BUYER, CO_BUYER = DEMO_CARDS[0], DEMO_CARDS[2]
T = m.ApplicationType


def data(registry: Registry, case: str, card: object = BUYER) -> m.CertificateData:
    return registry.client.certificate_data(case, verified(registry, card))


def test_a_new_flat_transferred_issues_its_buyers_a_title_in_their_shares(
    registry: Registry,
) -> None:
    case = Filing(registry).file(T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,))
    assert case.issues == "certificate"
    pay_and_register(registry, case)
    title = data(registry, case.case_number)
    assert title.kind == "certificate" and "不动产权第" in title.certificate_number
    assert sorted(title.holders) == sorted([BUYER.name, CO_BUYER.name])
    assert title.shares == ["1/2", "1/2"]
    stated = co_ownership(title.holders, title.shares)
    assert stated.startswith("按份共有") and f"{BUYER.name}占1/2" in stated
    assert data(registry, case.case_number, CO_BUYER).case_number == case.case_number


def test_an_advance_notice_issues_a_proof_of_the_buyers_right(registry: Registry) -> None:
    case = Filing(registry).file(T.ADVANCE_NOTICE, DEMO_CONTRACT)
    assert case.issues == "proof"
    registry.control.register_case(case.case_number)
    proof = data(registry, case.case_number)
    fields = {f.name: f.value for f in proof.fields}
    assert proof.kind == "proof" and proof.certificate_number.startswith("不动产证明第")
    assert fields["matter"] == "预告登记" and fields["holder"] == BUYER.name
    assert fields["obligors"] == DEVELOPER and DEMO_CONTRACT in fields["other"]
    assert proof.holders == [BUYER.name]


def test_an_objection_issues_its_objector_a_proof_and_the_holder_cannot_open_it(
    registry: Registry,
) -> None:
    unit = holders_unit(registry)
    case = objection(registry, unit)
    proof = data(registry, case.case_number, OBJECTOR)
    fields = {f.name: f.value for f in proof.fields}
    assert fields["matter"] == "异议登记" and fields["holder"] == OBJECTOR.name
    assert HOLDER.name not in fields["obligors"] and "张**" in fields["obligors"]
    assert "异议登记期间" in fields["other"]
    for attempt in (
        lambda: registry.client.certificate_data(case.case_number, verified(registry, HOLDER)),
        lambda: registry.client.get_case(case.case_number, verified(registry, HOLDER)),
    ):
        with pytest.raises(BackendError) as caught:
            attempt()
        assert caught.value.error == "not_found"  # the objector's case, not the holder's


def test_a_cancellation_issues_nothing_to_print(registry: Registry) -> None:
    unit = holders_unit(registry)
    objection(registry, unit)
    (standing,) = registry.client.list_objections(verified(registry)).objections
    cancel = objection(
        registry,
        unit,
        OBJECTOR,
        T.OBJECTION_CANCELLATION,
        {"objection_id": standing.objection_id},
    )
    assert cancel.status is m.CaseStatus.REGISTERED and cancel.issues == ""
    with pytest.raises(BackendError) as caught:
        data(registry, cancel.case_number, OBJECTOR)
    assert caught.value.error == "nothing_issued"
    zh = progress(cancel)
    assert zh[0] == "已办结" and "无需领取" in zh[2]
