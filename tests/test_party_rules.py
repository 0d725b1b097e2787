"""The registry's rules for an application made by several in person (个人之间抵押), tried
against the sandbox — the reference gateway — one missing precondition at a time: each is
refused with its reason, and nothing is filed."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import BackendError
from kiosk.sandbox.seed import DEMO_SHARED_UNIT
from tests.backend_fixtures import Registry, signature_jpeg

APPLICANT, CO_OWNER, LENDER, STRANGER = DEMO_CARDS[0], DEMO_CARDS[2], DEMO_CARDS[4], DEMO_CARDS[1]
TERMS = [
    m.FieldValue("debtor", "张建国"),
    m.FieldValue("mortgage_type", "一般抵押"),
    m.FieldValue("amount", "500000"),
    m.FieldValue("term_from", "20261201"),
    m.FieldValue("term_to", "20291130"),
]


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Sitting:
    """What the kiosk sends for a sitting: each person's verification, their own signature
    uploaded, the loan contract's scan."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client = registry.client
        self.attachments: list[str] = []
        contract = self.client.upload_attachment(b"%PDF-1.4 contract", "application/pdf")
        self.attachments.append(contract.attachment_id)

    def verify(self, card: object) -> str:
        number, name = getattr(card, "number"), getattr(card, "name")  # noqa: B009
        return self.registry.verify(number, name).verification_id

    def sign(self, who: str) -> str:
        image = signature_jpeg(who)
        self.attachments.append(self.client.upload_attachment(image, "image/jpeg").attachment_id)
        return hashlib.sha256(image).hexdigest()

    def party(self, role: str, card: object, signature: str | None = None) -> m.Party:
        return m.Party(role, self.verify(card), signature or self.sign(str(card)), now())

    def application(self, parties: list[m.Party], **changes: object) -> m.Application:
        applicant = m.Signature("applicant", self.sign("applicant"), now())
        body = m.Application(
            m.ApplicationType.PRIVATE_MORTGAGE,
            DEMO_SHARED_UNIT,
            self.verify(APPLICANT),
            list(TERMS),
            self.attachments,
            [applicant],
            "",
            parties,
        )
        return replace(body, **changes)  # type: ignore[arg-type]

    def submit(self, body: m.Application) -> m.Case:
        return self.client.submit_application(body)


def cases(registry: Registry) -> int:
    with sqlite3.connect(registry.sandbox.db_path) as conn:
        count: int = conn.execute(
            "SELECT COUNT(*) FROM cases WHERE type = 'private_mortgage'"
        ).fetchone()[0]
        return count


def refused(registry: Registry, submit: Callable[[], object]) -> BackendError:
    before = cases(registry)
    with pytest.raises(BackendError) as caught:
        submit()
    assert cases(registry) == before  # nothing filed
    return caught.value


def test_with_every_holder_and_the_lender_it_is_filed(registry: Registry) -> None:
    sitting = Sitting(registry)
    body = sitting.application(
        [sitting.party("mortgagor", CO_OWNER), sitting.party("mortgagee", LENDER)]
    )
    case = sitting.submit(body)
    assert case.type is m.ApplicationType.PRIVATE_MORTGAGE
    assert case.status is m.CaseStatus.AWAITING_PAYMENT and case.fee_fen == 8000


def test_a_co_owner_missing_is_refused_naming_them_masked(registry: Registry) -> None:
    sitting = Sitting(registry)
    body = sitting.application([sitting.party("mortgagee", LENDER)])
    error = refused(registry, lambda: sitting.submit(body))
    assert error.error == "missing_party" and "陈**" in str(error)
    assert CO_OWNER.name not in str(error)


def test_no_lender_is_refused(registry: Registry) -> None:
    sitting = Sitting(registry)
    body = sitting.application([sitting.party("mortgagor", CO_OWNER)])
    assert refused(registry, lambda: sitting.submit(body)).error == "missing_party"


def test_a_holder_cannot_lend_against_their_own_flat(registry: Registry) -> None:
    sitting = Sitting(registry)
    # the co-owner named as the lender: every holder is not there as a mortgagor either
    with sqlite3.connect(registry.sandbox.db_path) as conn:
        conn.execute(
            "INSERT INTO holders (unit_code, id_number, share) VALUES (?, ?, '')",
            (DEMO_SHARED_UNIT, LENDER.number),
        )
    body = sitting.application(
        [sitting.party("mortgagor", CO_OWNER), sitting.party("mortgagee", LENDER)]
    )
    assert refused(registry, lambda: sitting.submit(body)).error == "mortgagee_is_holder"


def test_a_mortgagor_who_holds_nothing_here_is_refused(registry: Registry) -> None:
    sitting = Sitting(registry)
    body = sitting.application(
        [
            sitting.party("mortgagor", CO_OWNER),
            sitting.party("mortgagor", LENDER),
            sitting.party("mortgagee", LENDER),
        ]
    )
    # the lender twice is caught first: one person is never two parties
    assert refused(registry, lambda: sitting.submit(body)).error == "party_twice"


def test_the_applicant_cannot_also_be_a_party(registry: Registry) -> None:
    sitting = Sitting(registry)
    body = sitting.application(
        [sitting.party("mortgagor", APPLICANT), sitting.party("mortgagee", LENDER)]
    )
    assert refused(registry, lambda: sitting.submit(body)).error == "party_twice"


def test_one_signature_for_two_parties_is_refused(registry: Registry) -> None:
    sitting = Sitting(registry)
    shared = sitting.sign("one hand")
    body = sitting.application(
        [
            sitting.party("mortgagor", CO_OWNER, shared),
            sitting.party("mortgagee", LENDER, shared),
        ]
    )
    error = refused(registry, lambda: sitting.submit(body))
    assert error.error == "signature_reused" and error.field == "parties[1]"


def test_a_party_whose_face_did_not_match_is_refused(registry: Registry) -> None:
    sitting = Sitting(registry)
    body = sitting.application(
        [sitting.party("mortgagor", CO_OWNER), sitting.party("mortgagee", STRANGER)]
    )
    assert refused(registry, lambda: sitting.submit(body)).error == "not_verified"


def test_a_partys_verification_that_expired_before_they_signed_is_refused(
    registry: Registry,
) -> None:
    sitting = Sitting(registry)
    lender = sitting.party("mortgagee", LENDER)
    registry.clock.offset = 16 * 60  # the lender signs 16 minutes after their face check
    try:
        late = replace(
            lender, signed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(registry.clock()))
        )
        body = sitting.application([sitting.party("mortgagor", CO_OWNER), late])
        assert refused(registry, lambda: sitting.submit(body)).error == "expired"
    finally:
        registry.clock.offset = 0


def test_a_seized_flat_is_refused(registry: Registry) -> None:
    with sqlite3.connect(registry.sandbox.db_path) as conn:
        conn.execute(
            "INSERT INTO seizures VALUES (?, '某区人民法院', '2026-11-30')", (DEMO_SHARED_UNIT,)
        )
    sitting = Sitting(registry)
    body = sitting.application(
        [sitting.party("mortgagor", CO_OWNER), sitting.party("mortgagee", LENDER)]
    )
    assert refused(registry, lambda: sitting.submit(body)).error == "seized"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "fields.amount"),
        ({"amount": ""}, "fields.amount"),
        ({"term_to": "20251130"}, "fields.term_to"),
    ],
)
def test_the_terms_are_required_and_sound(
    registry: Registry, change: dict[str, str], field: str
) -> None:
    sitting = Sitting(registry)
    terms = [m.FieldValue(f.name, change.get(f.name, f.value)) for f in TERMS]
    body = sitting.application(
        [sitting.party("mortgagor", CO_OWNER), sitting.party("mortgagee", LENDER)], fields=terms
    )
    error = refused(registry, lambda: sitting.submit(body))
    assert error.status == 400 and error.field == field


def test_without_the_loan_contract_it_is_refused(registry: Registry) -> None:
    sitting = Sitting(registry)
    sitting.attachments.clear()  # only the signatures
    body = sitting.application(
        [sitting.party("mortgagor", CO_OWNER), sitting.party("mortgagee", LENDER)]
    )
    error = refused(registry, lambda: sitting.submit(body))
    assert error.field == "attachments" and "contract" in str(error)


def test_parties_on_an_application_of_one_are_refused(registry: Registry) -> None:
    sitting = Sitting(registry)
    body = sitting.application(
        [sitting.party("mortgagee", LENDER)],
        type=m.ApplicationType.ADDRESS_CHANGE,
        fields=[m.FieldValue("new_address", "山东省济南市历下区泉城路1号")],
    )
    error = refused(registry, lambda: sitting.submit(body))
    assert error.status == 400 and error.field == "parties"


def test_an_unknown_role_is_refused(registry: Registry) -> None:
    sitting = Sitting(registry)
    body = sitting.application(
        [sitting.party("mortgagor", CO_OWNER), sitting.party("buyer", LENDER)]
    )
    error = refused(registry, lambda: sitting.submit(body))
    assert error.status == 400 and error.field == "parties[1].role"
