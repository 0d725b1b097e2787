"""The sandbox registry's side of the bank service points: operator sessions, the borrower's
authorization (scoped to one application), what it lets the bank see, drafts with
maker-checker, and filing the bank's mortgage applications.

The registry, not the kiosk, enforces the rules that matter: an authorization serves one
application type for one borrower and one bank; a draft that needs review is filed only by a
second operator of the same bank; a bank files only for its own mortgages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import sqlite3
from collections.abc import Callable
from typing import Any

from kiosk.backend import models as m
from kiosk.identifiers import id_number_problem, unit_code_problem
from kiosk.redact import mask_name
from kiosk.sandbox import new_homes
from kiosk.sandbox.handlers import (
    ApiError,
    Ctx,
    _case,
    _check_attachments,
    _record,
    _verified,
    check_signature,
    document_code,
    new_id,
    proof_number,
)

AUTHORIZATION_TTL_S = 24 * 3600  # one application, the same day
OPERATOR_SESSION_S = 8 * 3600  # the kiosk logs out on idle long before
# the loan data each bank application carries (checked here, whatever the kiosk checked)
LOAN_FIELDS = ("debtor", "mortgage_type", "amount", "term_from", "term_to", "scope")
CHANGE_FIELDS = ("new_amount", "new_term_to", "rank", "scope", "max_period_to")
MAXIMUM = "最高额抵押"
# reviewed by the registry before registration (the sandbox registers them on request)
INSTANT = {m.ApplicationType.MORTGAGE_CANCELLATION}
BANK_TYPES = {
    m.ApplicationType.MORTGAGE_FIRST,
    m.ApplicationType.MORTGAGE_CHANGE,
    m.ApplicationType.MORTGAGE_CANCELLATION,
    m.ApplicationType.ADVANCE_MORTGAGE,
    m.ApplicationType.ADVANCE_TO_MORTGAGE,
}


def start_operator_session(ctx: Ctx, bank_code: str, operator_id: str, name: str) -> str:
    """One operator at a time at a kiosk: a new login ends the last one there."""
    ctx.conn.execute("DELETE FROM operator_sessions WHERE kiosk_id = ?", (ctx.kiosk_id,))
    token = secrets.token_urlsafe(24)
    ctx.conn.execute(
        "INSERT INTO operator_sessions VALUES (?, ?, ?, ?, ?, ?)",
        (token, bank_code, operator_id, name, ctx.kiosk_id, ctx.now + OPERATOR_SESSION_S),
    )
    return token


def _operator(ctx: Ctx) -> sqlite3.Row:
    assert ctx.operator is not None  # the server checked the token
    return ctx.operator


def operator_logout(ctx: Ctx, _body: None) -> m.OperatorLogout:
    op = _operator(ctx)
    ctx.conn.execute("DELETE FROM operator_sessions WHERE token = ?", (op["token"],))
    return m.OperatorLogout(op["operator_id"])


# -- the borrower's authorization -------------------------------------------------------------


def witness_identity(ctx: Ctx, body: m.WitnessIdentity) -> m.Verification:
    """The operator's in-person check stands for the face check (the borrower declined it):
    the same verification, with the operator recorded as the witness."""
    op = _operator(ctx)
    problem = id_number_problem(body.id_number) if body.card_type is m.CardType.RESIDENT else None
    if problem:
        raise ApiError(400, "invalid", problem, "id_number")
    if len(body.statement_sha256) != 64:
        raise ApiError(
            400, "invalid", "the operator's signed statement is required", "statement_sha256"
        )
    person = ctx.one("SELECT name FROM people WHERE id_number = ?", body.id_number)
    verification_id = new_id("V")
    if person is None or person["name"] != body.name:
        result, reason = m.VerifyResult.NOT_VERIFIED, "not verified"
    else:
        result, reason = (
            m.VerifyResult.VERIFIED,
            f"witnessed by {op['bank_code']}/{op['operator_id']}",
        )
    ctx.conn.execute(
        "INSERT INTO verifications VALUES (?, ?, ?, ?, ?)",
        (verification_id, body.id_number, result.value, ctx.kiosk_id, ctx.now),
    )
    ctx.conn.execute(
        "INSERT INTO witnessed VALUES (?, ?, ?, ?, ?)",
        (verification_id, op["bank_code"], op["operator_id"], body.statement_sha256, ctx.iso()),
    )
    return m.Verification(verification_id, result, 0.0, reason)


def _identity(ctx: Ctx, verification_id: str) -> dict[str, str]:
    """How the borrower's identity was checked, for the case record."""
    row = ctx.one("SELECT * FROM witnessed WHERE verification_id = ?", verification_id)
    if row is None:
        return {"method": "face", "verification_id": verification_id}
    return {
        "method": "operator_witness",
        "verification_id": verification_id,
        "witness": f"{row['bank_code']}/{row['operator_id']}",
    }


def authorize_bank(ctx: Ctx, body: m.BankAuthorizationRequest) -> m.BankAuthorization:
    op = _operator(ctx)
    # the borrower's face check here and now, or this operator's own witness
    person = _verified(ctx, body.verification_id, operator=(op["bank_code"], op["operator_id"]))
    if body.scope not in BANK_TYPES:
        raise ApiError(400, "invalid", "not a bank application", "scope")
    if len(body.signature_sha256) != 64:
        raise ApiError(400, "invalid", "the borrower's signature is required", "signature_sha256")
    try:  # the signed authorization's image, uploaded by this kiosk first
        check_signature(ctx, body.signature_sha256)
    except ApiError as err:
        raise ApiError(400, "invalid", err.reason, "signature_sha256") from None
    authorization_id = new_id("BA")
    expires = ctx.now + AUTHORIZATION_TTL_S
    ctx.conn.execute(
        "INSERT INTO bank_authorizations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
        (
            authorization_id,
            op["bank_code"],
            op["operator_id"],
            person,
            body.verification_id,
            body.scope.value,
            body.signature_sha256,
            ctx.iso(),
            expires,
        ),
    )
    return m.BankAuthorization(
        authorization_id, body.scope, op["bank_code"], op["operator_id"], ctx.iso(expires)
    )


def _authorization(ctx: Ctx, authorization_id: str) -> sqlite3.Row:
    """The bank's own, unexpired, unused authorization."""
    op = _operator(ctx)
    row = ctx.one("SELECT * FROM bank_authorizations WHERE authorization_id = ?", authorization_id)
    if row is None or row["bank_code"] != op["bank_code"]:
        raise ApiError(403, "not_authorized", "no authorization of this bank", "authorization_id")
    if row["expires"] < ctx.now:
        raise ApiError(409, "expired", "the authorization has expired", "authorization_id")
    if row["case_number"]:
        raise ApiError(
            403, "not_authorized", "the authorization served its application", "authorization_id"
        )
    return row


def bank_records(ctx: Ctx, body: m.BankRecordsQuery) -> m.BankRecords:
    op = _operator(ctx)
    auth = _authorization(ctx, body.authorization_id)
    person = auth["id_number"]
    units = [
        r["unit_code"]
        for r in ctx.conn.execute(
            "SELECT unit_code FROM holders WHERE id_number = ? ORDER BY unit_code", (person,)
        )
    ]
    bank = ctx.one("SELECT name FROM banks WHERE bank_code = ?", op["bank_code"])
    assert bank is not None
    properties = []
    for unit in units:
        record = _record(ctx, unit, person)
        # another bank's loans are none of this bank's business: only its own are shown
        own = [g for g in record.mortgages if g.creditor == bank["name"]]
        properties.append(dataclasses.replace(record, mortgages=own))
    contracts = [
        m.PresaleContract(
            r["contract_number"], r["unit_code"], r["address"], r["developer"], r["price_fen"]
        )
        for r in ctx.conn.execute(
            "SELECT c.*, p.address FROM presale_contracts c JOIN properties p USING (unit_code) "
            "WHERE c.buyer = ? AND c.status = 'filed' AND NOT EXISTS (SELECT 1 FROM "
            "advance_mortgages a WHERE a.unit_code = c.unit_code AND a.status = 'active') "
            # a built flat is transferred first and then mortgaged: no advance notice for it
            "AND NOT EXISTS (SELECT 1 FROM first_registrations f WHERE f.unit_code = c.unit_code) "
            "ORDER BY contract_number",
            (person,),
        )
    ]
    advance = [
        m.AdvanceMortgage(
            r["notice_id"], r["unit_code"], r["address"], r["amount_fen"], r["unit_code"] in units
        )
        for r in ctx.conn.execute(
            "SELECT a.*, p.address FROM advance_mortgages a JOIN properties p USING (unit_code) "
            "WHERE a.id_number = ? AND a.bank_code = ? AND a.status = 'active' "
            "ORDER BY notice_id",
            (person, op["bank_code"]),
        )
    ]
    return m.BankRecords(properties, contracts, advance)


# -- drafts and maker-checker -----------------------------------------------------------------


def _needs_review(ctx: Ctx, row: sqlite3.Row) -> bool:
    """Maker-checker is the registry's rule for the bank and the application type (the bank's
    agreement with the centre), whatever the draft says; a maker may ask for a review too."""
    rule = ctx.one(
        "SELECT 1 FROM review_rules WHERE bank_code = ? AND type = ?", row["bank_code"], row["type"]
    )
    return rule is not None or bool(json.loads(row["body"]).get("review_required", False))


def _draft(ctx: Ctx, row: sqlite3.Row) -> m.Draft:
    body = json.loads(row["body"])
    return m.Draft(
        row["draft_id"],
        m.ApplicationType(row["type"]),
        m.DraftStatus(row["status"]),
        body.get("summary", ""),
        row["maker"],
        row["maker_name"],
        row["updated"],
        int(body.get("step", 0)),
        body.get("authorization_id", ""),
        body.get("choice", ""),
        [m.FieldValue(**v) for v in body.get("values", [])],
        [m.FieldValue(**v) for v in body.get("review", [])],
        _needs_review(ctx, row),
        row["checker"],
        row["case_number"],
        body.get("returned_reason", ""),
        list((body.get("application") or {}).get("attachments", [])),
    )


def save_draft(ctx: Ctx, body: m.SaveDraft) -> m.Draft:
    op = _operator(ctx)
    draft_id = ctx.params["draft_id"]
    if not 8 <= len(draft_id) <= 40:
        raise ApiError(400, "invalid", "draft id: 8-40 characters", "draft_id")
    if body.status is m.DraftStatus.SUBMITTED:
        raise ApiError(400, "invalid", "a draft is submitted by submit or approve", "status")
    if body.status is m.DraftStatus.AWAITING_REVIEW and body.application is None:
        raise ApiError(400, "invalid", "a draft for review carries the application", "application")
    existing = ctx.one("SELECT * FROM drafts WHERE draft_id = ?", draft_id)
    if existing is not None:
        if (existing["bank_code"], existing["maker"]) != (op["bank_code"], op["operator_id"]):
            raise ApiError(403, "not_authorized", "another operator's draft", "draft_id")
        if existing["status"] != m.DraftStatus.OPEN.value:
            raise ApiError(409, "conflict", "the draft was completed already", "draft_id")
    ctx.conn.execute(
        "INSERT OR REPLACE INTO drafts VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '')",
        (
            draft_id,
            op["bank_code"],
            op["operator_id"],
            op["name"],
            body.type.value,
            body.status.value,
            json.dumps(m.dump(body), ensure_ascii=False),
            ctx.iso(),
        ),
    )
    row = ctx.one("SELECT * FROM drafts WHERE draft_id = ?", draft_id)
    assert row is not None
    return _draft(ctx, row)


WORKBENCH_DAYS = 30  # what the workbench lists by default: the last 30 days' work


def _since(ctx: Ctx, since: str) -> str:
    if not since:
        start = dt.datetime.fromtimestamp(ctx.now, dt.UTC) - dt.timedelta(days=WORKBENCH_DAYS)
        return start.strftime("%Y-%m-%d")
    try:
        return dt.date.fromisoformat(since).isoformat()
    except ValueError:
        raise ApiError(400, "invalid", "since: a date, YYYY-MM-DD", "since") from None


def list_drafts(ctx: Ctx, body: m.DraftsQuery) -> m.Drafts:
    """The operator's open drafts and the bank's drafts awaiting review, saved since the day
    asked (the last 30 days by default), newest first."""
    op = _operator(ctx)
    rows = ctx.conn.execute(
        "SELECT * FROM drafts WHERE bank_code = ? AND substr(updated, 1, 10) >= ? AND ("
        "(maker = ? AND status IN ('open', 'returned')) OR status = 'awaiting_review') "
        "ORDER BY updated DESC",
        (op["bank_code"], _since(ctx, body.since), op["operator_id"]),
    )
    return m.Drafts([_draft(ctx, r) for r in rows])


def _draft_row(ctx: Ctx) -> sqlite3.Row:
    op = _operator(ctx)
    row = ctx.one("SELECT * FROM drafts WHERE draft_id = ?", ctx.params["draft_id"])
    if row is None or row["bank_code"] != op["bank_code"]:
        raise ApiError(404, "not_found", "no such draft of this bank")
    if row["status"] == m.DraftStatus.SUBMITTED.value:
        raise ApiError(409, "conflict", "the draft was filed already", "draft_id")
    return row


def draft_attachment(ctx: Ctx, _body: None) -> tuple[str, bytes]:
    """A page of a draft awaiting review, for another operator of the same bank (the checker
    reads what the maker scanned before approving). Only the draft's own attachments."""
    op = _operator(ctx)
    row = _draft_row(ctx)
    if row["status"] != m.DraftStatus.AWAITING_REVIEW.value or row["maker"] == op["operator_id"]:
        raise ApiError(404, "not_found", "no such draft to review", "draft_id")
    application = json.loads(row["body"]).get("application") or {}
    wanted = ctx.params["attachment_id"]
    if wanted not in application.get("attachments", []):
        raise ApiError(404, "not_found", "no such page in this draft", "attachment_id")
    found = ctx.one("SELECT content_type, data FROM attachments WHERE attachment_id = ?", wanted)
    if found is None:
        raise ApiError(404, "not_found", "no such page in this draft", "attachment_id")
    return str(found["content_type"]), bytes(found["data"])


def _closed(row: sqlite3.Row) -> None:
    if row["status"] in (m.DraftStatus.RETURNED.value, m.DraftStatus.WITHDRAWN.value):
        raise ApiError(409, "conflict", f"the draft was {row['status']}", "draft_id")


def return_draft(ctx: Ctx, body: m.ReturnDraft) -> m.Draft:
    """The checker sends another operator's application back, saying why; nothing is filed,
    and the maker sees the reason (they start a new application with the borrower)."""
    op = _operator(ctx)
    row = _draft_row(ctx)
    _closed(row)
    if row["maker"] == op["operator_id"]:
        raise ApiError(
            409, "same_operator", "the maker of an application cannot review it", "draft_id"
        )
    if row["status"] != m.DraftStatus.AWAITING_REVIEW.value:
        raise ApiError(409, "conflict", "the draft is not awaiting review", "draft_id")
    reason = body.reason.strip()
    if not 2 <= len(reason) <= 200:
        raise ApiError(400, "invalid", "reason: 2-200 characters", "reason")
    stored = json.loads(row["body"]) | {"returned_reason": reason}
    ctx.conn.execute(
        "UPDATE drafts SET status = 'returned', checker = ?, updated = ?, body = ? "
        "WHERE draft_id = ?",
        (op["operator_id"], ctx.iso(), json.dumps(stored, ensure_ascii=False), row["draft_id"]),
    )
    return _draft_now(ctx, row["draft_id"])


def withdraw_draft(ctx: Ctx, _body: None) -> m.Draft:
    """The maker takes back their own application before it is filed."""
    op = _operator(ctx)
    row = _draft_row(ctx)
    if row["maker"] != op["operator_id"]:
        raise ApiError(403, "not_authorized", "another operator's draft", "draft_id")
    if row["status"] == m.DraftStatus.WITHDRAWN.value:
        return _draft(ctx, row)  # withdrawn already: the same answer
    ctx.conn.execute(
        "UPDATE drafts SET status = 'withdrawn', updated = ? WHERE draft_id = ?",
        (ctx.iso(), row["draft_id"]),
    )
    return _draft_now(ctx, row["draft_id"])


def _draft_now(ctx: Ctx, draft_id: str) -> m.Draft:
    """A draft as it stands after a change."""
    row = ctx.one("SELECT * FROM drafts WHERE draft_id = ?", draft_id)
    assert row is not None
    return _draft(ctx, row)


def submit_draft(ctx: Ctx, _body: None) -> m.Case:
    op = _operator(ctx)
    row = _draft_row(ctx)
    if row["maker"] != op["operator_id"]:
        raise ApiError(403, "not_authorized", "another operator's draft", "draft_id")
    _closed(row)
    if _needs_review(ctx, row):
        raise ApiError(
            409, "review_required", "a second operator reviews this application first", "draft_id"
        )
    return _file(ctx, row, checker="")


def approve_draft(ctx: Ctx, _body: None) -> m.Case:
    op = _operator(ctx)
    row = _draft_row(ctx)
    if row["maker"] == op["operator_id"]:
        raise ApiError(
            409, "same_operator", "the maker of an application cannot approve it", "draft_id"
        )
    _closed(row)
    if row["status"] != m.DraftStatus.AWAITING_REVIEW.value:
        raise ApiError(409, "conflict", "the draft is not complete", "draft_id")
    return _file(ctx, row, checker=op["operator_id"])


# -- filing -----------------------------------------------------------------------------------


def _fields(application: m.Application) -> dict[str, str]:
    return {f.name: f.value.strip() for f in application.fields}


def _require(values: dict[str, str], names: tuple[str, ...]) -> None:
    for name in names:
        if not values.get(name):  # never empty: "/" when a field does not apply
            raise ApiError(400, "invalid", f"field {name} is required", f"fields.{name}")


def _check_loan(values: dict[str, str]) -> None:
    _require(values, LOAN_FIELDS)
    if not values["amount"].isdigit() or not 0 < int(values["amount"]) < 10**11:
        raise ApiError(400, "invalid", "amount: whole yuan", "fields.amount")
    if not values["term_from"] < values["term_to"]:
        raise ApiError(400, "invalid", "the term ends before it begins", "fields.term_to")
    if values.get("combined_confirmation") == "是" and values["mortgage_type"] != MAXIMUM:
        raise ApiError(
            400,
            "invalid",
            "the maximum-amount confirmation goes with a maximum-amount mortgage only",
            "fields.combined_confirmation",
        )


def _file(ctx: Ctx, draft: sqlite3.Row, checker: str) -> m.Case:
    op = _operator(ctx)
    body = json.loads(draft["body"])
    if body.get("application") is None:
        raise ApiError(409, "conflict", "the draft is not complete", "draft_id")
    application = m.parse(m.Application, body["application"])
    auth = _authorization(ctx, body.get("authorization_id", ""))
    kind = application.type
    if auth["scope"] != kind.value:
        raise ApiError(
            403, "not_authorized", "the authorization is for another application", "scope"
        )
    # the maker stood with the borrower: a witness is theirs (the checker reviews later)
    maker = (draft["bank_code"], draft["maker"])
    person = _verified(ctx, application.verification_id, operator=maker)
    if person != auth["id_number"]:
        raise ApiError(409, "not_holder", "the authorization is another person's", "scope")
    problem = unit_code_problem(application.unit_code)
    if problem:
        raise ApiError(400, "invalid", problem, "unit_code")
    # the borrower signed the authorization (checked above: this person, this bank, this type,
    # one use), which makes the bank their agent; the agent's operator signs the filing
    signers = {s.signer for s in application.signatures}
    if "operator" not in signers:
        raise ApiError(400, "invalid", "the operator signs as the borrower's agent", "signatures")
    _check_attachments(ctx, application.attachments)
    for signature in application.signatures:
        check_signature(ctx, signature.image_sha256, application.attachments)
    if not application.attachments:
        raise ApiError(400, "invalid", "the contracts are required", "attachments")
    values = _fields(application)
    holds = ctx.one(
        "SELECT 1 FROM holders WHERE unit_code = ? AND id_number = ?", application.unit_code, person
    )
    businesses = [kind.value]
    if kind is m.ApplicationType.MORTGAGE_FIRST:
        if holds is None:
            raise ApiError(409, "not_holder", "the borrower does not hold this unit", "unit_code")
        _check_loan(values)
        if values.get("combined_confirmation") == "是":
            businesses.append("maximum_confirmation")  # 最高额抵押权确定, filed together
    elif kind in (m.ApplicationType.MORTGAGE_CHANGE, m.ApplicationType.MORTGAGE_CANCELLATION):
        mortgage = ctx.one(
            "SELECT * FROM mortgages WHERE mortgage_id = ? AND unit_code = ? "
            "AND bank_code = ? AND status = 'active'",
            application.mortgage_id,
            application.unit_code,
            op["bank_code"],
        )
        if mortgage is None:
            raise ApiError(
                409,
                "no_active_mortgage",
                "no active mortgage of this bank with this id on this unit",
                "mortgage_id",
            )
        if kind is m.ApplicationType.MORTGAGE_CHANGE:
            _require(values, CHANGE_FIELDS)
    elif kind is m.ApplicationType.ADVANCE_MORTGAGE:
        contract = ctx.one(
            "SELECT * FROM presale_contracts WHERE contract_number = ? AND unit_code = ? "
            "AND buyer = ?",
            values.get("contract_number", ""),
            application.unit_code,
            person,
        )
        if contract is None:
            raise ApiError(
                409, "not_holder", "no pre-sale contract of the borrower", "contract_number"
            )
        _check_loan(values)
    elif kind is m.ApplicationType.ADVANCE_TO_MORTGAGE:
        notice = ctx.one(
            "SELECT * FROM advance_mortgages WHERE notice_id = ? AND unit_code = ? "
            "AND bank_code = ? AND status = 'active'",
            application.mortgage_id,
            application.unit_code,
            op["bank_code"],
        )
        if notice is None:
            raise ApiError(
                409, "no_active_mortgage", "no advance-notice mortgage of this bank", "mortgage_id"
            )
        if holds is None:
            raise ApiError(
                409, "not_holder", "the flat is not registered to the borrower yet", "unit_code"
            )
    else:
        raise ApiError(400, "invalid", "not a bank application", "type")
    status = m.CaseStatus.REGISTERED if kind in INSTANT else m.CaseStatus.IN_REVIEW
    if kind is m.ApplicationType.MORTGAGE_CANCELLATION:
        ctx.conn.execute(
            "UPDATE mortgages SET status = 'cancelled' WHERE mortgage_id = ?",
            (application.mortgage_id,),
        )
    sequence = ctx.conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] + 1
    case_number = f"YW{ctx.china_day().replace('-', '')}{sequence:06d}"  # a Beijing day
    bank = ctx.one("SELECT * FROM banks WHERE bank_code = ?", op["bank_code"])
    assert bank is not None
    debtor = values.get("debtor", "")
    record = {
        **m.dump(application),
        "bank": {"code": bank["bank_code"], "name": bank["name"], "uscc": bank["uscc"]},
        "parties": {  # who is who in this registration
            "mortgagor": person,
            "mortgagee": bank["uscc"],
            "debtor": debtor,
            "agent": f"{op['bank_code']}/{draft['maker']}",
        },
        "identity": _identity(ctx, application.verification_id),
        "maker": draft["maker"],
        "checker": checker,
        "authorization_id": auth["authorization_id"],
        "businesses": businesses,
        "draft_id": draft["draft_id"],
    }
    ctx.conn.execute(
        "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_number,
            kind.value,
            status.value,
            application.unit_code,
            person,
            0,  # the bank settles the registration fees with the centre (monthly)
            0,
            ctx.iso(),
            json.dumps(record, ensure_ascii=False),
            ctx.kiosk_id,
        ),
    )
    ctx.conn.execute(
        "UPDATE bank_authorizations SET case_number = ? WHERE authorization_id = ?",
        (case_number, auth["authorization_id"]),
    )
    ctx.conn.execute(
        "UPDATE drafts SET status = 'submitted', checker = ?, case_number = ?, updated = ? "
        "WHERE draft_id = ?",
        (checker, case_number, ctx.iso(), draft["draft_id"]),
    )
    row = ctx.one("SELECT * FROM cases WHERE case_number = ?", case_number)
    assert row is not None
    return _case(row)


def list_operator_cases(ctx: Ctx, body: m.OperatorCasesQuery) -> m.Cases:
    """The cases the operator filed or approved: those filed since the day asked (the last
    30 days by default) and every one still in progress, newest first."""
    op = _operator(ctx)
    since = _since(ctx, body.since)
    rows = ctx.conn.execute(
        "SELECT c.* FROM cases c JOIN drafts d USING (case_number) WHERE d.bank_code = ? "
        "AND (d.maker = ? OR d.checker = ?) AND (substr(c.created, 1, 10) >= ? "
        "OR c.status NOT IN ('registered', 'rejected')) "
        # and the buyers' transfers that made this bank's advance notice its mortgage
        f"UNION SELECT c.* FROM cases c WHERE {BUYERS_CASE} AND substr(c.created, 1, 10) >= ? "
        "ORDER BY created DESC, case_number",
        (op["bank_code"], op["operator_id"], op["operator_id"], since, op["bank_code"], since),
    )
    return m.Cases([_case(r) for r in rows])


# a case the buyers of a new flat filed (转移并抵押) whose mortgage, once registered, is the
# bank's: the bank prints that mortgage's proof from its workbench as for its own filings
BUYERS_CASE = (
    "c.type = 'new_home_transfer_mortgage' AND c.status = 'registered' AND EXISTS (SELECT 1 "
    "FROM mortgages g WHERE g.mortgage_id = 'M' || c.case_number AND g.bank_code = ?)"
)


def _bank_case(ctx: Ctx, case_number: str) -> sqlite3.Row:
    op = _operator(ctx)
    row = ctx.one(
        "SELECT c.* FROM cases c JOIN drafts d USING (case_number) "
        "WHERE c.case_number = ? AND d.bank_code = ?",
        case_number,
        op["bank_code"],
    ) or ctx.one(
        f"SELECT c.* FROM cases c WHERE c.case_number = ? AND {BUYERS_CASE}",
        case_number,
        op["bank_code"],
    )
    if row is None:
        raise ApiError(404, "not_found", "no such case of this bank")
    return row


def registration_proof(ctx: Ctx, _body: None) -> bytes:

    row = _bank_case(ctx, ctx.params["case_number"])
    if row["status"] != m.CaseStatus.REGISTERED.value:
        raise ApiError(409, "not_ready", "the case is not registered yet")
    record = json.loads(row["body"])
    prop = ctx.one("SELECT * FROM properties WHERE unit_code = ?", row["unit_code"])
    person = ctx.one("SELECT name FROM people WHERE id_number = ?", row["applicant"])
    assert prop is not None and person is not None
    values = {f["name"]: f["value"] for f in record.get("fields", [])}
    if "bank" not in record:  # the buyers' transfer: the mortgage it converted is the bank's
        return _converted_proof(ctx, row, prop)
    lines = [
        ("业务类型", "、".join(BUSINESS_ZH.get(b, b) for b in record.get("businesses", []))),
        ("抵押权人", record["bank"]["name"]),
        ("抵押人", mask_name(person["name"])),
        ("不动产单元号", row["unit_code"]),
        ("坐落", prop["address"]),
    ]
    if values.get("amount"):
        lines.append(("债权数额", f"{int(values['amount']):,} 元 ({values['mortgage_type']})"))
        lines.append(("债务履行期限", f"{values['term_from']} 至 {values['term_to']}"))
    return _proof_pdf(ctx, row, prop, lines, record["bank"]["name"])


def _proof_pdf(
    ctx: Ctx, row: sqlite3.Row, prop: sqlite3.Row, lines: list[tuple[str, str]], mortgagee: str
) -> bytes:
    """The proof's PDF, numbered and with its check code (the same as any other copy's)."""
    from kiosk.documents.registration_proof import registration_proof_pdf

    number = proof_number(row, prop)
    stated = {
        "kind": "proof",
        "certificate_number": number,
        "holders": [mortgagee],
        "address": prop["address"],
        "matter": "抵押权",
    }
    code = document_code(ctx, row["case_number"], stated)
    return registration_proof_pdf(lines, number, row["case_number"], ctx.iso(), code)


def _converted_proof(ctx: Ctx, row: sqlite3.Row, prop: sqlite3.Row) -> bytes:

    mortgage = ctx.one(
        "SELECT g.*, b.name AS bank FROM mortgages g JOIN banks b USING (bank_code) "
        "WHERE g.mortgage_id = ?",
        f"M{row['case_number']}",
    )
    assert mortgage is not None  # BUYERS_CASE found the case by it
    holders = [
        mask_name(r["name"])
        for r in ctx.conn.execute(
            "SELECT p.name FROM holders h JOIN people p USING (id_number) WHERE h.unit_code = ? "
            "ORDER BY p.id_number",
            (row["unit_code"],),
        )
    ]
    lines = [
        ("业务类型", "抵押预告转本登记（与新建商品房转移登记一并办理）"),
        ("抵押权人", mortgage["bank"]),
        ("抵押人", "、".join(holders)),
        ("不动产单元号", row["unit_code"]),
        ("坐落", prop["address"]),
        ("债权数额", f"{mortgage['amount_fen'] // 100:,} 元 (一般抵押)"),
        ("债务履行期限", f"{mortgage['term_from']} 至 {mortgage['term_to']}"),
    ]
    return _proof_pdf(ctx, row, prop, lines, mortgage["bank"])


BUSINESS_ZH = {
    "mortgage_first": "抵押权首次登记",
    "mortgage_change": "抵押权变更登记",
    "mortgage_cancellation": "抵押权注销登记",
    "advance_mortgage": "抵押预告登记",
    "advance_to_mortgage": "预告抵押转本登记",
    "maximum_confirmation": "最高额抵押权确定登记",
}


def sandbox_register(ctx: Ctx, _body: None) -> m.Case:
    """The registry's review ends: the case is registered and the register changes."""
    row = ctx.one("SELECT * FROM cases WHERE case_number = ?", ctx.params["case_number"])
    if row is None:
        raise ApiError(404, "not_found", "no such case")
    if row["status"] == m.CaseStatus.IN_REVIEW.value:
        record = json.loads(row["body"])
        values = {f["name"]: f["value"] for f in record.get("fields", [])}
        kind = m.ApplicationType(row["type"])
        bank = record.get("bank", {}).get("code", "")
        if kind in (m.ApplicationType.MORTGAGE_FIRST, m.ApplicationType.ADVANCE_TO_MORTGAGE):
            amount = int(values.get("amount", "0") or 0) * 100
            if kind is m.ApplicationType.ADVANCE_TO_MORTGAGE:
                notice = ctx.one(
                    "SELECT amount_fen FROM advance_mortgages WHERE notice_id = ?",
                    record["mortgage_id"],
                )
                amount = notice["amount_fen"] if notice else 0
                ctx.conn.execute(
                    "UPDATE advance_mortgages SET status = 'converted' WHERE notice_id = ?",
                    (record["mortgage_id"],),
                )
            ctx.conn.execute(
                "INSERT INTO mortgages (mortgage_id, unit_code, bank_code, amount_fen, maximum, "
                "term_from, term_to, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'active')",
                (
                    f"M{row['case_number']}",
                    row["unit_code"],
                    bank,
                    amount,
                    int(values.get("mortgage_type") == MAXIMUM),
                    values.get("term_from", ctx.iso()[:10]),
                    values.get("term_to", ctx.iso()[:10]),
                ),
            )
        elif kind is m.ApplicationType.PRIVATE_MORTGAGE:  # the lender is a person
            lender = ctx.one(
                "SELECT id_number FROM case_parties WHERE case_number = ? AND role = 'mortgagee'",
                row["case_number"],
            )
            assert lender is not None  # the registry filed it with one
            ctx.conn.execute(
                "INSERT INTO mortgages (mortgage_id, unit_code, lender, amount_fen, maximum, "
                "term_from, term_to, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'active')",
                (
                    f"M{row['case_number']}",
                    row["unit_code"],
                    lender["id_number"],
                    int(values.get("amount", "0") or 0) * 100,
                    int(values.get("mortgage_type") == MAXIMUM),
                    values.get("term_from", ""),
                    values.get("term_to", ""),
                ),
            )
        elif kind is m.ApplicationType.ADVANCE_MORTGAGE:
            ctx.conn.execute(
                "INSERT INTO advance_mortgages VALUES (?, ?, ?, ?, ?, 'active')",
                (
                    f"YG{row['case_number']}",
                    row["unit_code"],
                    bank,
                    row["applicant"],
                    int(values.get("amount", "0") or 0) * 100,
                ),
            )
        elif kind in new_homes.CONTRACT_TYPES:
            new_homes.register(ctx, row, values)
        elif kind is m.ApplicationType.MORTGAGE_CHANGE:
            ctx.conn.execute(
                "UPDATE mortgages SET amount_fen = ?, term_to = ? WHERE mortgage_id = ?",
                (
                    int(values.get("new_amount", "0") or 0) * 100,
                    values.get("new_term_to", ""),
                    record["mortgage_id"],
                ),
            )
    ctx.conn.execute(
        "UPDATE cases SET status = 'registered' WHERE case_number = ?", (row["case_number"],)
    )
    updated = ctx.one("SELECT * FROM cases WHERE case_number = ?", row["case_number"])
    assert updated is not None
    return _case(updated)


BANK_HANDLERS: dict[str, Callable[[Ctx, Any], Any]] = {
    "operator_logout": operator_logout,
    "witness_identity": witness_identity,
    "authorize_bank": authorize_bank,
    "bank_records": bank_records,
    "save_draft": save_draft,
    "list_drafts": list_drafts,
    "submit_draft": submit_draft,
    "approve_draft": approve_draft,
    "list_operator_cases": list_operator_cases,
    "return_draft": return_draft,
    "draft_attachment": draft_attachment,
    "withdraw_draft": withdraw_draft,
    "registration_proof": registration_proof,
    "sandbox_register": sandbox_register,
}
