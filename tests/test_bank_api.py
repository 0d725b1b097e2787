"""The registry's rules for bank service points, on the sandbox over HTTP: operator login and
lockout, the borrower's scoped authorization, what it shows the bank, maker-checker, the
bank's own mortgages only, and idempotency keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import (
    BackendConflict,
    BackendNotFound,
    BackendRejected,
    BackendUnauthorized,
)
from kiosk.config import BANK_SERVICES
from kiosk.flows import forms
from kiosk.flows.journey import JourneyContext
from kiosk.flows.spec import load_flows
from kiosk.sandbox.seed import DEMO_ADVANCE, DEMO_CONTRACT, SANDBOX_PASSWORD
from kiosk.strict import StrictConfigError
from tests.backend_fixtures import Registry, signature_jpeg, signed

BANK = "BOC-JN"
SIGNED = "2026-11-23T09:00:00Z"


def login(registry: Registry, operator: str = "op01") -> m.OperatorSession:
    return registry.client.operator_login(m.OperatorLogin(BANK, operator, SANDBOX_PASSWORD))


def db(registry: Registry) -> sqlite3.Connection:
    conn = sqlite3.connect(registry.sandbox.db_path)
    conn.row_factory = sqlite3.Row
    return conn


def authorize(
    registry: Registry, token: str, scope: m.ApplicationType
) -> tuple[m.Verification, m.BankAuthorization]:
    verification = registry.verify()
    _, sig = signed(registry.client, "authorization")
    auth = registry.client.authorize_bank(
        m.BankAuthorizationRequest(verification.verification_id, scope, sig.image_sha256, SIGNED),
        operator=token,
    )
    return verification, auth


def application(
    registry: Registry,
    verification: m.Verification,
    kind: m.ApplicationType,
    unit: str,
    fields: dict[str, str],
    mortgage_id: str = "",
) -> m.Application:
    contract = registry.client.upload_attachment(b"%PDF-1.4 contract", "application/pdf")
    borrower, borrower_sig = signed(registry.client, "applicant")
    operator, operator_sig = signed(registry.client, "operator")
    return m.Application(
        kind,
        unit,
        verification.verification_id,
        [m.FieldValue(k, v) for k, v in fields.items()],
        [contract.attachment_id, borrower, operator],
        [borrower_sig, operator_sig],
        mortgage_id,
    )


LOAN = {
    "debtor": "张建国",
    "mortgage_type": "最高额抵押",
    "amount": "800000",
    "term_from": "20261201",
    "term_to": "20461130",
    "scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用",
    "combined_confirmation": "是",
}


def draft(kind: m.ApplicationType, auth: str, app: m.Application, review: bool) -> m.SaveDraft:
    return m.SaveDraft(
        kind,
        m.DraftStatus.AWAITING_REVIEW,
        "抵押 张*国",
        authorization_id=auth,
        application=app,
        review_required=review,
    )


def test_a_locked_out_operator_is_refused_even_with_the_right_password(
    registry: Registry,
) -> None:
    client = registry.client
    for _ in range(5):
        with pytest.raises(BackendUnauthorized) as wrong:
            client.operator_login(m.OperatorLogin(BANK, "op03", "wrong"))
        assert wrong.value.error == "unauthorized"
    with pytest.raises(BackendUnauthorized) as locked:
        client.operator_login(m.OperatorLogin(BANK, "op03", SANDBOX_PASSWORD))
    assert locked.value.error == "locked"
    registry.clock.offset += 16 * 60  # the lock lifts after 15 minutes
    assert client.operator_login(m.OperatorLogin(BANK, "op03", SANDBOX_PASSWORD)).bank.uscc


def test_operator_routes_need_a_live_operator_session(registry: Registry) -> None:
    session = login(registry)
    assert session.bank.name == "中国银行济南分行" and session.bank.licence_number
    registry.client.list_drafts(operator=session.operator_token)
    registry.client.operator_logout(operator=session.operator_token)
    with pytest.raises(BackendUnauthorized) as gone:
        registry.client.list_drafts(operator=session.operator_token)
    assert gone.value.error == "operator_unauthorized"
    # one operator at a time: a second login at the kiosk ends the first
    first, second = login(registry, "op01"), login(registry, "op02")
    with pytest.raises(BackendUnauthorized):
        registry.client.list_drafts(operator=first.operator_token)
    registry.client.list_drafts(operator=second.operator_token)


def test_first_registration_needs_a_second_operator_of_the_bank(registry: Registry) -> None:
    client = registry.client
    maker = login(registry, "op01")
    kind = m.ApplicationType.MORTGAGE_FIRST
    verification, auth = authorize(registry, maker.operator_token, kind)
    records = client.bank_records(auth.authorization_id, operator=maker.operator_token)
    # the bank sees its own mortgages only
    creditors = {g.creditor for p in records.properties for g in p.mortgages}
    assert creditors <= {"中国银行济南分行"}
    free = next(p for p in records.properties if not p.mortgages)
    app = application(registry, verification, kind, free.unit_code, LOAN)
    draft_id = "D" + uuid.uuid4().hex[:15]
    client.save_draft(
        draft_id, draft(kind, auth.authorization_id, app, True), operator=maker.operator_token
    )
    with pytest.raises(BackendConflict) as own_submit:
        client.submit_draft(draft_id, operator=maker.operator_token)
    assert own_submit.value.error == "review_required"
    with pytest.raises(BackendConflict) as own_approval:
        client.approve_draft(draft_id, operator=maker.operator_token)
    assert own_approval.value.error == "same_operator"
    checker = login(registry, "op02")
    waiting = client.list_drafts(operator=checker.operator_token).drafts
    assert [d.draft_id for d in waiting if d.draft_id == draft_id]
    case = client.approve_draft(draft_id, operator=checker.operator_token)
    assert case.status is m.CaseStatus.IN_REVIEW
    with db(registry) as conn:
        row = conn.execute("SELECT body FROM cases WHERE case_number = ?", (case.case_number,))
        record = json.loads(row.fetchone()[0])
    assert (record["maker"], record["checker"]) == ("op01", "op02")
    assert record["parties"]["mortgagee"] == maker.bank.uscc
    assert record["businesses"] == ["mortgage_first", "maximum_confirmation"]
    # the authorization served its one application
    with pytest.raises(BackendUnauthorized) as used:
        client.bank_records(auth.authorization_id, operator=checker.operator_token)
    assert used.value.error == "not_authorized"
    registered = registry.control.register_case(case.case_number)
    assert registered.status is m.CaseStatus.REGISTERED
    assert client.registration_proof(case.case_number, operator=checker.operator_token)[:5] == (
        b"%PDF-"
    )


def test_an_authorization_serves_its_scope_only(registry: Registry) -> None:
    client = registry.client
    session = login(registry)
    verification, auth = authorize(
        registry, session.operator_token, m.ApplicationType.MORTGAGE_FIRST
    )
    records = client.bank_records(auth.authorization_id, operator=session.operator_token)
    mortgage = next(g for p in records.properties for g in p.mortgages)
    unit = next(p.unit_code for p in records.properties if mortgage in p.mortgages)
    kind = m.ApplicationType.MORTGAGE_CANCELLATION
    app = application(registry, verification, kind, unit, {}, mortgage.mortgage_id)
    draft_id = "D" + uuid.uuid4().hex[:15]
    body = draft(kind, auth.authorization_id, app, False)
    client.save_draft(draft_id, body, operator=session.operator_token)
    with pytest.raises(BackendUnauthorized) as scope:
        client.submit_draft(draft_id, operator=session.operator_token)
    assert scope.value.error == "not_authorized"


def test_cancelling_a_mortgage_that_does_not_exist_is_refused(registry: Registry) -> None:
    client = registry.client
    session = login(registry)
    kind = m.ApplicationType.MORTGAGE_CANCELLATION
    verification, auth = authorize(registry, session.operator_token, kind)
    records = client.bank_records(auth.authorization_id, operator=session.operator_token)
    unit = records.properties[0].unit_code
    for missing in ("M999999", "M000151"):  # no such mortgage; another bank's (CCB-NJ)
        app = application(registry, verification, kind, unit, {}, missing)
        draft_id = "D" + uuid.uuid4().hex[:15]
        client.save_draft(
            draft_id,
            draft(kind, auth.authorization_id, app, False),
            operator=session.operator_token,
        )
        with pytest.raises(BackendConflict) as refused:
            client.submit_draft(draft_id, operator=session.operator_token)
        assert refused.value.error == "no_active_mortgage"


def test_a_reused_idempotency_key_files_once_and_refuses_another_request(
    registry: Registry,
) -> None:
    client = registry.client
    session = login(registry)
    kind = m.ApplicationType.ADVANCE_MORTGAGE
    verification, auth = authorize(registry, session.operator_token, kind)
    records = client.bank_records(auth.authorization_id, operator=session.operator_token)
    contract = next(c for c in records.contracts if c.contract_number == DEMO_CONTRACT)
    loan = {**LOAN, "mortgage_type": "一般抵押", "combined_confirmation": "否"}
    app = application(
        registry, verification, kind, contract.unit_code, {**loan, "contract_number": DEMO_CONTRACT}
    )
    draft_id = "D" + uuid.uuid4().hex[:15]
    client.save_draft(
        draft_id, draft(kind, auth.authorization_id, app, False), operator=session.operator_token
    )
    key = f"submit-{draft_id}"
    first = client.submit_draft(draft_id, operator=session.operator_token, key=key)
    again = client.submit_draft(draft_id, operator=session.operator_token, key=key)
    assert again == first  # the same answer, not a second case
    with db(registry) as conn:
        filed = conn.execute(
            "SELECT COUNT(*) FROM cases WHERE body LIKE ?", (f'%"draft_id": "{draft_id}"%',)
        ).fetchone()[0]
    assert filed == 1
    with pytest.raises(BackendConflict) as other:  # the key with another request
        client.approve_draft(draft_id, operator=session.operator_token, key=key)
    assert other.value.error == "idempotency_conflict"


def test_an_advance_notice_converts_once_the_flat_is_registered(registry: Registry) -> None:
    client = registry.client
    session = login(registry)
    kind = m.ApplicationType.ADVANCE_TO_MORTGAGE
    verification, auth = authorize(registry, session.operator_token, kind)
    records = client.bank_records(auth.authorization_id, operator=session.operator_token)
    notice = next(a for a in records.advance if a.notice_id == DEMO_ADVANCE)
    assert notice.certificate_ready
    app = application(registry, verification, kind, notice.unit_code, {}, notice.notice_id)
    draft_id = "D" + uuid.uuid4().hex[:15]
    client.save_draft(
        draft_id, draft(kind, auth.authorization_id, app, False), operator=session.operator_token
    )
    case = client.submit_draft(draft_id, operator=session.operator_token)
    registry.control.register_case(case.case_number)
    with db(registry) as conn:
        status = conn.execute(
            "SELECT status FROM advance_mortgages WHERE notice_id = ?", (DEMO_ADVANCE,)
        ).fetchone()[0]
        mortgage = conn.execute(
            "SELECT bank_code, amount_fen FROM mortgages WHERE mortgage_id = ?",
            (f"M{case.case_number}",),
        ).fetchone()
    assert status == "converted" and tuple(mortgage) == (BANK, 150_000_000)


def test_bank_flows_are_checked_when_they_are_loaded(tmp_path: Path) -> None:
    """A bank flow shows the borrower's records only after the signed authorization, and is
    signed once by the borrower (the authorization) and by the operator as agent; a hall flow
    cannot use the bank's steps."""
    head = 'journey = "x"\ntitle_zh = "x"\ntitle_en = "x"\n'
    cases = {
        "choose before the authorization": (
            'mode = "bank"\n',
            '{ kind = "id_auth" }, { kind = "face_check" },'
            '{ kind = "choose", items = "bank_mortgages" },'
            '{ kind = "sign", signer = "authorization" }, { kind = "done" }',
            "authorization before it chooses",
        ),
        "no operator signature": (
            'mode = "bank"\n',
            '{ kind = "id_auth" }, { kind = "face_check" },'
            '{ kind = "sign", signer = "authorization" },'
            '{ kind = "choose", items = "bank_mortgages" },'
            '{ kind = "submit", application = "mortgage_cancellation" }, { kind = "done" }',
            "signed by the operator as agent",
        ),
        "the borrower asked to sign again": (
            'mode = "bank"\n',
            '{ kind = "id_auth" }, { kind = "face_check" },'
            '{ kind = "sign", signer = "authorization" },'
            '{ kind = "choose", items = "bank_mortgages" }, { kind = "sign" },'
            '{ kind = "sign", signer = "operator" },'
            '{ kind = "submit", application = "mortgage_cancellation" }, { kind = "done" }',
            "the borrower signs once",
        ),
        "bank steps in a hall flow": (
            "",
            '{ kind = "sign", signer = "operator" }, { kind = "done" }',
            'mode = \\"bank\\"',
        ),
    }
    for name, (mode, steps, problem) in cases.items():
        path = tmp_path / "flows.toml"
        path.write_text(f"[f]\n{mode}{head}steps = [{steps}]\n")
        with pytest.raises(StrictConfigError) as err:
            load_flows(path)
        assert problem.replace("\\", "") in str(err.value), name
    shipped = load_flows()
    assert {f.name for f in shipped.values() if f.mode == "bank"} == set(BANK_SERVICES)


def test_a_field_that_does_not_apply_holds_a_slash_never_nothing() -> None:
    ctx = JourneyContext()
    values = forms.initial_values("mortgage_change", ctx)
    assert values["max_period_to"] == "/"  # no maximum-amount mortgage chosen
    change = forms.FORMS["mortgage_change"]
    period = next(f for f in change if f.name == "max_period_to")
    assert not forms.editable(period, ctx)
    loan = {"term_from": "20261201", "term_to": "20261101", "mortgage_type": "一般抵押"}
    problems = forms.problems("mortgage_loan", {**loan, "combined_confirmation": "是"}, ctx)
    assert problems["term_to"][1] == "The term must end after it begins"
    assert "combined_confirmation" in problems
    assert forms.problems("mortgage_loan", {"amount": "012"}, ctx)["amount"]


def test_an_operator_witness_stands_for_the_face_check_at_that_bank_only(
    registry: Registry,
) -> None:
    client = registry.client
    card = DEMO_CARDS[0]
    statement = hashlib.sha256(b"checked in person").hexdigest()
    scope = m.ApplicationType.MORTGAGE_CANCELLATION

    def witness(token: str, name: str = card.name, signed: str = statement) -> m.Verification:
        return client.witness_identity(
            m.WitnessIdentity(card.number, name, m.CardType.RESIDENT, signed, SIGNED),
            operator=token,
        )

    def sign_for(token: str, verification: m.Verification) -> m.BankAuthorization:
        _, sig = signed(client, "authorization")
        return client.authorize_bank(
            m.BankAuthorizationRequest(
                verification.verification_id, scope, sig.image_sha256, SIGNED
            ),
            operator=token,
        )

    with pytest.raises(BackendUnauthorized):  # no operator, no witness
        witness("no-such-session")
    token = login(registry).operator_token
    with pytest.raises(BackendRejected) as unsigned:
        witness(token, signed="")
    assert unsigned.value.field == "statement_sha256"
    stranger = witness(token, name="王小明")  # the card's name is not the registry's
    assert stranger.result is m.VerifyResult.NOT_VERIFIED
    with pytest.raises(BackendConflict) as refused:
        sign_for(token, stranger)
    assert refused.value.error == "not_verified"
    witnessed = witness(token)
    assert witnessed.result is m.VerifyResult.VERIFIED and "BOC-JN/op01" in witnessed.reason
    # another bank's operator cannot lean on BOC's witness
    other = client.operator_login(m.OperatorLogin("CCB-NJ", "op01", SANDBOX_PASSWORD))
    with pytest.raises(BackendUnauthorized) as foreign:
        sign_for(other.operator_token, witnessed)
    assert foreign.value.error == "not_authorized"
    token = login(registry).operator_token
    auth = sign_for(token, witnessed)
    assert auth.scope is scope and auth.bank_code == BANK
    with db(registry) as conn:
        row = conn.execute(
            "SELECT bank_code, operator_id, statement_sha256 FROM witnessed "
            "WHERE verification_id = ?",
            (witnessed.verification_id,),
        ).fetchone()
    assert tuple(row) == (BANK, "op01", statement)


def test_the_workbench_lists_the_last_30_days_and_every_case_in_progress(
    registry: Registry,
) -> None:
    client = registry.client
    draft_id = _waiting_draft(registry, login(registry, "op01"))
    checker = login(registry, "op02")  # one operator at a kiosk at a time
    case = client.approve_draft(draft_id, operator=checker.operator_token)
    maker = login(registry, "op01")

    def listed() -> list[str]:
        cases = client.list_operator_cases(operator=maker.operator_token).cases
        return [c.case_number for c in cases]

    def filed(days_ago: int, status: str) -> None:
        with db(registry) as conn:
            conn.execute(
                "UPDATE cases SET created = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?), status = ? "
                "WHERE case_number = ?",
                (f"-{days_ago} days", status, case.case_number),
            )

    filed(3, "registered")  # filed three days ago, registered since: its proof is still here
    assert case.case_number in listed()
    assert client.registration_proof(case.case_number, operator=maker.operator_token)[:5] == (
        b"%PDF-"
    )
    filed(40, "in_review")  # long ago but still in progress: listed
    assert case.case_number in listed()
    filed(40, "registered")  # long ago and done: found by asking from an earlier day only
    assert case.case_number not in listed()
    early = (dt.date.today() - dt.timedelta(days=45)).isoformat()
    found = client.list_operator_cases(operator=maker.operator_token, since=early).cases
    assert case.case_number in [c.case_number for c in found]
    with pytest.raises(BackendRejected) as bad:
        client.list_operator_cases(operator=maker.operator_token, since="yesterday")
    assert bad.value.field == "since"


def _waiting_draft(registry: Registry, maker: m.OperatorSession) -> str:
    """A complete mortgage application of ``maker``'s, waiting for a second operator."""
    kind = m.ApplicationType.MORTGAGE_FIRST
    verification, auth = authorize(registry, maker.operator_token, kind)
    records = registry.client.bank_records(auth.authorization_id, operator=maker.operator_token)
    free = next(p for p in records.properties if not p.mortgages)
    app = application(registry, verification, kind, free.unit_code, LOAN)
    draft_id = "D" + uuid.uuid4().hex[:15]
    registry.client.save_draft(
        draft_id, draft(kind, auth.authorization_id, app, True), operator=maker.operator_token
    )
    return draft_id


def test_a_checker_returns_an_application_with_the_reason_and_nothing_is_filed(
    registry: Registry,
) -> None:
    client = registry.client
    maker = login(registry, "op01")
    draft_id = _waiting_draft(registry, maker)
    with pytest.raises(BackendConflict) as own:
        client.return_draft(draft_id, "自己退回", operator=maker.operator_token)
    assert own.value.error == "same_operator"
    checker = login(registry, "op02")
    with pytest.raises(BackendRejected) as blank:
        client.return_draft(draft_id, " ", operator=checker.operator_token)
    assert blank.value.field == "reason"
    returned = client.return_draft(
        draft_id, "合同或附件不全、不清晰", operator=checker.operator_token
    )
    assert returned.status is m.DraftStatus.RETURNED and returned.checker == "op02"
    assert returned.reason == "合同或附件不全、不清晰"
    theirs = client.list_drafts(operator=checker.operator_token).drafts
    assert draft_id not in [d.draft_id for d in theirs]  # no longer awaiting review
    with pytest.raises(BackendConflict):
        client.approve_draft(draft_id, operator=checker.operator_token)
    maker = login(registry, "op01")
    mine = {d.draft_id: d for d in client.list_drafts(operator=maker.operator_token).drafts}
    assert mine[draft_id].reason == "合同或附件不全、不清晰"  # the maker sees why
    with pytest.raises(BackendConflict):
        client.submit_draft(draft_id, operator=maker.operator_token)
    with db(registry) as conn:
        filed = conn.execute("SELECT case_number FROM drafts WHERE draft_id = ?", (draft_id,))
        assert filed.fetchone()[0] == ""


def test_the_maker_withdraws_an_application_before_it_is_filed(registry: Registry) -> None:
    client = registry.client
    draft_id = _waiting_draft(registry, login(registry, "op01"))
    checker = login(registry, "op02")
    with pytest.raises(BackendUnauthorized):
        client.withdraw_draft(draft_id, operator=checker.operator_token)  # not theirs
    maker = login(registry, "op01")
    withdrawn = client.withdraw_draft(draft_id, operator=maker.operator_token)
    assert withdrawn.status is m.DraftStatus.WITHDRAWN
    assert client.withdraw_draft(draft_id, operator=maker.operator_token) == withdrawn  # again
    checker = login(registry, "op02")
    with pytest.raises(BackendConflict):
        client.approve_draft(draft_id, operator=checker.operator_token)
    listed = client.list_drafts(operator=checker.operator_token).drafts
    assert draft_id not in [d.draft_id for d in listed]


def test_the_checker_opens_the_drafts_pages_and_no_one_else_does(registry: Registry) -> None:
    client = registry.client
    draft_id = _waiting_draft(registry, login(registry, "op01"))
    with pytest.raises(BackendNotFound):  # the maker reviews nothing of their own
        client.draft_attachment(draft_id, "A" * 8, operator=login(registry, "op01").operator_token)
    checker = login(registry, "op02")
    waiting = next(
        d
        for d in client.list_drafts(operator=checker.operator_token).drafts
        if d.draft_id == draft_id
    )
    assert (
        len(waiting.attachments) == 3
    )  # the contract, the borrower's and the operator's signature
    pages = [
        client.draft_attachment(draft_id, a, operator=checker.operator_token)
        for a in waiting.attachments
    ]
    assert pages[0].startswith(b"%PDF") and all(p[:2] == b"\xff\xd8" for p in pages[1:])
    stranger = client.upload_attachment(signature_jpeg(), "image/jpeg").attachment_id
    with pytest.raises(BackendNotFound):  # a page that is not this draft's
        client.draft_attachment(draft_id, stranger, operator=checker.operator_token)
    other_bank = client.operator_login(m.OperatorLogin("ICBC-NJ", "op01", SANDBOX_PASSWORD))
    with pytest.raises(BackendNotFound):  # another bank's operator
        client.draft_attachment(
            draft_id, waiting.attachments[0], operator=other_bank.operator_token
        )
