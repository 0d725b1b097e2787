"""Who may call each route for whose data, tried as someone else: another kiosk, another
verified person, an operator's witness on a citizen's route, a maker filing alone. Each test
here failed on the contract before these rules (case numbers opened cases, orders and refunds
answered any kiosk, a witness opened records, the draft's own flag decided maker-checker)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.backend import models as m
from kiosk.backend.client import ClientSettings, RegistryClient
from kiosk.backend.errors import BackendConflict, BackendNotFound, BackendUnauthorized
from kiosk.sandbox.handlers import ENROLMENT_CODE
from kiosk.sandbox.seed import DEMO_NEW_HOME, DEMO_SHARED_UNIT, SANDBOX_PASSWORD
from tests.backend_fixtures import DEMO, Registry, signed
from tests.test_bank_api import LOAN, SIGNED, application, authorize, draft, login

DUE = "YW20261101000001"  # the demo holder's case awaiting its fee
READY = "YW20261101000002"  # the demo holder's registered case


@pytest.fixture
def other_kiosk(registry: Registry) -> Iterator[RegistryClient]:
    """A second kiosk of the same centre, with its own token."""
    client = RegistryClient(ClientSettings(registry.sandbox.url, read_timeout_s=2.0))
    client.register("KIOSK-TEST-02", ENROLMENT_CODE)
    try:
        yield client
    finally:
        client.close()


def stranger(registry: Registry) -> str:
    """A verification of another person (a resident with no part in the demo's cases), at
    the test kiosk: as if they had passed the face check there a moment ago."""
    conn = sqlite3.connect(registry.sandbox.db_path)
    with conn:
        number = conn.execute(
            "SELECT id_number FROM people WHERE id_number != ? AND id_number NOT IN "
            "(SELECT id_number FROM holders h JOIN cases c USING (unit_code) "
            "WHERE c.case_number IN (?, ?)) AND length(id_number) = 18 LIMIT 1",
            (DEMO.number, DUE, READY),
        ).fetchone()[0]
        verification_id = f"V-STRANGER-{number[-4:]}"
        conn.execute(
            "INSERT INTO verifications VALUES (?, ?, 'verified', 'KIOSK-TEST-01', ?)",
            (verification_id, number, registry.clock()),
        )
    conn.close()
    return verification_id


def witnessed(registry: Registry, operator: str = "op01") -> tuple[str, str]:
    """The demo holder, checked in person by an operator of BOC-JN: (verification, token)."""
    token = login(registry, operator).operator_token
    verification = registry.client.witness_identity(
        m.WitnessIdentity(
            DEMO.number,
            DEMO.name,
            m.CardType.RESIDENT,
            hashlib.sha256(b"checked in person").hexdigest(),
            SIGNED,
        ),
        operator=token,
    )
    assert verification.result is m.VerifyResult.VERIFIED
    return verification.verification_id, token


# -- a verification: its kiosk, its person, its purpose --------------------------------------


def test_an_operators_witness_never_opens_a_citizens_route(registry: Registry) -> None:
    witness, _ = witnessed(registry)
    client = registry.client
    unit = client.list_records(m.RecordsQuery(registry.verify().verification_id)).properties[0]
    attempts: dict[str, Callable[[], object]] = {
        "records": lambda: client.list_records(m.RecordsQuery(witness)),
        "cases": lambda: client.list_cases(witness),
        "case": lambda: client.get_case(DUE, witness),
        "query": lambda: client.create_query(m.CreateQuery(witness, m.QueryKind.OWN, "自查")),
        "order": lambda: client.create_order(
            m.CreateOrder("CASE-W-000001", m.OrderKind.CASE, DUE, m.Channel.WECHAT, witness)
        ),
        "name change": lambda: client.submit_application(
            m.Application(
                m.ApplicationType.NAME_CHANGE,
                unit.unit_code,
                witness,
                [m.FieldValue("new_name", "张建华")],
                [],
                [m.Signature("applicant", "ab" * 32, SIGNED)],
            )
        ),
        "mailing": lambda: client.request_delivery(
            READY,
            m.DeliveryRequest(witness, m.DeliveryMethod.EMS, DEMO.name, "13800138000", "济南"),
        ),
        "certificate data": lambda: client.certificate_data(READY, witness),
        "sale contracts": lambda: client.list_contracts(witness),
        "tax status": lambda: client.tax_status(witness, DEMO_NEW_HOME),
        "unit lookup": lambda: client.lookup_unit(witness, unit.unit_code),
        "objections": lambda: client.list_objections(witness),
    }
    for name, attempt in attempts.items():
        with pytest.raises(BackendUnauthorized) as refused:
            attempt()
        assert refused.value.error == "not_authorized", name


def test_a_witness_serves_only_the_operator_who_gave_it(registry: Registry) -> None:
    witness, _ = witnessed(registry, "op01")
    colleague = login(registry, "op02").operator_token  # same bank, another operator
    _, sig = signed(registry.client, "authorization")
    with pytest.raises(BackendUnauthorized):
        registry.client.authorize_bank(
            m.BankAuthorizationRequest(
                witness, m.ApplicationType.MORTGAGE_CANCELLATION, sig.image_sha256, SIGNED
            ),
            operator=colleague,
        )


def test_a_verification_at_one_kiosk_opens_nothing_at_another(
    registry: Registry, other_kiosk: RegistryClient
) -> None:
    verification = registry.verify().verification_id
    for attempt in (
        lambda: other_kiosk.list_records(m.RecordsQuery(verification)),
        lambda: other_kiosk.get_case(DUE, verification),
        lambda: other_kiosk.certificate_data(READY, verification),
        lambda: other_kiosk.list_contracts(verification),
        lambda: other_kiosk.tax_status(verification, DEMO_NEW_HOME),
        lambda: other_kiosk.lookup_unit(verification, DEMO_SHARED_UNIT),
        lambda: other_kiosk.list_objections(verification),
    ):
        with pytest.raises(BackendNotFound):
            attempt()


# -- cases: their holder, not whoever knows the number ---------------------------------------


def test_a_case_number_alone_opens_nothing(registry: Registry) -> None:
    someone = stranger(registry)
    for attempt in (
        lambda: registry.client.get_case(DUE, someone),
        lambda: registry.client.certificate_data(READY, someone),
        lambda: registry.client.create_order(
            m.CreateOrder("CASE-S-000001", m.OrderKind.CASE, DUE, m.Channel.WECHAT, someone)
        ),
    ):
        with pytest.raises(BackendNotFound):  # as for a case that does not exist
            attempt()
    mine = registry.verify().verification_id
    assert registry.client.get_case(DUE, mine).case_number == DUE


def test_a_sheet_is_reported_only_by_the_kiosk_that_printed_it(
    registry: Registry, other_kiosk: RegistryClient
) -> None:
    report = m.PaperReport(READY, "Z0000001", m.PaperOutcome.SPOILED)
    with pytest.raises(BackendNotFound):  # nobody fetched the data to print
        registry.client.report_paper(report)
    registry.client.certificate_data(READY, registry.verify().verification_id)
    with pytest.raises(BackendNotFound):  # another kiosk cannot account for this one's paper
        other_kiosk.report_paper(report)
    assert registry.client.report_paper(report).outcome is m.PaperOutcome.SPOILED


# -- payments: their kiosk and their payer ---------------------------------------------------


def test_an_order_belongs_to_its_kiosk_and_its_payer(
    registry: Registry, other_kiosk: RegistryClient
) -> None:
    payer = registry.verify().verification_id
    order = registry.client.create_order(
        m.CreateOrder("CASE-P-000001", m.OrderKind.CASE, DUE, m.Channel.WECHAT, payer)
    )
    registry.control.pay(order.order_id)
    refund = m.RefundRequest("RF-P-000001", order.amount_fen, "print failed", payer)
    for attempt in (
        lambda: other_kiosk.get_order(order.order_id),
        lambda: other_kiosk.cancel_order(order.order_id),
        lambda: other_kiosk.order_receipt(order.order_id),
        lambda: other_kiosk.refund_order(order.order_id, refund),
        # the same person's reference from another kiosk is another payment, not this one
        lambda: other_kiosk.create_order(
            m.CreateOrder("CASE-P-000001", m.OrderKind.CASE, DUE, m.Channel.WECHAT, payer)
        ),
    ):
        with pytest.raises((BackendNotFound, BackendConflict)):
            attempt()
    someone = stranger(registry)
    with pytest.raises(BackendNotFound):  # another person at the same kiosk
        registry.client.refund_order(
            order.order_id, m.RefundRequest("RF-P-000002", order.amount_fen, "x", someone)
        )
    assert registry.client.get_order(order.order_id).status is m.OrderStatus.SUCCESS


def test_a_refunded_query_is_charged_again(registry: Registry) -> None:
    registry.sandbox.set_setting("query_fee_ownership", 500)
    payer = registry.verify().verification_id
    query = registry.client.create_query(m.CreateQuery(payer, m.QueryKind.OWNERSHIP, "子女入学"))
    order = registry.client.create_order(
        m.CreateOrder(
            f"Q-{query.query_id}", m.OrderKind.QUERY, query.query_id, m.Channel.WECHAT, payer
        )
    )
    registry.control.pay(order.order_id)
    assert registry.client.query_certificate(query.query_id).startswith(b"%PDF")
    registry.client.refund_order(order.order_id, m.RefundRequest("RF-Q-000001", 500, "x", payer))
    with pytest.raises(BackendConflict) as unpaid:
        registry.client.query_certificate(query.query_id)
    assert unpaid.value.error == "unpaid"


# -- maker-checker: the registry's rule, not the draft's flag --------------------------------


def test_a_maker_cannot_file_a_reviewed_type_alone(registry: Registry) -> None:
    token = login(registry, "op01").operator_token
    verification, auth = authorize(registry, token, m.ApplicationType.MORTGAGE_FIRST)
    client = registry.client
    units = client.bank_records(auth.authorization_id, operator=token).properties
    app = application(
        registry, verification, m.ApplicationType.MORTGAGE_FIRST, units[0].unit_code, LOAN
    )
    draft_id = "D-ALONE-" + str(int(time.time()))
    # the maker says no review is needed; the registry's rule for BOC-JN says otherwise
    saved = client.save_draft(
        draft_id,
        draft(m.ApplicationType.MORTGAGE_FIRST, auth.authorization_id, app, False),
        operator=token,
    )
    assert saved.review_required
    with pytest.raises(BackendConflict) as alone:
        client.submit_draft(draft_id, operator=token)
    assert alone.value.error == "review_required"
    with pytest.raises(BackendConflict) as own:
        client.approve_draft(draft_id, operator=token)
    assert own.value.error == "same_operator"
    checker = client.operator_login(m.OperatorLogin("BOC-JN", "op02", SANDBOX_PASSWORD))
    case = client.approve_draft(draft_id, operator=checker.operator_token)
    assert case.case_number


# -- the audit chain the registry holds ------------------------------------------------------


def test_the_registry_keeps_the_chain_it_was_sent(
    registry: Registry, tmp_path: Path, other_kiosk: RegistryClient
) -> None:
    from kiosk.audit import AuditLog

    log = AuditLog(tmp_path / "audit.db")
    for i in range(3):
        log.record("kiosk", "print.receipt", "printed", action_id=f"a{i}")
    entries = [
        m.AuditEntry(
            r.seq, r.at, r.actor, r.action, r.outcome, json.dumps(r.fields), r.prev, r.hash
        )
        for r in log.records()
    ]
    log.close()
    ack = registry.client.call("upload_audit", m.AuditBatch(entries))
    assert (ack.last_seq, ack.last_hash) == (3, entries[-1].hash)  # the head it holds
    again = registry.client.call("upload_audit", m.AuditBatch(entries))  # a repeat: the same
    assert again.last_hash == entries[-1].hash
    rewritten = dataclasses.replace(entries[1], outcome="failed", hash="e" * 64)
    with pytest.raises(BackendConflict) as caught:  # rewritten after it was shipped
        registry.client.call("upload_audit", m.AuditBatch([rewritten]))
    assert caught.value.error == "chain_rewritten"
    stray = m.AuditEntry(4, entries[0].at, "kiosk", "x", "ok", "{}", "d" * 64, "c" * 64)
    with pytest.raises(BackendConflict) as cut:  # does not follow record 3
        registry.client.call("upload_audit", m.AuditBatch([stray]))
    assert cut.value.error == "chain_broken"
    # another kiosk's chain is its own
    assert other_kiosk.call("upload_audit", m.AuditBatch(entries[:1])).last_seq == 1
