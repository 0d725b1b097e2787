"""The real client against the real sandbox over HTTP: every route, and its errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
import sqlite3

import cv2
import numpy as np
import pytest
import requests

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.api import CONTRACT_ROUTES, OPENAPI_FILE, openapi_text
from kiosk.backend.client import ClientSettings, RegistryClient, new_key
from kiosk.backend.errors import (
    BackendConflict,
    BackendNotFound,
    BackendRejected,
    BackendServerError,
    BackendTimeout,
    BackendUnauthorized,
    BackendUnreachable,
)
from kiosk.identifiers import make_id_number
from kiosk.sandbox.seed import DEMO_AUTHORIZATION, DEMO_FORMER_NAME, SANDBOX_PASSWORD
from tests.backend_fixtures import DEMO, Registry, signed

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def blank_jpeg() -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((160, 480), 255, np.uint8))
    assert ok
    return bytes(data)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


DEMO_CASE_DUE = "YW20261101000001"  # the demo holder's case awaiting its fee (seeded)


# -- kiosk identity and health ----------------------------------------------------------------


def test_register_is_stable_and_needs_the_enrolment_code(registry: Registry) -> None:
    again = RegistryClient(ClientSettings(registry.sandbox.url))
    assert again.register("KIOSK-TEST-01", "SANDBOX-ENROL").token == registry.client.token
    with pytest.raises(BackendUnauthorized):
        again.register("KIOSK-TEST-02", "guess")


def test_heartbeat_and_an_unknown_token(registry: Registry) -> None:
    ack = registry.client.heartbeat(
        m.Heartbeat("0.1.0", "hall", [m.DeviceState("receipt", "ready", [])], 0)
    )
    assert ack.server_time.endswith("Z")
    stranger = RegistryClient(ClientSettings(registry.sandbox.url), token="nope")
    with pytest.raises(BackendUnauthorized) as caught:
        stranger.heartbeat(m.Heartbeat("0.1.0", "hall"))
    assert caught.value.status == 401


# -- identity ---------------------------------------------------------------------------------


def test_verify_identity_outcomes(registry: Registry) -> None:
    assert registry.verify().result is m.VerifyResult.VERIFIED
    assert registry.verify(name="李四").result is m.VerifyResult.NOT_VERIFIED
    refused = registry.client.verify_identity(
        m.VerifyIdentity(
            DEMO.number, DEMO.name, m.CardType.RESIDENT, registry_face(), m.Liveness("blink", False)
        )
    )
    assert refused.result is m.VerifyResult.NOT_VERIFIED and "liveness" in refused.reason


def registry_face() -> str:
    from tests.backend_fixtures import face_jpeg

    return face_jpeg()


def test_verify_identity_rejects_bad_input_with_the_field(registry: Registry) -> None:
    with pytest.raises(BackendRejected) as caught:
        registry.verify(number="110105194912310021")
    assert caught.value.status == 400 and caught.value.field == "id_number"
    with pytest.raises(BackendRejected) as caught:
        registry.client.verify_identity(
            m.VerifyIdentity(
                DEMO.number, DEMO.name, m.CardType.RESIDENT, "aGVsbG8=", m.Liveness("blink", True)
            )
        )
    assert caught.value.field == "face_jpeg_b64"


# -- records and query certificates -----------------------------------------------------------


def test_own_records_and_ownership(registry: Registry) -> None:
    verification = registry.verify().verification_id
    own = registry.client.list_records(m.RecordsQuery(verification))
    assert own.owns_property and len(own.properties) >= 2
    assert any(p.mortgages for p in own.properties)
    mine = (DEMO.name, DEMO_FORMER_NAME)  # one unit is still registered under the former name
    for record in own.properties:
        assert any(name in record.holders for name in mine)  # the person sees their own name
        assert all(h in mine or "*" in h for h in record.holders)  # others are masked
    proof = registry.client.list_records(m.RecordsQuery(verification, m.QueryKind.OWNERSHIP))
    assert proof.owns_property and proof.properties == []


def test_unit_records_need_the_holders_authorization(registry: Registry) -> None:
    verification = registry.verify().verification_id
    unit = registry.client.list_records(m.RecordsQuery(verification)).properties[0].unit_code
    with pytest.raises(BackendConflict) as caught:
        registry.client.list_records(m.RecordsQuery(verification, m.QueryKind.UNIT, unit, "X"))
    assert caught.value.error == "not_authorized"
    ok = registry.client.list_records(
        m.RecordsQuery(verification, m.QueryKind.UNIT, unit, DEMO_AUTHORIZATION)
    )
    assert [p.unit_code for p in ok.properties] == [unit]
    with pytest.raises(BackendRejected):
        registry.client.list_records(
            m.RecordsQuery(verification, m.QueryKind.UNIT, "320684", DEMO_AUTHORIZATION)
        )


def test_records_need_a_verified_person(registry: Registry) -> None:
    failed = registry.verify(name="王五").verification_id
    with pytest.raises(BackendConflict):
        registry.client.list_records(m.RecordsQuery(failed))
    with pytest.raises(BackendNotFound):
        registry.client.list_records(m.RecordsQuery("V0000"))


def test_an_expired_verification_is_refused(registry: Registry) -> None:
    verification = registry.verify().verification_id
    registry.clock.offset = 16 * 60
    try:
        with pytest.raises(BackendConflict) as caught:
            registry.client.list_records(m.RecordsQuery(verification))
        assert caught.value.error == "expired"
    finally:
        registry.clock.offset = 0


def test_free_query_certificate_and_its_verification_code(registry: Registry) -> None:
    verification = registry.verify().verification_id
    result = registry.client.create_query(
        m.CreateQuery(verification, m.QueryKind.OWN, "购房资格审查")
    )
    assert result.fee_fen == 0 and result.paid and result.property_count >= 2
    pdf = registry.client.query_certificate(result.query_id)
    assert pdf.startswith(b"%PDF")
    check = registry.client.verify_certificate(result.verification_code)
    assert check.valid and check.property_count == result.property_count
    assert not registry.client.verify_certificate("NOSUCHCODE").valid
    with pytest.raises(BackendNotFound):
        registry.client.query_certificate("Q404")
    with pytest.raises(BackendRejected) as caught:
        registry.client.create_query(m.CreateQuery(verification, m.QueryKind.OWN, " "))
    assert caught.value.field == "purpose"


def test_a_query_with_a_fee_is_paid_once_then_printed(registry: Registry) -> None:
    registry.sandbox.set_setting("query_fee_ownership", 500)
    try:
        verification = registry.verify().verification_id
        result = registry.client.create_query(
            m.CreateQuery(verification, m.QueryKind.OWNERSHIP, "子女入学")
        )
    finally:
        registry.sandbox.set_setting("query_fee_ownership", 0)
    assert result.fee_fen == 500 and not result.paid
    with pytest.raises(BackendConflict) as caught:
        registry.client.query_certificate(result.query_id)
    assert caught.value.error == "unpaid"
    reference = f"Q-{result.query_id}"
    order = registry.client.create_order(
        m.CreateOrder(reference, m.OrderKind.QUERY, result.query_id, m.Channel.WECHAT, verification)
    )
    assert order.amount_fen == 500 and order.status is m.OrderStatus.NOTPAY
    assert registry.control.pay(order.order_id).status is m.OrderStatus.SUCCESS
    assert registry.client.query_certificate(result.query_id).startswith(b"%PDF")
    receipt = registry.client.order_receipt(order.order_id)
    assert receipt.amount_fen == 500 and receipt.item == "不动产登记资料查询费"


# -- attachments and applications -------------------------------------------------------------


def test_attachments_types_and_limits(registry: Registry) -> None:
    attachment = registry.client.upload_attachment(PDF, "application/pdf")
    assert attachment.size == len(PDF) and len(attachment.sha256) == 64
    with pytest.raises(BackendRejected):
        registry.client.upload_attachment(PDF, "text/plain")
    with pytest.raises(BackendRejected):
        registry.client.upload_attachment(b"GIF89a", "image/jpeg")
    with pytest.raises(BackendRejected):
        registry.client.upload_attachment(b"%PDF-" + bytes(10 * 1024 * 1024), "application/pdf")


def test_a_name_change_needs_the_former_name_the_register_has(registry: Registry) -> None:
    verification = registry.verify().verification_id
    units = registry.client.list_records(m.RecordsQuery(verification)).properties
    renamed = next(u for u in units if DEMO_FORMER_NAME in u.holders).unit_code
    current = next(u for u in units if DEMO.name in u.holders).unit_code
    image, sig = signed(registry.client)

    def name_change(unit: str, new: str, former: str) -> m.Case:
        fields = [m.FieldValue("new_name", new), m.FieldValue("former_name", former)]
        return registry.client.submit_application(
            m.Application(m.ApplicationType.NAME_CHANGE, unit, verification, fields, [image], [sig])
        )

    refusals = {
        (renamed, DEMO.name, "张建军"): ("former_name_mismatch", "fields.former_name"),
        (renamed, "李四", DEMO_FORMER_NAME): ("name_mismatch", "fields.new_name"),
        (current, DEMO.name, DEMO.name): ("nothing_to_change", "fields.former_name"),
    }
    for (unit, new, former), (code, field) in refusals.items():
        with pytest.raises(BackendConflict) as caught:
            name_change(unit, new, former)
        assert (caught.value.error, caught.value.field) == (code, field)
    case = name_change(renamed, DEMO.name, DEMO_FORMER_NAME)
    assert case.status is m.CaseStatus.IN_REVIEW


def test_address_change_and_its_rules(registry: Registry) -> None:
    verification = registry.verify().verification_id
    unit = registry.client.list_records(m.RecordsQuery(verification)).properties[0].unit_code
    image, sig = signed(registry.client)
    case = registry.client.submit_application(
        m.Application(
            m.ApplicationType.ADDRESS_CHANGE,
            unit,
            verification,
            [m.FieldValue("new_address", "江苏省南京市玄武区中山路1号")],
            [image],
            [sig],
        )
    )
    assert case.status is m.CaseStatus.IN_REVIEW and case.fee_fen == 0
    assert registry.client.get_case(case.case_number, verification) == case
    assert case.case_number in [
        c.case_number for c in registry.client.list_cases(verification).cases
    ]
    with pytest.raises(BackendRejected) as caught:
        registry.client.submit_application(
            m.Application(m.ApplicationType.ADDRESS_CHANGE, unit, verification, [], [image], [sig])
        )
    assert caught.value.field == "fields.new_address"
    with pytest.raises(BackendRejected) as caught:
        registry.client.submit_application(
            m.Application(
                m.ApplicationType.ADDRESS_CHANGE,
                unit,
                verification,
                [m.FieldValue("new_address", "x")],
                [],
                [],
            )
        )
    assert caught.value.field == "signatures"
    # a signature is checked, not its shape: the hash of an image never sent, or of a blank one
    blank = registry.client.upload_attachment(blank_jpeg(), "image/jpeg").attachment_id
    for attachments, signature in (
        ([], m.Signature("applicant", "ab" * 32, sig.signed_at)),
        ([image], m.Signature("applicant", "ab" * 32, sig.signed_at)),
        ([blank], m.Signature("applicant", sha256_of(blank_jpeg()), sig.signed_at)),
    ):
        with pytest.raises(BackendRejected) as unsigned:
            registry.client.submit_application(
                m.Application(
                    m.ApplicationType.ADDRESS_CHANGE,
                    unit,
                    verification,
                    [m.FieldValue("new_address", "江苏省南京市玄武区中山路2号")],
                    attachments,
                    [signature],
                )
            )
        assert unsigned.value.field == "signatures"
    with pytest.raises(BackendNotFound):
        registry.client.get_case("YW00000000000000", verification)


def test_applying_for_someone_elses_unit_is_refused(registry: Registry) -> None:
    verification = registry.verify().verification_id
    own = {
        p.unit_code for p in registry.client.list_records(m.RecordsQuery(verification)).properties
    }
    other = next(c for c in ("320102001001GB00001F00010001",) if c not in own)
    image, sig = signed(registry.client)
    with pytest.raises((BackendNotFound, BackendConflict)):
        registry.client.submit_application(
            m.Application(
                m.ApplicationType.NAME_CHANGE,
                other,
                verification,
                [m.FieldValue("new_name", "张新")],
                [image],
                [sig],
            )
        )


def test_mortgage_cancellation_needs_an_active_mortgage(registry: Registry) -> None:
    verification = registry.verify().verification_id
    records = registry.client.list_records(m.RecordsQuery(verification)).properties
    record = next(p for p in records if p.mortgages)
    mortgage = record.mortgages[0].mortgage_id
    release = registry.client.upload_attachment(PDF, "application/pdf").attachment_id
    image, sig = signed(registry.client)
    application = m.Application(
        m.ApplicationType.MORTGAGE_CANCELLATION,
        record.unit_code,
        verification,
        [],
        [release, image],
        [sig],
        mortgage,
    )
    case = registry.client.submit_application(application)
    assert case.status is m.CaseStatus.REGISTERED and case.attachments == [release, image]
    after = registry.client.list_records(m.RecordsQuery(verification)).properties
    assert mortgage not in {g.mortgage_id for p in after for g in p.mortgages}
    with pytest.raises(BackendConflict) as caught:
        registry.client.submit_application(application)  # a new key: a second, real attempt
    assert caught.value.error == "no_active_mortgage"
    with pytest.raises(BackendConflict):
        registry.client.submit_application(
            m.Application(
                m.ApplicationType.MORTGAGE_CANCELLATION,
                record.unit_code,
                verification,
                [],
                [release, image],
                [sig],
                "M999999",
            )
        )


# -- idempotency ------------------------------------------------------------------------------


def test_a_key_replays_its_answer_and_refuses_other_content(registry: Registry) -> None:
    key = new_key()
    first = registry.client.create_ticket("query_certificate", key=key)
    again = registry.client.create_ticket("query_certificate", key=key)
    assert again == first  # the same ticket, not a second one
    with pytest.raises(BackendConflict) as caught:
        registry.client.create_ticket("pay_fee", key=key)
    assert caught.value.error == "idempotency_conflict"


def test_writes_without_a_key_are_refused(registry: Registry) -> None:
    response = requests.post(
        registry.sandbox.url + "/v1/queue/tickets",
        json={"service": "pay_fee"},
        headers={"Authorization": f"Bearer {registry.client.token}"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"


# -- payments ---------------------------------------------------------------------------------


def test_order_lifecycle_and_one_charge_per_reference(registry: Registry) -> None:
    case = DEMO_CASE_DUE
    who = registry.verify().verification_id
    reference = "CASE-" + case + "-1"
    order = registry.client.create_order(
        m.CreateOrder(reference, m.OrderKind.CASE, case, m.Channel.ALIPAY, who)
    )
    assert (
        registry.client.create_order(
            m.CreateOrder(reference, m.OrderKind.CASE, case, m.Channel.ALIPAY, who)
        )
        == order
    )
    with pytest.raises(BackendConflict):
        registry.client.create_order(
            m.CreateOrder(reference, m.OrderKind.CASE, "YW20261020000004", m.Channel.ALIPAY, who)
        )
    with pytest.raises(BackendConflict) as caught:
        registry.client.create_order(
            m.CreateOrder(reference + "b", m.OrderKind.CASE, case, m.Channel.WECHAT, who)
        )
    assert caught.value.error == "order_open"
    with pytest.raises(BackendConflict):
        registry.client.order_receipt(order.order_id)
    paid = registry.control.pay(order.order_id)
    assert paid.status is m.OrderStatus.SUCCESS
    assert registry.client.cancel_order(order.order_id).status is m.OrderStatus.SUCCESS
    assert registry.client.get_case(case, who).paid
    with pytest.raises(BackendNotFound):
        registry.client.create_order(
            m.CreateOrder(reference + "c", m.OrderKind.CASE, case, m.Channel.WECHAT, who)
        )
    refund = m.RefundRequest("RF-" + case, paid.amount_fen, "test", who)
    assert registry.client.refund_order(order.order_id, refund).status == "REFUNDED"
    assert registry.client.refund_order(order.order_id, refund).status == "REFUNDED"
    assert registry.client.get_order(order.order_id).status is m.OrderStatus.REFUNDED
    # a refunded case is no longer paid: it waits for its fee again
    refunded = registry.client.get_case(case, who)
    assert not refunded.paid and refunded.status is m.CaseStatus.AWAITING_PAYMENT
    with pytest.raises(BackendNotFound):
        registry.client.get_order("P404")


def test_cancel_then_expired(registry: Registry) -> None:
    case = DEMO_CASE_DUE
    who = registry.verify().verification_id
    order = registry.client.create_order(
        m.CreateOrder("CASE-" + case + "-x", m.OrderKind.CASE, case, m.Channel.UNIONPAY, who)
    )
    assert registry.client.cancel_order(order.order_id).status is m.OrderStatus.CLOSED
    with pytest.raises(BackendConflict):
        registry.control.pay(order.order_id)
    second = registry.client.create_order(
        m.CreateOrder("CASE-" + case + "-y", m.OrderKind.CASE, case, m.Channel.WECHAT, who)
    )
    registry.clock.offset = 6 * 60
    try:
        with pytest.raises(BackendConflict) as caught:
            registry.control.pay(second.order_id)
        assert caught.value.error == "expired"
        assert registry.client.get_order(second.order_id).status is m.OrderStatus.NOTPAY
    finally:
        registry.clock.offset = 0


# -- paper, operators, queue ------------------------------------------------------------------


def test_certificate_data_and_paper_serials(registry: Registry) -> None:
    who = registry.verify().verification_id
    data = registry.client.certificate_data("YW20261101000002", who)
    assert data.kind == "proof" and "不动产证明" in data.certificate_number
    assert DEMO.name in data.holders
    with pytest.raises(BackendConflict):
        registry.client.certificate_data("YW20261101000001", who)
    ack = registry.client.report_paper(
        m.PaperReport("YW20261101000002", "A00012345", m.PaperOutcome.SPOILED)
    )
    assert ack.outcome is m.PaperOutcome.SPOILED
    listed = {r.paper_serial: r.outcome for r in registry.client.list_paper().reports}
    assert listed["A00012345"] is m.PaperOutcome.SPOILED
    with pytest.raises(BackendConflict) as caught:
        registry.client.report_paper(
            m.PaperReport("YW20261101000002", "A00012345", m.PaperOutcome.PRINTED)
        )
    assert caught.value.error == "serial_used"
    with pytest.raises(BackendRejected):
        registry.client.report_paper(
            m.PaperReport("YW20261101000002", "A-1; DROP", m.PaperOutcome.PRINTED)
        )


def test_operator_login_and_lockout(registry: Registry) -> None:
    session = registry.client.operator_login(m.OperatorLogin("CCB-NJ", "op01", SANDBOX_PASSWORD))
    assert session.bank.name == "中国建设银行南京分行" and len(session.bank.uscc) == 18
    for _ in range(5):
        with pytest.raises(BackendUnauthorized):
            registry.client.operator_login(m.OperatorLogin("CCB-NJ", "op02", "wrong"))
    with pytest.raises(BackendUnauthorized) as caught:
        registry.client.operator_login(m.OperatorLogin("CCB-NJ", "op02", SANDBOX_PASSWORD))
    assert caught.value.status == 403 and caught.value.error == "locked"


def test_queue_tickets_and_appointments(registry: Registry) -> None:
    ticket = registry.client.create_ticket("pay_fee")
    assert ticket.ticket_number.startswith("B")
    with pytest.raises(BackendRejected):
        registry.client.create_ticket("lottery")
    verification = registry.verify().verification_id
    appointments = registry.client.list_appointments(verification).appointments
    assert [a.code for a in appointments] == ["YY7K3QD9M2XA"]
    checked = registry.client.check_in("YY7K3QD9M2XA", verification)
    assert checked.service == "mortgage_cancellation"
    assert registry.client.check_in("YY7K3QD9M2XA", verification) == checked  # same key
    with pytest.raises(BackendNotFound):
        registry.client.check_in("YY404", verification)


def test_only_the_verified_holder_checks_in_for_their_own_appointment(
    registry: Registry,
) -> None:
    """Tried as another kiosk visitor who knows (or guesses) someone's code."""
    with sqlite3.connect(registry.sandbox.db_path) as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM appointments ORDER BY code")]
        theirs = conn.execute(
            "SELECT code FROM appointments WHERE id_number != ? LIMIT 1", (DEMO.number,)
        ).fetchone()[0]
    # codes are not a sequence one could walk through
    assert len({c[:8] for c in codes}) > len(codes) // 2
    mine = registry.verify().verification_id
    with pytest.raises(BackendNotFound):  # as if it did not exist: nothing is confirmed
        registry.client.check_in(theirs, mine)
    other = DEMO_CARDS[1]
    not_verified = registry.verify(other.number, other.name).verification_id  # wrong face
    with pytest.raises(BackendConflict) as caught:
        registry.client.check_in(theirs, not_verified)
    assert caught.value.error == "not_verified"
    with sqlite3.connect(registry.sandbox.db_path) as conn:
        (checked,) = conn.execute(
            "SELECT checked_in FROM appointments WHERE code = ?", (theirs,)
        ).fetchone()
    assert checked == 0


def test_an_appointment_is_checked_in_around_its_time_only(registry: Registry) -> None:
    """An appointment from 11 days ago was checked in (and given a queue number)."""
    import datetime as dt

    from kiosk.sandbox.seed import CHINA

    def slot(days: float) -> str:
        at = dt.datetime.fromtimestamp(registry.clock(), CHINA) + dt.timedelta(days=days)
        return at.strftime("%Y-%m-%dT%H:%M")

    with sqlite3.connect(registry.sandbox.db_path) as conn:
        for code, when in (("YYOLD", slot(-11)), ("YYSOON", slot(0.1)), ("YYNEXTWEEK", slot(7))):
            conn.execute(
                "INSERT INTO appointments VALUES (?, ?, 'query_certificate', ?, 0)",
                (code, DEMO.number, when),
            )
    verification = registry.verify().verification_id
    listed = {a.code for a in registry.client.list_appointments(verification).appointments}
    assert "YYSOON" in listed and not {"YYOLD", "YYNEXTWEEK"} & listed
    for code in ("YYOLD", "YYNEXTWEEK"):
        with pytest.raises(BackendConflict) as caught:
            registry.client.check_in(code, verification)
        assert caught.value.error == "appointment_closed"
    assert registry.client.check_in("YYSOON", verification).ticket_number


# -- transport failures -----------------------------------------------------------------------


def test_a_500_is_retried_then_reported(registry: Registry) -> None:
    registry.control.faults(m.Faults(status=500, count=2))
    assert registry.client.create_ticket("pay_fee").service == "pay_fee"  # third try works
    registry.control.faults(m.Faults(status=500, count=3))
    with pytest.raises(BackendServerError) as caught:
        registry.client.create_ticket("pay_fee")
    assert caught.value.status == 500


def test_a_slow_gateway_times_out(registry: Registry) -> None:
    registry.control.faults(m.Faults(delay_s=3.0, count=3))
    with pytest.raises(BackendTimeout):
        registry.client.get_case("YW20261101000001", "V-any")
    registry.control.faults(m.Faults(count=0))


def test_connection_refused_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RegistryClient(ClientSettings(f"http://127.0.0.1:{port}", attempts=2, backoff_s=0.01))
    with pytest.raises(BackendUnreachable):
        client.create_ticket("pay_fee")


# -- the contract document --------------------------------------------------------------------


def test_the_served_openapi_matches_the_committed_and_the_generated(registry: Registry) -> None:
    served = requests.get(registry.sandbox.url + "/openapi.json", timeout=5).json()
    committed = json.loads(OPENAPI_FILE.read_text())
    assert served == committed == json.loads(openapi_text())


def test_the_openapi_document_is_valid_and_covers_every_route() -> None:
    from openapi_spec_validator import validate

    document = json.loads(OPENAPI_FILE.read_text())
    validate(document)
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert operations == {route.name for route in CONTRACT_ROUTES}


def test_no_answer_tells_whether_a_name_and_number_are_on_record(registry: Registry) -> None:
    """Tried as someone with a photo and a list of names and numbers: a pair that is on
    record with someone else's face and a pair that is not get the same answer."""
    other = DEMO_CARDS[1]  # on record; the face sent is the first demo holder's

    def ask(number: str, name: str) -> tuple[object, ...]:
        answer = registry.verify(number, name)
        return answer.result, answer.score, answer.reason

    on_record = ask(other.number, other.name)
    wrong_name = ask(other.number, "王某某")
    unknown = ask(make_id_number("110101", dt.date(1990, 3, 7), 457), "李某")  # not on record
    assert on_record == wrong_name == unknown
    assert on_record == (m.VerifyResult.NOT_VERIFIED, 0.0, "the face does not match the record")
    # the holder's own face still passes
    assert registry.verify().result is m.VerifyResult.VERIFIED


def test_a_filing_is_judged_at_the_moment_it_was_signed(registry: Registry) -> None:
    """A filing queued through an outage is accepted late; a signature claimed before the
    face check, in the future, or long after it is refused as expired."""
    verification = registry.verify().verification_id
    unit = registry.client.list_records(m.RecordsQuery(verification)).properties[0].unit_code
    now = dt.datetime.fromtimestamp(registry.clock(), dt.UTC)
    image, sig = signed(registry.client)

    def file(when: dt.datetime) -> m.Case:
        at = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return registry.client.submit_application(
            m.Application(
                m.ApplicationType.ADDRESS_CHANGE,
                unit,
                verification,
                [m.FieldValue("new_address", "江苏省南京市玄武区中山路1号")],
                [image],
                [m.Signature("applicant", sig.image_sha256, at)],
            )
        )

    for claimed in (
        now - dt.timedelta(hours=1),
        now + dt.timedelta(hours=1),
        now + dt.timedelta(minutes=20),
    ):
        with pytest.raises(BackendConflict) as caught:
            file(claimed)
        assert caught.value.error == "expired", claimed
    registry.clock.offset += 3 * 3600  # three hours of outage later
    try:
        assert file(now + dt.timedelta(minutes=1)).case_number  # signed in time: accepted
    finally:
        registry.clock.offset -= 3 * 3600
