"""New flats bought from the developer, against the sandbox (the reference gateway): the
contracts a buyer sees and nobody else does, the tax link, and each registration's rules one
missing precondition at a time (refused with its reason, nothing filed), then what each does
to the register once it is registered."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import BackendError
from kiosk.sandbox.seed import (
    DEMO_BANK_ADVANCE,
    DEMO_CONTRACT,
    DEMO_MORTGAGED_HOME,
    DEMO_NEW_HOME,
    DEMO_NOTICE,
    DEMO_NOTICED_HOME,
    SANDBOX_PASSWORD,
)
from tests.backend_fixtures import Registry, signature_jpeg

BUYER, CO_BUYER, STRANGER = DEMO_CARDS[0], DEMO_CARDS[2], DEMO_CARDS[4]
T = m.ApplicationType


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def db(registry: Registry) -> sqlite3.Connection:
    return sqlite3.connect(registry.sandbox.db_path, isolation_level=None)


def contracts(registry: Registry, card: object = BUYER) -> dict[str, m.SaleContract]:
    verification = registry.verify(card.number, card.name)  # type: ignore[attr-defined]
    found = registry.client.list_contracts(verification.verification_id).contracts
    return {c.contract_number: c for c in found}


def unit_of(registry: Registry, contract: str) -> str:
    with db(registry) as conn:
        unit: str = conn.execute(
            "SELECT unit_code FROM presale_contracts WHERE contract_number = ?", (contract,)
        ).fetchone()[0]
    return unit


class Filing:
    """What the kiosk sends for a buyers' sitting: each buyer verified and signing with their
    own hand, a scanned document."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client = registry.client
        scan = self.client.upload_attachment(b"%PDF-1.4 agreement", "application/pdf")
        self.attachments = [scan.attachment_id]

    def sign(self, who: str) -> str:
        image = signature_jpeg(who)
        self.attachments.append(self.client.upload_attachment(image, "image/jpeg").attachment_id)
        return hashlib.sha256(image).hexdigest()

    def party(self, card: object) -> m.Party:
        number, name = card.number, card.name  # type: ignore[attr-defined]
        verification = self.registry.verify(number, name).verification_id
        return m.Party("buyer", verification, self.sign(number), now())

    def body(
        self, kind: m.ApplicationType, contract: str, others: tuple[object, ...] = ()
    ) -> m.Application:
        parties = [self.party(card) for card in others]
        return m.Application(
            kind,
            unit_of(self.registry, contract),
            self.registry.verify().verification_id,
            [m.FieldValue("contract_number", contract)],
            self.attachments,
            [m.Signature("applicant", self.sign("applicant"), now())],
            "",
            parties,
        )

    def file(
        self, kind: m.ApplicationType, contract: str, others: tuple[object, ...] = ()
    ) -> m.Case:
        return self.client.submit_application(self.body(kind, contract, others))


def cases(registry: Registry) -> int:
    with db(registry) as conn:
        count: int = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    return count


def refused(registry: Registry, submit: Callable[[], object]) -> BackendError:
    before = cases(registry)
    with pytest.raises(BackendError) as caught:
        submit()
    assert cases(registry) == before  # nothing filed
    return caught.value


def pay_and_register(registry: Registry, case: m.Case) -> None:
    with db(registry) as conn:  # paid at the kiosk (pay-fee): the review starts
        conn.execute(
            "UPDATE cases SET paid = 1, status = 'in_review' WHERE case_number = ?",
            (case.case_number,),
        )
    registry.control.register_case(case.case_number)


# -- what a buyer sees ------------------------------------------------------------------------


def test_a_buyer_sees_their_contracts_with_the_flat_the_notice_and_the_banks_part(
    registry: Registry,
) -> None:
    found = contracts(registry)
    assert set(found) == {DEMO_CONTRACT, DEMO_NEW_HOME, DEMO_NOTICED_HOME, DEMO_MORTGAGED_HOME}
    assert not found[DEMO_CONTRACT].built and found[DEMO_NEW_HOME].built
    assert found[DEMO_NOTICED_HOME].notice_id == DEMO_NOTICE
    assert found[DEMO_MORTGAGED_HOME].bank and found[DEMO_MORTGAGED_HOME].bank_amount_fen > 0
    shared = found[DEMO_NEW_HOME]
    assert shared.buyers == [BUYER.name, "陈**"] and shared.shares == ["1/2", "1/2"]
    assert shared.buyer_numbers[0] == BUYER.number and CO_BUYER.number not in shared.buyer_numbers


def test_a_co_buyer_sees_only_their_contract_and_a_stranger_none(registry: Registry) -> None:
    seen = contracts(registry, CO_BUYER)
    assert set(seen) == {DEMO_NEW_HOME}
    assert seen[DEMO_NEW_HOME].buyers == ["张**", CO_BUYER.name]
    assert BUYER.number not in seen[DEMO_NEW_HOME].buyer_numbers
    assert contracts(registry, STRANGER) == {}


def test_the_tax_link_answers_a_buyer_and_nobody_else(registry: Registry) -> None:
    client = registry.client
    tax = client.tax_status(registry.verify().verification_id, DEMO_NEW_HOME)
    assert tax.paid and tax.deed_tax_fen == 295_000_000 * 3 // 100 and tax.receipt_number
    unpaid = client.tax_status(registry.verify().verification_id, DEMO_CONTRACT)
    assert not unpaid.paid and not unpaid.receipt_number
    stranger = registry.verify(STRANGER.number, STRANGER.name).verification_id
    with pytest.raises(BackendError) as caught:
        client.tax_status(stranger, DEMO_NEW_HOME)
    assert caught.value.error == "not_found"  # as if there were no such contract


# -- the transfer -----------------------------------------------------------------------------


def test_the_transfer_with_both_buyers_registers_the_flat_to_them_in_their_shares(
    registry: Registry,
) -> None:
    case = Filing(registry).file(T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,))
    assert case.status is m.CaseStatus.AWAITING_PAYMENT and case.fee_fen == 8000
    unit = unit_of(registry, DEMO_NEW_HOME)
    pay_and_register(registry, case)
    with db(registry) as conn:
        holders = conn.execute(
            "SELECT id_number, share FROM holders WHERE unit_code = ? ORDER BY id_number",
            (unit,),
        ).fetchall()
        status = conn.execute(
            "SELECT status FROM presale_contracts WHERE contract_number = ?", (DEMO_NEW_HOME,)
        ).fetchone()[0]
        built = conn.execute(
            "SELECT COUNT(*) FROM first_registrations WHERE unit_code = ?", (unit,)
        ).fetchone()[0]
    assert sorted(holders) == sorted([(BUYER.number, "1/2"), (CO_BUYER.number, "1/2")])
    assert status == "transferred" and built == 0
    # the buyer's own records now hold it, under a certificate of their own
    records = registry.client.list_records(m.RecordsQuery(registry.verify().verification_id))
    record = next(p for p in records.properties if p.unit_code == unit)
    assert "不动产权第" in record.certificate_number and record.shares == ["1/2", "1/2"]
    assert DEMO_NEW_HOME not in contracts(registry)  # done: no longer offered


def test_the_advance_notice_then_its_conversion_to_ownership(registry: Registry) -> None:
    case = Filing(registry).file(T.ADVANCE_TO_OWNERSHIP, DEMO_NOTICED_HOME)
    pay_and_register(registry, case)
    with db(registry) as conn:
        notice = conn.execute(
            "SELECT status FROM advance_notices WHERE notice_id = ?", (DEMO_NOTICE,)
        ).fetchone()[0]
        holder = conn.execute(
            "SELECT id_number FROM holders WHERE unit_code = ?",
            (unit_of(registry, DEMO_NOTICED_HOME),),
        ).fetchall()
    assert notice == "converted" and holder == [(BUYER.number,)]


def test_transfer_and_mortgage_turns_the_banks_advance_notice_into_its_mortgage(
    registry: Registry,
) -> None:
    case = Filing(registry).file(T.NEW_HOME_TRANSFER_MORTGAGE, DEMO_MORTGAGED_HOME)
    assert case.fee_fen == 16000  # two registrations: the transfer and the mortgage
    pay_and_register(registry, case)
    unit = unit_of(registry, DEMO_MORTGAGED_HOME)
    with db(registry) as conn:
        advance = conn.execute(
            "SELECT status FROM advance_mortgages WHERE notice_id = ?", (DEMO_BANK_ADVANCE,)
        ).fetchone()[0]
        mortgage = conn.execute(
            "SELECT bank_code, amount_fen, status FROM mortgages WHERE unit_code = ?", (unit,)
        ).fetchall()
    assert advance == "converted" and mortgage == [("BOC-JN", 180_000_000, "active")]


def test_the_bank_prints_the_proof_of_the_mortgage_the_buyers_transfer_converted(
    registry: Registry, tmp_path: Path
) -> None:
    """The bank's part was on file; the buyers filed the transfer with it: once registered,
    the mortgage's proof is on the bank's workbench as for its own filings (no other bank's)."""
    from tests.journey_steps import pdf_text

    case = Filing(registry).file(T.NEW_HOME_TRANSFER_MORTGAGE, DEMO_MORTGAGED_HOME)
    client = registry.client
    boc = client.operator_login(m.OperatorLogin("BOC-JN", "op02", SANDBOX_PASSWORD))
    assert case.case_number not in [
        c.case_number for c in client.list_operator_cases(boc.operator_token).cases
    ]  # not before it is registered
    pay_and_register(registry, case)
    listed = client.list_operator_cases(boc.operator_token).cases
    assert case.case_number in [c.case_number for c in listed]
    path = tmp_path / "proof.pdf"
    path.write_bytes(client.registration_proof(case.case_number, boc.operator_token))
    text = pdf_text(path)
    assert "中国银行济南分行" in text and "1,800,000 元" in text and "张**" in text
    assert BUYER.name not in text
    icbc = client.operator_login(m.OperatorLogin("ICBC-NJ", "op01", SANDBOX_PASSWORD))
    assert case.case_number not in [
        c.case_number for c in client.list_operator_cases(icbc.operator_token).cases
    ]
    with pytest.raises(BackendError) as caught:
        client.registration_proof(case.case_number, icbc.operator_token)
    assert caught.value.error == "not_found"


def test_an_advance_notice_filed_then_cancelled_with_the_rescission(registry: Registry) -> None:
    case = Filing(registry).file(T.ADVANCE_NOTICE, DEMO_CONTRACT)
    assert case.fee_fen == 0 and case.status is m.CaseStatus.IN_REVIEW
    registry.control.register_case(case.case_number)
    assert contracts(registry)[DEMO_CONTRACT].notice_id
    error = refused(registry, lambda: Filing(registry).file(T.ADVANCE_NOTICE, DEMO_CONTRACT))
    assert error.error == "notice_exists"
    cancel = Filing(registry).file(T.ADVANCE_NOTICE_CANCELLATION, DEMO_CONTRACT)
    registry.control.register_case(cancel.case_number)
    assert DEMO_CONTRACT not in contracts(registry)  # rescinded: closed
    with db(registry) as conn:
        (status,) = conn.execute(
            "SELECT status FROM advance_notices WHERE contract_number = ?", (DEMO_CONTRACT,)
        ).fetchone()
    assert status == "cancelled"


# -- each precondition missing ----------------------------------------------------------------


def _unpaid(registry: Registry) -> None:
    with db(registry) as conn:
        conn.execute("UPDATE deed_taxes SET receipt_number = '', paid_on = ''")


def _seized(registry: Registry) -> None:
    with db(registry) as conn:
        conn.execute(
            "INSERT INTO seizures VALUES (?, '南京市鼓楼区人民法院', '2026-11-01')",
            (unit_of(registry, DEMO_NEW_HOME),),
        )


def _transferred(registry: Registry) -> None:
    with db(registry) as conn:
        conn.execute(
            "UPDATE presale_contracts SET status = 'transferred' WHERE contract_number = ?",
            (DEMO_NEW_HOME,),
        )


def _nothing(_registry: Registry) -> None:
    pass


@pytest.mark.parametrize(
    ("kind", "contract", "others", "before", "error"),
    [
        # a co-buyer not there; a stranger signing as a buyer
        (T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (), _nothing, "missing_party"),
        (T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER, STRANGER), _nothing, "not_buyer"),
        (T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,), _unpaid, "tax_unpaid"),
        (T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,), _seized, "seized"),
        (T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,), _transferred, "contract_closed"),
        (T.NEW_HOME_TRANSFER, DEMO_CONTRACT, (), _nothing, "not_built"),
        (T.NEW_HOME_TRANSFER, DEMO_NOTICED_HOME, (), _nothing, "notice_on_file"),
        (T.NEW_HOME_TRANSFER, DEMO_MORTGAGED_HOME, (), _nothing, "bank_part_on_file"),
        (T.ADVANCE_TO_OWNERSHIP, DEMO_NEW_HOME, (CO_BUYER,), _nothing, "no_notice"),
        (T.ADVANCE_TO_OWNERSHIP, DEMO_NOTICED_HOME, (), _unpaid, "tax_unpaid"),
        (T.NEW_HOME_TRANSFER_MORTGAGE, DEMO_NEW_HOME, (CO_BUYER,), _nothing, "no_bank_part"),
        (T.ADVANCE_NOTICE, DEMO_NEW_HOME, (CO_BUYER,), _nothing, "already_built"),
        (T.ADVANCE_NOTICE_CANCELLATION, DEMO_NEW_HOME, (CO_BUYER,), _nothing, "no_notice"),
    ],
)
def test_each_missing_precondition_is_refused_with_its_reason(
    registry: Registry,
    kind: m.ApplicationType,
    contract: str,
    others: tuple[object, ...],
    before: Callable[[Registry], None],
    error: str,
) -> None:
    before(registry)
    filing = Filing(registry)
    refusal = refused(registry, lambda: filing.file(kind, contract, others))
    assert refusal.error == error, refusal
    if error == "missing_party":  # named, masked
        assert "陈**" in str(refusal) and CO_BUYER.name not in str(refusal)


def test_a_contract_of_another_unit_and_a_cancellation_without_the_rescission(
    registry: Registry,
) -> None:
    filing = Filing(registry)
    body = filing.body(T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,))
    wrong = m.Application(
        body.type,
        unit_of(registry, DEMO_NOTICED_HOME),
        body.verification_id,
        body.fields,
        body.attachments,
        body.signatures,
        "",
        body.parties,
    )
    assert refused(registry, lambda: filing.client.submit_application(wrong)).error == "no_contract"
    bare = Filing(registry)
    bare.attachments.clear()  # only the signature: no rescission agreement
    refusal = refused(registry, lambda: bare.file(T.ADVANCE_NOTICE_CANCELLATION, DEMO_NOTICED_HOME))
    assert refusal.error == "invalid" and refusal.field == "attachments"


def test_a_stranger_cannot_file_on_someone_elses_contract(registry: Registry) -> None:
    filing = Filing(registry)
    body = filing.body(T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,))
    stranger = registry.verify(STRANGER.number, STRANGER.name).verification_id
    taken = m.Application(
        body.type,
        body.unit_code,
        stranger,
        body.fields,
        body.attachments,
        body.signatures,
        "",
        body.parties,
    )
    assert refused(registry, lambda: filing.client.submit_application(taken)).error == "not_buyer"


def test_the_bank_is_offered_only_the_flat_still_in_pre_sale(registry: Registry) -> None:
    """A built flat is transferred first and mortgaged after (or with 转移并抵押): the bank's
    advance-notice mortgage is for a flat in pre-sale only."""
    from tests.test_bank_api import authorize, login

    session = login(registry)
    _verification, auth = authorize(
        registry, session.operator_token, m.ApplicationType.ADVANCE_MORTGAGE
    )
    records = registry.client.bank_records(auth.authorization_id, operator=session.operator_token)
    assert [c.contract_number for c in records.contracts] == [DEMO_CONTRACT]
