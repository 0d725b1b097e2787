"""The sandbox registry's business: each API route's handler and the rules a centre enforces.

Handlers run inside one SQLite transaction opened by the server, with the request already
parsed into its typed model; they raise ``ApiError`` for every refusal, with a reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kiosk.backend import models as m
from kiosk.backend.api import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES, VERIFICATION_VALID_S
from kiosk.documents.china_time import china_date
from kiosk.identifiers import id_number_problem, unit_code_problem
from kiosk.redact import mask_name
from kiosk.sandbox.db import HOLDER_NAME
from kiosk.sandbox.seed import CHINA, CODE_ALPHABET, password_hash

VERIFICATION_TTL_S = VERIFICATION_VALID_S
CLOCK_SKEW_S = 120  # a kiosk's clock may be this far off the registry's
ORDER_TTL_S = 5 * 60
LOCKOUT_FAILURES = 5
LOCKOUT_S = 15 * 60
PAYEE = "某市不动产登记中心（非税收入）"
FEES = {
    m.ApplicationType.MORTGAGE_FIRST: 8000,
    m.ApplicationType.MORTGAGE_CHANGE: 8000,
    m.ApplicationType.ADVANCE_MORTGAGE: 8000,
    m.ApplicationType.ADVANCE_TO_MORTGAGE: 8000,
    m.ApplicationType.CERTIFICATE_REISSUE: 1000,
    m.ApplicationType.PRIVATE_MORTGAGE: 8000,  # 抵押权首次登记, per case (住宅)
    m.ApplicationType.MORTGAGE_CANCELLATION: 0,
    m.ApplicationType.ADDRESS_CHANGE: 0,
    m.ApplicationType.NAME_CHANGE: 0,
    # a new flat: the transfer 80 元 (住宅, per case); with the mortgage converted, two cases'
    # worth; an advance notice and its cancellation free here (the centre's choice)
    m.ApplicationType.ADVANCE_NOTICE: 0,
    m.ApplicationType.ADVANCE_NOTICE_CANCELLATION: 0,
    m.ApplicationType.NEW_HOME_TRANSFER: 8000,
    m.ApplicationType.ADVANCE_TO_OWNERSHIP: 8000,
    m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE: 16000,
    # 财税〔2016〕79号: an objection is registered free of charge
    m.ApplicationType.OBJECTION: 0,
    m.ApplicationType.OBJECTION_CANCELLATION: 0,
}
# a new flat's registrations, filed by its buyers (kiosk.sandbox.new_homes)
CONTRACT_TYPES = frozenset(
    {
        m.ApplicationType.ADVANCE_NOTICE,
        m.ApplicationType.ADVANCE_NOTICE_CANCELLATION,
        m.ApplicationType.NEW_HOME_TRANSFER,
        m.ApplicationType.ADVANCE_TO_OWNERSHIP,
        m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE,
    }
)
# an objection and its cancellation, filed by the objector (kiosk.sandbox.objections)
OBJECTION_KINDS = frozenset({m.ApplicationType.OBJECTION, m.ApplicationType.OBJECTION_CANCELLATION})
# filed by someone who does not (yet) hold the unit: a buyer, an objector
NOT_BY_HOLDERS = CONTRACT_TYPES | OBJECTION_KINDS
QUERY_FEES = {m.QueryKind.OWN: 0, m.QueryKind.OWNERSHIP: 0, m.QueryKind.UNIT: 0}
INSTANT = {
    m.ApplicationType.MORTGAGE_CANCELLATION,
    m.ApplicationType.OBJECTION,  # seed 004: 异议 is registered at once
    m.ApplicationType.OBJECTION_CANCELLATION,
}
TICKET_SERVICES = {
    "query_certificate": "A",
    "pay_fee": "B",
    "mortgage_cancellation": "C",
    "address_change": "D",
    "name_change": "D",
    "print_certificate": "E",
    "counter": "F",
}


class ApiError(Exception):
    """A refusal. ``keep_changes``: what the handler wrote stands (a counted failed login)."""

    def __init__(
        self, status: int, error: str, reason: str, field: str = "", *, keep_changes: bool = False
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.field = field
        self.keep_changes = keep_changes


@dataclass
class Ctx:
    conn: sqlite3.Connection
    kiosk_id: str
    now: float
    params: dict[str, str]
    content_type: str = ""
    operator: sqlite3.Row | None = None  # the bank operator, on operator routes

    def iso(self, at: float | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now if at is None else at))

    def china_day(self) -> str:
        """Today's date in Beijing (the registry's days are Beijing's)."""
        return dt.datetime.fromtimestamp(self.now, CHINA).strftime("%Y-%m-%d")

    def day_start(self) -> float:
        """When today began in Beijing (a timestamp)."""
        return dt.datetime.fromisoformat(self.china_day()).replace(tzinfo=CHINA).timestamp()

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, args).fetchone()
        return row


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(8).upper()


def setting(ctx: Ctx, name: str, default: int) -> int:
    row = ctx.one("SELECT value FROM settings WHERE name = ?", name)
    return int(row["value"]) if row else default


# -- kiosk ------------------------------------------------------------------------------------

ENROLMENT_CODE = "SANDBOX-ENROL"


def register_kiosk(ctx: Ctx, body: m.RegisterKiosk) -> m.KioskToken:
    if body.enrolment_code != ENROLMENT_CODE:
        raise ApiError(401, "unauthorized", "unknown enrolment code", "enrolment_code")
    if not body.kiosk_id or len(body.kiosk_id) > 40 or not body.kiosk_id.isascii():
        raise ApiError(400, "invalid", "kiosk id: 1-40 ASCII characters", "kiosk_id")
    row = ctx.one("SELECT token FROM kiosks WHERE kiosk_id = ?", body.kiosk_id)
    if row:
        return m.KioskToken(body.kiosk_id, row["token"])
    token = secrets.token_urlsafe(24)
    ctx.conn.execute("INSERT INTO kiosks VALUES (?, ?)", (body.kiosk_id, token))
    return m.KioskToken(body.kiosk_id, token)


def heartbeat(ctx: Ctx, body: m.Heartbeat) -> m.HeartbeatAck:
    ctx.conn.execute(
        "INSERT INTO heartbeats VALUES (?, ?, ?)",
        (ctx.kiosk_id, ctx.iso(), json.dumps(m.dump(body), ensure_ascii=False)),
    )
    return m.HeartbeatAck(ctx.iso())


# -- identity ---------------------------------------------------------------------------------


def _face(image_b64: str) -> np.ndarray[Any, Any]:
    try:
        raw = base64.b64decode(image_b64, validate=True)
    except ValueError:
        raise ApiError(400, "invalid", "not base64", "face_jpeg_b64") from None
    if not raw.startswith(b"\xff\xd8") or len(raw) > 2 * 1024 * 1024:
        raise ApiError(400, "invalid", "a JPEG of at most 2 MB is required", "face_jpeg_b64")
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ApiError(400, "invalid", "the JPEG does not decode", "face_jpeg_b64")
    return np.asarray(image)


@functools.lru_cache(maxsize=1024)
def _record_descriptor(id_number: str) -> np.ndarray[Any, Any]:
    """The photo on record's descriptor, once per person (the demo photos stand in for the
    population register's)."""
    from drivers.idcard.demo_photo import demo_face
    from kiosk.sandbox.face_match import record_descriptor

    return record_descriptor(cv2.cvtColor(demo_face(id_number), cv2.COLOR_BGR2GRAY))


def _compare(image: np.ndarray[Any, Any], id_number: str) -> tuple[m.VerifyResult, float, str]:
    """The live face against the photo on record."""
    from kiosk.sandbox.face_match import MATCH_THRESHOLD, similarity_to

    score = similarity_to(image, _record_descriptor(id_number))
    if score is None:
        return m.VerifyResult.RETRY, 0.0, "no face found in the image"
    if score < MATCH_THRESHOLD:
        return m.VerifyResult.NOT_VERIFIED, round(score, 3), "the face does not match"
    return m.VerifyResult.VERIFIED, round(score, 3), ""


NO_MATCH = "the face does not match the record"


def verify_identity(ctx: Ctx, body: m.VerifyIdentity) -> m.Verification:
    problem = id_number_problem(body.id_number) if body.card_type is m.CardType.RESIDENT else None
    if problem:
        raise ApiError(400, "invalid", problem, "id_number")
    image = _face(body.face_jpeg_b64)
    person = ctx.one("SELECT name FROM people WHERE id_number = ?", body.id_number)
    on_record = person is not None and person["name"] == body.name
    verification_id = new_id("V")
    # The answer never tells whether a name and number are on record: a pair that is not
    # gets exactly what a face that does not match gets (no score, the same reason), and
    # what depends on the image alone (liveness, quality, a face found) is judged first.
    if not body.liveness.passed:
        result, score, reason = m.VerifyResult.NOT_VERIFIED, 0.0, "liveness not passed"
    elif float(image.std()) < 4.0 or min(image.shape) < 64:
        result, score, reason = m.VerifyResult.RETRY, 0.0, "face image too flat or too small"
    else:
        result, score, reason = _compare(image, body.id_number)
        if result is m.VerifyResult.NOT_VERIFIED or (
            result is m.VerifyResult.VERIFIED and not on_record
        ):
            result, score, reason = m.VerifyResult.NOT_VERIFIED, 0.0, NO_MATCH
    ctx.conn.execute(
        "INSERT INTO verifications VALUES (?, ?, ?, ?, ?)",
        (verification_id, body.id_number, result.value, ctx.kiosk_id, ctx.now),
    )
    return m.Verification(verification_id, result, score, reason)


def _verified(
    ctx: Ctx,
    verification_id: str,
    at: float | None = None,
    operator: tuple[str, str] | None = None,
) -> str:
    """The ID number behind a valid, verified verification, unexpired at ``at`` (now by
    default; for a signed application queued in a kiosk's outbox, the moment it was signed,
    which must lie between the verification and now: an outage delays a filing, it does not
    void it).

    A verification is bound to the kiosk the person stood at. An operator's in-person witness
    is valid only for that operator's own bank journeys (``operator`` given): it never opens a
    citizen's route (records, cases, payments, a name change, mailing a certificate).
    ``operator``: (bank code, operator id) of the bank journey asking."""
    row = ctx.one("SELECT * FROM verifications WHERE verification_id = ?", verification_id)
    if row is None or row["kiosk_id"] != ctx.kiosk_id:
        raise ApiError(404, "not_found", "no such verification", "verification_id")
    witness = ctx.one("SELECT * FROM witnessed WHERE verification_id = ?", verification_id)
    if witness is not None and (witness["bank_code"], witness["operator_id"]) != operator:
        raise ApiError(
            403,
            "not_authorized",
            "an operator's witness serves only that operator's bank applications",
            "verification_id",
        )
    if row["result"] != m.VerifyResult.VERIFIED.value:
        raise ApiError(409, "not_verified", "this person was not verified", "verification_id")
    moment = ctx.now if at is None else at
    late = moment - row["created"] > VERIFICATION_TTL_S
    if late or moment < row["created"] - CLOCK_SKEW_S or moment > ctx.now + CLOCK_SKEW_S:
        raise ApiError(
            409, "expired", "verification expired: check the face again", "verification_id"
        )
    number: str = row["id_number"]
    return number


def _signed_at(signatures: list[m.Signature]) -> float | None:
    """When the applicant signed (the evidence the kiosk sends with a queued filing)."""
    for signature in signatures:
        if signature.signer == "applicant":
            return _moment(signature.signed_at, "signatures")
    return None


def _moment(text: str, field: str) -> float:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ApiError(400, "invalid", "signed_at: an ISO time", field) from None


# -- records ----------------------------------------------------------------------------------


# a mortgage with its mortgagee's name (a bank's, or a private lender's) and USCC (a bank's)
MORTGAGES_WITH_CREDITOR = (
    "SELECT g.*, COALESCE(b.name, p.name) AS creditor, COALESCE(b.uscc, '') AS uscc "
    "FROM mortgages g LEFT JOIN banks b USING (bank_code) "
    "LEFT JOIN people p ON p.id_number = g.lender"
)


def _record(ctx: Ctx, unit_code: str, viewer: str) -> m.PropertyRecord:
    prop = ctx.one("SELECT * FROM properties WHERE unit_code = ?", unit_code)
    assert prop is not None
    rows = ctx.conn.execute(
        f"SELECT p.id_number, {HOLDER_NAME} AS name, h.share FROM holders h JOIN people p "
        "USING (id_number) WHERE h.unit_code = ? ORDER BY p.id_number",
        (unit_code,),
    ).fetchall()
    holders = [(r["name"] if r["id_number"] == viewer else mask_name(r["name"])) for r in rows]
    shares = [r["share"] for r in rows]
    mortgages = [
        m.Mortgage(
            r["mortgage_id"],
            # a bank by its name; a private lender by theirs, masked unless it is the viewer
            r["creditor"] if r["bank_code"] or r["lender"] == viewer else mask_name(r["creditor"]),
            r["uscc"],
            r["amount_fen"],
            bool(r["maximum"]),
            r["term_from"],
            r["term_to"],
        )
        for r in ctx.conn.execute(
            f"{MORTGAGES_WITH_CREDITOR} WHERE g.unit_code = ? AND g.status = 'active' "
            "ORDER BY g.mortgage_id",
            (unit_code,),
        )
    ]
    seizures = [
        f"{r['court']} {r['since']}"
        for r in ctx.conn.execute("SELECT * FROM seizures WHERE unit_code = ?", (unit_code,))
    ]
    objections = [
        f"异议登记 {r['since']}"
        for r in ctx.conn.execute(
            "SELECT * FROM objections WHERE unit_code = ? AND status = 'active' AND until >= ?",
            (unit_code, ctx.china_day()),
        )
    ]
    return m.PropertyRecord(
        unit_code,
        prop["address"],
        prop["certificate_number"],
        prop["area_m2"],
        prop["use"],
        prop["right_type"],
        holders,
        mortgages,
        seizures,
        objections,
        shares,
        len(rows) > 1 and not any(shares),
    )


def _records(
    ctx: Ctx, person: str, kind: m.QueryKind, unit_code: str, authorization_code: str
) -> m.Records:
    if kind is m.QueryKind.UNIT:
        # the unit is the one the authorization names; a unit code given must be that one
        problem = unit_code_problem(unit_code) if unit_code else None
        if problem:
            raise ApiError(400, "invalid", problem, "unit_code")
        grant = (
            ctx.one(
                "SELECT * FROM authorizations WHERE code = ? AND grantee = ? AND unit_code = ?",
                authorization_code.strip().upper(),
                person,
                unit_code,
            )
            if unit_code
            else ctx.one(
                "SELECT * FROM authorizations WHERE code = ? AND grantee = ?",
                authorization_code.strip().upper(),
                person,
            )
        )
        if grant is None:
            raise ApiError(
                409,
                "not_authorized",
                "no authorization from the holder for this unit",
                "authorization_code",
            )
        if grant["expires"] < ctx.china_day():  # it works through its last day, in Beijing
            raise ApiError(409, "expired", "the authorization has expired", "authorization_code")
        return m.Records(kind, True, [_record(ctx, grant["unit_code"], person)])
    units = [
        r["unit_code"]
        for r in ctx.conn.execute(
            "SELECT unit_code FROM holders WHERE id_number = ? ORDER BY unit_code", (person,)
        )
    ]
    if kind is m.QueryKind.OWNERSHIP:
        return m.Records(kind, bool(units), [])
    return m.Records(kind, bool(units), [_record(ctx, u, person) for u in units])


def list_records(ctx: Ctx, body: m.RecordsQuery) -> m.Records:
    person = _verified(ctx, body.verification_id)
    return _records(ctx, person, body.kind, body.unit_code, body.authorization_code)


def create_query(ctx: Ctx, body: m.CreateQuery) -> m.QueryResult:
    if not body.purpose.strip() or len(body.purpose) > 200:
        raise ApiError(400, "invalid", "say why (1-200 characters)", "purpose")
    person = _verified(ctx, body.verification_id)
    if body.kind is not m.QueryKind.UNIT:
        # paid within a day and never printed (the printer failed): the same query again, to
        # print at any kiosk without a second fee
        paid = ctx.one(
            "SELECT * FROM queries WHERE id_number = ? AND kind = ? AND paid = 1 AND fee_fen > 0 "
            "AND created >= ? AND query_id NOT IN (SELECT query_id FROM query_prints) "
            "ORDER BY created DESC",
            person,
            body.kind.value,
            ctx.iso(ctx.now - 86400),
        )
        if paid is not None:
            result = json.loads(paid["result"])
            return m.QueryResult(
                paid["query_id"],
                body.kind,
                bool(result["owns_property"]),
                len(result["properties"]),
                paid["fee_fen"],
                True,
                paid["code"],
            )
    records = _records(ctx, person, body.kind, body.unit_code, body.authorization_code)
    fee = setting(ctx, f"query_fee_{body.kind.value}", QUERY_FEES[body.kind])
    query_id = new_id("Q")
    code = secrets.token_hex(6).upper()
    ctx.conn.execute(
        "INSERT INTO queries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            query_id,
            body.verification_id,
            person,
            body.kind.value,
            body.unit_code,
            body.purpose,
            fee,
            int(fee == 0),
            code,
            ctx.iso(),
            json.dumps(m.dump(records), ensure_ascii=False),
        ),
    )
    return m.QueryResult(
        query_id, body.kind, records.owns_property, len(records.properties), fee, fee == 0, code
    )


def list_guides(_ctx: Ctx, _body: None) -> m.Guides:
    from kiosk.sandbox.guides import guides

    return m.Guides(guides(FEES))


AUTHORIZATION_DAYS = range(1, 91)


def issue_authorization(ctx: Ctx, body: m.IssueAuthorization) -> m.Authorization:
    """查询授权: only a holder of the unit, verified at this kiosk, for one other person by ID
    number, for 1-90 days. Whether the grantee is on record is not told (nothing here says
    whether a name and number pair exists): the code works only for someone verified as that
    number, at the query."""
    holder = _verified(ctx, body.verification_id)
    problem = unit_code_problem(body.unit_code)
    if problem:
        raise ApiError(400, "invalid", problem, "unit_code")
    held = ctx.one(
        "SELECT 1 FROM holders WHERE unit_code = ? AND id_number = ?", body.unit_code, holder
    )
    if held is None:
        raise ApiError(409, "not_holder", "only a holder of the unit authorizes", "unit_code")
    grantee = body.grantee_id_number.strip().upper()
    problem = id_number_problem(grantee)
    if problem:
        raise ApiError(400, "invalid", problem, "grantee_id_number")
    if grantee == holder:
        raise ApiError(400, "invalid", "a holder queries their own units", "grantee_id_number")
    if not body.grantee_name.strip() or len(body.grantee_name) > 30:
        raise ApiError(400, "invalid", "the grantee's name (1-30 characters)", "grantee_name")
    if body.valid_days not in AUTHORIZATION_DAYS:
        raise ApiError(400, "invalid", "valid_days: 1 to 90", "valid_days")
    code = "AUTH-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    today = dt.date.fromisoformat(ctx.china_day())
    expires = f"{today + dt.timedelta(days=body.valid_days - 1):%Y-%m-%d}"
    ctx.conn.execute(
        "INSERT INTO authorizations VALUES (?, ?, ?, ?, ?)",
        (code, holder, grantee, body.unit_code, expires),
    )
    return m.Authorization(code, body.unit_code, mask_name(body.grantee_name), expires)


def query_certificate(ctx: Ctx, _body: None) -> bytes:
    from kiosk.documents.query_certificate import query_certificate_pdf

    row = ctx.one("SELECT * FROM queries WHERE query_id = ?", ctx.params["query_id"])
    if row is None:
        raise ApiError(404, "not_found", "no such query")
    if not row["paid"]:
        raise ApiError(409, "unpaid", "the query fee is not paid yet")
    records = m.parse(m.Records, json.loads(row["result"]))
    person = ctx.one("SELECT name FROM people WHERE id_number = ?", row["id_number"])
    assert person is not None  # the proof names its person in full, as official proofs do
    return query_certificate_pdf(
        records, person["name"], row["id_number"], row["code"], row["created"]
    )


def report_query_printed(ctx: Ctx, body: m.QueryPrinted) -> m.QueryPrintAck:
    query_id = ctx.params["query_id"]
    if ctx.one("SELECT 1 FROM queries WHERE query_id = ?", query_id) is None:
        raise ApiError(404, "not_found", "no such query")
    ctx.conn.execute(
        "INSERT OR IGNORE INTO query_prints VALUES (?, ?, ?)",
        (query_id, body.printed_at, ctx.kiosk_id),
    )
    row = ctx.one("SELECT printed_at FROM query_prints WHERE query_id = ?", query_id)
    assert row is not None
    return m.QueryPrintAck(query_id, row["printed_at"])


def verify_certificate(ctx: Ctx, body: m.VerifyCertificate) -> m.CertificateCheck:
    row = ctx.one("SELECT * FROM queries WHERE code = ?", body.code.strip().upper())
    if row is None:  # a certificate's or registration proof's code, or none
        return _document_check(ctx, body.code.strip().upper())
    result = json.loads(row["result"])
    person = ctx.one("SELECT name FROM people WHERE id_number = ?", row["id_number"])
    assert person is not None
    # what the proof in the checker's hand says: who, when (Beijing time), what was found
    return m.CertificateCheck(
        True,
        row["kind"],
        row["created"],
        len(result["properties"]),
        person["name"],
        row["id_number"],
        china_date(row["created"]),
        bool(result["owns_property"]),
    )


# -- attachments and applications -------------------------------------------------------------


def upload_attachment(ctx: Ctx, body: bytes) -> m.Attachment:
    content_type = ctx.content_type.split(";")[0].strip()
    if content_type not in ATTACHMENT_TYPES:
        raise ApiError(
            400, "invalid", f"content type must be one of {ATTACHMENT_TYPES}", "Content-Type"
        )
    if not body or len(body) > MAX_ATTACHMENT_BYTES:
        raise ApiError(400, "invalid", f"1 byte to {MAX_ATTACHMENT_BYTES} bytes", "body")
    magic = b"%PDF-" if content_type == "application/pdf" else b"\xff\xd8\xff"
    if not body.startswith(magic):
        raise ApiError(400, "invalid", f"the body is not {content_type}", "body")
    digest = hashlib.sha256(body).hexdigest()
    attachment_id = new_id("F")
    ctx.conn.execute(
        "INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?)",
        (attachment_id, digest, len(body), content_type, body, ctx.kiosk_id),
    )
    return m.Attachment(attachment_id, digest, len(body), content_type)


def _check_attachments(ctx: Ctx, attachments: list[str]) -> None:
    """Attachments this kiosk uploaded (another kiosk's ids are unknown here)."""
    for attachment in attachments:
        row = ctx.one(
            "SELECT 1 FROM attachments WHERE attachment_id = ? AND kiosk_id = ?",
            attachment,
            ctx.kiosk_id,
        )
        if row is None:
            raise ApiError(400, "invalid", f"unknown attachment {attachment}", "attachments")


def check_signature(ctx: Ctx, sha256: str, attachments: list[str] | None = None) -> None:
    """A signature is its image, not a hash of anything: a JPEG this kiosk uploaded (among the
    application's attachments, when given), that decodes, with ink on it."""
    sql = "SELECT data FROM attachments WHERE sha256 = ? AND kiosk_id = ? AND content_type = ?"
    args: list[Any] = [sha256, ctx.kiosk_id, "image/jpeg"]
    if attachments is not None:
        sql += f" AND attachment_id IN ({', '.join('?' * len(attachments))})"
        args += attachments
    row = ctx.one(sql, *args)
    if row is None:
        raise ApiError(
            400, "invalid", "the signature's image is not among the attachments", "signatures"
        )
    image = cv2.imdecode(np.frombuffer(row["data"], np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or min(image.shape) < 32:
        raise ApiError(400, "invalid", "the signature is not an image", "signatures")
    ink = float((image < 128).mean())
    if not MIN_INK <= ink <= MAX_INK:
        raise ApiError(400, "invalid", "the signature is blank (or a filled block)", "signatures")


MIN_INK, MAX_INK = 0.002, 0.5  # the share of dark pixels a handwritten signature has


def _case(row: sqlite3.Row) -> m.Case:
    body = json.loads(row["body"]) if row["body"] else {}
    return m.Case(
        row["case_number"],
        m.ApplicationType(row["type"]),
        m.CaseStatus(row["status"]),
        row["unit_code"],
        row["fee_fen"],
        bool(row["paid"]),
        row["created"],
        list(body.get("attachments", [])),
        f"https://sandbox.invalid/case/{row['case_number']}",
        issued_document(m.ApplicationType(row["type"])),
    )


# the registrations that issue a certificate of title to the holders (the rest a proof, but
# a cancellation, which issues nothing: 注销登记不发证)
TITLE_REGISTRATIONS = frozenset(
    {
        m.ApplicationType.CERTIFICATE_REISSUE,
        m.ApplicationType.NEW_HOME_TRANSFER,
        m.ApplicationType.ADVANCE_TO_OWNERSHIP,
        m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE,
    }
)
CANCELLATIONS = frozenset(
    {
        m.ApplicationType.MORTGAGE_CANCELLATION,
        m.ApplicationType.ADVANCE_NOTICE_CANCELLATION,
        m.ApplicationType.OBJECTION_CANCELLATION,
    }
)


def issued_document(kind: m.ApplicationType) -> str:
    if kind in CANCELLATIONS:
        return ""
    return "certificate" if kind in TITLE_REGISTRATIONS else "proof"


def _field(body: m.Application, name: str) -> str:
    value = next((f.value for f in body.fields if f.name == name), "").strip()
    if not value:
        raise ApiError(400, "invalid", f"field {name} is required", f"fields.{name}")
    return value


def _check_name_change(ctx: Ctx, body: m.Application, applicant: str) -> None:
    """更名: the new name is the person's name now (the card, as the public security link
    has it), the former one is the name the register has on this unit; else nothing to do."""
    new, former = _field(body, "new_name"), _field(body, "former_name")
    row = ctx.one(
        f"SELECT p.name AS now, {HOLDER_NAME} AS registered FROM holders h JOIN people p "
        "USING (id_number) WHERE h.unit_code = ? AND h.id_number = ?",
        body.unit_code,
        applicant,
    )
    assert row is not None  # a holder: checked before
    if new != row["now"]:
        raise ApiError(
            409, "name_mismatch", "the new name is not the applicant's name", "fields.new_name"
        )
    if row["registered"] == row["now"]:
        raise ApiError(
            409,
            "nothing_to_change",
            "the register already has the applicant's current name on this unit",
            "fields.former_name",
        )
    if former != row["registered"]:
        raise ApiError(
            409,
            "former_name_mismatch",
            "the former name is not the name the register has on this unit",
            "fields.former_name",
        )


# who else takes part in person, by application type: the roles a party may take
PARTY_ROLES: dict[m.ApplicationType, frozenset[str]] = {
    m.ApplicationType.PRIVATE_MORTGAGE: frozenset({"mortgagor", "mortgagee"}),
    **dict.fromkeys(CONTRACT_TYPES, frozenset({"buyer"})),
}


def refuse_if_seized(ctx: Ctx, unit_code: str) -> None:
    if ctx.one("SELECT 1 FROM seizures WHERE unit_code = ?", unit_code) is not None:
        raise ApiError(409, "seized", "the unit is seized by a court", "unit_code")


def require_everyone(people: dict[str, str], signed: set[str], who: str) -> None:
    """Every one of ``people`` (ID number → name) signed; else refused naming the missing,
    masked. ``who``: what they are ("every holder mortgages the unit")."""
    missing = sorted(mask_name(people[n]) for n in set(people) - signed)
    if missing:
        raise ApiError(409, "missing_party", f"{who}: {'、'.join(missing)} did not sign", "parties")


def _parties(ctx: Ctx, body: m.Application, applicant: str) -> list[tuple[str, str, str]]:
    """Each party's (ID number, role, verification): verified at this kiosk and still valid
    when they signed, signed with an image of their own among the attachments, and nobody
    twice (the applicant included)."""
    roles = PARTY_ROLES.get(body.type, frozenset())
    if body.parties and not roles:
        raise ApiError(400, "invalid", f"{body.type.value} takes no other parties", "parties")
    people, images = {applicant}, {s.image_sha256 for s in body.signatures}
    found = []
    for index, party in enumerate(body.parties):
        where = f"parties[{index}]"
        if party.role not in roles:
            raise ApiError(400, "invalid", f"role: one of {sorted(roles)}", f"{where}.role")
        number = _verified(ctx, party.verification_id, _moment(party.signed_at, where))
        if number in people:
            raise ApiError(409, "party_twice", "one person is named twice", where)
        if party.signature_sha256 in images:
            raise ApiError(
                409, "signature_reused", "each party signs with their own signature", where
            )
        check_signature(ctx, party.signature_sha256, body.attachments)
        people.add(number)
        images.add(party.signature_sha256)
        found.append((number, party.role, party.verification_id))
    return found


def _check_private_mortgage(
    ctx: Ctx, body: m.Application, applicant: str, parties: list[tuple[str, str, str]]
) -> None:
    """个人之间抵押: every holder of the unit mortgages it (the applicant and each co-owner,
    present and signing), to one lender who is not a holder; not while it is seized; with the
    secured amount, the term and the loan contract."""
    holders = {
        r["id_number"]: r["name"]
        for r in ctx.conn.execute(
            f"SELECT p.id_number, {HOLDER_NAME} AS name FROM holders h JOIN people p "
            "USING (id_number) WHERE h.unit_code = ?",
            (body.unit_code,),
        )
    }
    mortgagors = {applicant} | {n for n, role, _ in parties if role == "mortgagor"}
    if mortgagors - set(holders):
        raise ApiError(409, "not_holder", "a mortgagor does not hold this unit", "parties")
    lenders = [n for n, role, _ in parties if role == "mortgagee"]
    if len(lenders) != 1:
        raise ApiError(409, "missing_party", "one mortgagee signs with the holders", "parties")
    if lenders[0] in holders:
        raise ApiError(
            409, "mortgagee_is_holder", "a holder cannot take a mortgage on their own unit"
        )
    require_everyone(holders, mortgagors, "every holder mortgages the unit")
    refuse_if_seized(ctx, body.unit_code)
    amount = _field(body, "amount")
    if not amount.isdigit() or int(amount) <= 0:
        raise ApiError(400, "invalid", "amount: whole yuan, more than 0", "fields.amount")
    if not _field(body, "term_from") < _field(body, "term_to"):
        raise ApiError(400, "invalid", "the term must end after it begins", "fields.term_to")
    if not documents_besides_signatures(ctx, body):
        raise ApiError(400, "invalid", "the loan contract is required", "attachments")


def documents_besides_signatures(ctx: Ctx, body: m.Application) -> bool:
    """Whether the attachments hold a scanned document, not only the parties' signatures."""
    signatures = {s.image_sha256 for s in body.signatures} | {
        p.signature_sha256 for p in body.parties
    }
    marks = ", ".join("?" * len(body.attachments))
    digests = [
        r["sha256"]
        for r in ctx.conn.execute(
            f"SELECT sha256 FROM attachments WHERE attachment_id IN ({marks})", body.attachments
        )
    ]
    return any(d not in signatures for d in digests)


def submit_application(ctx: Ctx, body: m.Application) -> m.Case:
    problem = unit_code_problem(body.unit_code)
    if problem:
        raise ApiError(400, "invalid", problem, "unit_code")
    applicant = _verified(ctx, body.verification_id, _signed_at(body.signatures))
    if ctx.one("SELECT 1 FROM properties WHERE unit_code = ?", body.unit_code) is None:
        raise ApiError(404, "not_found", "no such unit", "unit_code")
    kind = body.type
    holds = ctx.one(
        "SELECT 1 FROM holders WHERE unit_code = ? AND id_number = ?", body.unit_code, applicant
    )
    if holds is None and kind not in NOT_BY_HOLDERS:
        raise ApiError(409, "not_holder", "the applicant does not hold this unit", "unit_code")
    _check_attachments(ctx, body.attachments)
    if not any(s.signer == "applicant" for s in body.signatures):
        raise ApiError(400, "invalid", "the applicant's signature is required", "signatures")
    for signature in body.signatures:
        check_signature(ctx, signature.image_sha256, body.attachments)
    parties = _parties(ctx, body, applicant)
    if kind in (m.ApplicationType.MORTGAGE_CANCELLATION, m.ApplicationType.MORTGAGE_CHANGE):
        mortgage = ctx.one(
            "SELECT * FROM mortgages WHERE mortgage_id = ? AND unit_code = ? AND status = 'active'",
            body.mortgage_id,
            body.unit_code,
        )
        if mortgage is None:
            raise ApiError(
                409,
                "no_active_mortgage",
                "no active mortgage with this id on this unit",
                "mortgage_id",
            )
        if kind is m.ApplicationType.MORTGAGE_CANCELLATION and not body.attachments:
            raise ApiError(400, "invalid", "the bank's release document is required", "attachments")
    elif kind is m.ApplicationType.ADDRESS_CHANGE:
        _field(body, "new_address")
    elif kind is m.ApplicationType.NAME_CHANGE:
        _check_name_change(ctx, body, applicant)
    elif kind is m.ApplicationType.PRIVATE_MORTGAGE:
        _check_private_mortgage(ctx, body, applicant, parties)
    elif kind in NOT_BY_HOLDERS:
        from kiosk.sandbox import new_homes, objections

        if kind in OBJECTION_KINDS:
            objections.check(ctx, body, applicant)
        else:
            new_homes.check(ctx, body, applicant, parties)
    fee = FEES[kind]
    if fee:
        status = m.CaseStatus.AWAITING_PAYMENT
    elif kind in INSTANT:
        status = m.CaseStatus.REGISTERED
        if kind is m.ApplicationType.MORTGAGE_CANCELLATION:
            ctx.conn.execute(
                "UPDATE mortgages SET status = 'cancelled' WHERE mortgage_id = ?",
                (body.mortgage_id,),
            )
    else:
        status = m.CaseStatus.IN_REVIEW
    sequence = ctx.conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] + 1
    case_number = f"YW{ctx.china_day().replace('-', '')}{sequence:06d}"  # a Beijing day
    ctx.conn.execute(
        "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case_number,
            kind.value,
            status.value,
            body.unit_code,
            applicant,
            fee,
            0,
            ctx.iso(),
            json.dumps(m.dump(body), ensure_ascii=False),
            ctx.kiosk_id,
        ),
    )
    ctx.conn.executemany(
        "INSERT INTO case_parties VALUES (?, ?, ?, ?)",
        [(case_number, number, role, vid) for number, role, vid in parties],
    )
    if kind in INSTANT and kind is not m.ApplicationType.MORTGAGE_CANCELLATION:
        from kiosk.sandbox import objections

        objections.register_now(ctx, body, applicant, case_number)
    row = ctx.one("SELECT * FROM cases WHERE case_number = ?", case_number)
    assert row is not None
    return _case(row)


def _holders_case(ctx: Ctx, case_number: str, verification_id: str) -> sqlite3.Row:
    """A case, for its verified applicant, a party to it (the lender of a private mortgage)
    or a current holder of its unit — not of an objection to it, which is its objector's.
    Anyone else is answered as if there were no such case: a case number grants nothing."""
    person = _verified(ctx, verification_id)
    row = ctx.one("SELECT * FROM cases WHERE case_number = ?", case_number)
    objection = row is not None and m.ApplicationType(row["type"]) in OBJECTION_KINDS
    if row is None or (
        row["applicant"] != person
        and (
            objection
            or ctx.one(
                "SELECT 1 FROM holders WHERE unit_code = ? AND id_number = ?",
                row["unit_code"],
                person,
            )
            is None
        )
        and ctx.one(
            "SELECT 1 FROM case_parties WHERE case_number = ? AND id_number = ?",
            case_number,
            person,
        )
        is None
    ):
        raise ApiError(404, "not_found", "no such case")
    return row


def get_case(ctx: Ctx, body: m.CaseQuery) -> m.Case:
    return _case(_holders_case(ctx, ctx.params["case_number"], body.verification_id))


def list_cases(ctx: Ctx, body: m.CasesQuery) -> m.Cases:
    person = _verified(ctx, body.verification_id)
    rows = ctx.conn.execute(
        "SELECT * FROM cases WHERE (applicant = ? OR case_number IN (SELECT case_number FROM "
        "case_parties WHERE id_number = ?)) AND status != 'rejected' ORDER BY case_number",
        (person, person),
    )
    return m.Cases([_case(r) for r in rows])


# -- payments ---------------------------------------------------------------------------------


def _order(row: sqlite3.Row) -> m.Order:
    return m.Order(
        row["order_id"],
        row["reference"],
        m.OrderKind(row["kind"]),
        row["target"],
        row["amount_fen"],
        m.Channel(row["channel"]),
        PAYEE,
        f"sandbox://pay/{row['channel']}/{row['order_id']}?amount={row['amount_fen']}",
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["expires"])),
        m.OrderStatus(row["status"]),
    )


def _order_row(ctx: Ctx) -> sqlite3.Row:
    """An order of this kiosk (another kiosk's is answered as one that does not exist)."""
    row = ctx.one(
        "SELECT * FROM orders WHERE order_id = ? AND kiosk_id = ?",
        ctx.params["order_id"],
        ctx.kiosk_id,
    )
    if row is None:
        raise ApiError(404, "not_found", "no such order")
    return row


def create_order(ctx: Ctx, body: m.CreateOrder) -> m.Order:
    if not 8 <= len(body.reference) <= 64 or not body.reference.isascii():
        raise ApiError(400, "invalid", "reference: 8-64 ASCII characters", "reference")
    person = _verified(ctx, body.verification_id)
    existing = ctx.one("SELECT * FROM orders WHERE reference = ?", body.reference)
    if existing is not None:
        same = (
            existing["kind"],
            existing["target"],
            existing["channel"],
            existing["kiosk_id"],
            existing["id_number"],
        ) == (body.kind.value, body.target, body.channel.value, ctx.kiosk_id, person)
        if not same:
            raise ApiError(
                409, "conflict", "this reference belongs to another payment", "reference"
            )
        return _order(existing)
    # the person pays for their own query, or a case of theirs
    if body.kind is m.OrderKind.QUERY:
        target = ctx.one(
            "SELECT fee_fen AS fee, paid FROM queries WHERE query_id = ? AND id_number = ?",
            body.target,
            person,
        )
    else:
        target = ctx.one(
            "SELECT fee_fen AS fee, paid FROM cases WHERE case_number = ? "
            "AND status = 'awaiting_payment' AND (applicant = ? OR EXISTS (SELECT 1 FROM "
            "holders h WHERE h.unit_code = cases.unit_code AND h.id_number = ?))",
            body.target,
            person,
            person,
        )
    if target is None:
        raise ApiError(404, "not_found", "nothing to pay for this target", "target")
    if target["paid"] or target["fee"] == 0:
        raise ApiError(409, "already_paid", "nothing is due for this target", "target")
    open_order = ctx.one(
        "SELECT 1 FROM orders WHERE kind = ? AND target = ? AND status IN ('NOTPAY', 'SUCCESS') "
        "AND expires > ?",
        body.kind.value,
        body.target,
        ctx.now,
    )
    if open_order is not None:
        raise ApiError(
            409, "order_open", "another order for this target is open; cancel it first", "target"
        )
    order_id = new_id("P")
    ctx.conn.execute(
        "INSERT INTO orders (order_id, reference, kind, target, amount_fen, channel, status, "
        "created, expires, kiosk_id, id_number) VALUES (?, ?, ?, ?, ?, ?, 'NOTPAY', ?, ?, ?, ?)",
        (
            order_id,
            body.reference,
            body.kind.value,
            body.target,
            target["fee"],
            body.channel.value,
            ctx.now,
            ctx.now + ORDER_TTL_S,
            ctx.kiosk_id,
            person,
        ),
    )
    row = ctx.one("SELECT * FROM orders WHERE order_id = ?", order_id)
    assert row is not None
    return _order(row)


def get_order(ctx: Ctx, _body: None) -> m.Order:
    return _order(_order_row(ctx))


def cancel_order(ctx: Ctx, _body: None) -> m.Order:
    row = _order_row(ctx)
    if row["status"] == "NOTPAY":
        ctx.conn.execute(
            "UPDATE orders SET status = 'CLOSED' WHERE order_id = ?", (row["order_id"],)
        )
        row = _order_row(ctx)
    # A paid order stays paid: the caller sees SUCCESS and keeps the payment (or refunds it).
    return _order(row)


def sandbox_pay(ctx: Ctx, _body: None) -> m.Order:
    # the payer's phone: any kiosk's order (the test mode's route has no kiosk)
    row = ctx.one("SELECT * FROM orders WHERE order_id = ?", ctx.params["order_id"])
    if row is None:
        raise ApiError(404, "not_found", "no such order")
    if row["status"] == "SUCCESS":
        return _order(row)
    if row["status"] != "NOTPAY":
        raise ApiError(409, "closed", "the order is closed")
    if ctx.now > row["expires"]:
        raise ApiError(409, "expired", "the QR code has expired")
    receipt = f"FS{ctx.china_day().replace('-', '')}{secrets.randbelow(10**8):08d}"
    ctx.conn.execute(
        "UPDATE orders SET status = 'SUCCESS', paid_at = ?, receipt_number = ? WHERE order_id = ?",
        (ctx.iso(), receipt, row["order_id"]),
    )
    if row["kind"] == "query":
        ctx.conn.execute("UPDATE queries SET paid = 1 WHERE query_id = ?", (row["target"],))
    else:
        ctx.conn.execute(
            "UPDATE cases SET paid = 1, status = 'in_review' WHERE case_number = ?",
            (row["target"],),
        )
    paid = ctx.one("SELECT * FROM orders WHERE order_id = ?", row["order_id"])
    assert paid is not None
    return _order(paid)


def order_receipt(ctx: Ctx, _body: None) -> m.EReceipt:
    row = _order_row(ctx)
    if row["status"] not in ("SUCCESS", "REFUNDED"):
        raise ApiError(409, "unpaid", "no receipt before payment")
    item = "不动产登记资料查询费" if row["kind"] == "query" else "不动产登记费"
    check = hashlib.sha256(row["receipt_number"].encode()).hexdigest()[:6].upper()
    payer = ctx.one("SELECT name FROM people WHERE id_number = ?", row["id_number"])
    return m.EReceipt(
        row["receipt_number"],
        row["order_id"],
        row["amount_fen"],
        PAYEE,
        item,
        row["paid_at"],
        check,
        f"https://sandbox.invalid/receipt/{row['receipt_number']}?c={check}",
        row["target"],
        mask_name(payer["name"]) if payer is not None else "",
    )


def refund_order(ctx: Ctx, body: m.RefundRequest) -> m.Refund:
    """A refund, for the person who paid, at the kiosk that took the payment. What it paid
    for is unpaid again: a refunded case awaits payment, a refunded query is charged again."""
    row = _order_row(ctx)
    if _verified(ctx, body.verification_id) != row["id_number"]:
        raise ApiError(404, "not_found", "no such order")
    if not 8 <= len(body.refund_no) <= 64 or not body.refund_no.isascii():
        raise ApiError(400, "invalid", "refund number: 8-64 ASCII characters", "refund_no")
    existing = ctx.one("SELECT * FROM refunds WHERE refund_no = ?", body.refund_no)
    if existing is not None:
        if existing["order_id"] != row["order_id"] or existing["amount_fen"] != body.amount_fen:
            raise ApiError(409, "conflict", "this refund number is another refund", "refund_no")
        return m.Refund(body.refund_no, row["order_id"], body.amount_fen, "REFUNDED")
    if row["status"] != "SUCCESS":
        raise ApiError(409, "not_refundable", "only a paid order can be refunded")
    if not 0 < body.amount_fen <= row["amount_fen"]:
        raise ApiError(
            400, "invalid", "amount must be positive and at most what was paid", "amount_fen"
        )
    ctx.conn.execute(
        "INSERT INTO refunds VALUES (?, ?, ?, ?)",
        (body.refund_no, row["order_id"], body.amount_fen, body.reason[:200]),
    )
    ctx.conn.execute("UPDATE orders SET status = 'REFUNDED' WHERE order_id = ?", (row["order_id"],))
    if row["kind"] == "query":
        ctx.conn.execute("UPDATE queries SET paid = 0 WHERE query_id = ?", (row["target"],))
    else:
        ctx.conn.execute(  # a case still under review waits for its fee again
            "UPDATE cases SET paid = 0, status = CASE WHEN status = 'in_review' "
            "THEN 'awaiting_payment' ELSE status END WHERE case_number = ?",
            (row["target"],),
        )
    return m.Refund(body.refund_no, row["order_id"], body.amount_fen, "REFUNDED")


# -- paper certificates -----------------------------------------------------------------------


def certificate_data(ctx: Ctx, body: m.CaseQuery) -> m.CertificateData:
    row = _holders_case(ctx, ctx.params["case_number"], body.verification_id)
    if row["status"] != "registered":
        raise ApiError(409, "not_ready", "the case is not registered yet")
    kind = m.ApplicationType(row["type"])
    issues = issued_document(kind)
    if not issues:
        raise ApiError(409, "nothing_issued", "a cancellation issues no certificate or proof")
    if ctx.one("SELECT 1 FROM deliveries WHERE case_number = ? AND method = 'ems'", row[0]):
        raise ApiError(409, "already_issued", "the paper certificate is being mailed")
    if ctx.one("SELECT 1 FROM paper WHERE case_number = ? AND outcome = 'printed'", row[0]):
        raise ApiError(409, "already_issued", "the paper certificate was printed already")
    prop = ctx.one("SELECT * FROM properties WHERE unit_code = ?", row["unit_code"])
    assert prop is not None
    rows = ctx.conn.execute(
        f"SELECT {HOLDER_NAME} AS name, h.share FROM holders h JOIN people p USING (id_number) "
        "WHERE h.unit_code = ? ORDER BY p.id_number",
        (row["unit_code"],),
    ).fetchall()
    holders, shares = [r["name"] for r in rows], [r["share"] for r in rows]
    # the paper reports that follow must come from this kiosk, for this person's request
    ctx.conn.execute(
        "INSERT OR REPLACE INTO certificate_issues VALUES (?, ?, ?, ?)",
        (row["case_number"], ctx.kiosk_id, body.verification_id, ctx.iso()),
    )
    proof = issues == "proof"
    number = proof_number(row, prop) if proof else prop["certificate_number"]
    fields = _mortgage_proof(ctx, row, holders) if proof else []
    if kind in (m.ApplicationType.ADVANCE_NOTICE, m.ApplicationType.OBJECTION):
        from kiosk.sandbox import new_homes, objections

        # the right proved is the buyers' (the developer holds the flat) or the objector's
        prove = new_homes.notice_proof if kind is m.ApplicationType.ADVANCE_NOTICE else None
        holders, fields = (prove or objections.objection_proof)(ctx, row)
        shares = []
    stated = {f.name: f.value for f in fields}
    code = document_code(
        ctx,
        row["case_number"],
        {
            "kind": issues,
            "certificate_number": number,
            "holders": [stated["holder"]] if "holder" in stated else holders,
            "address": prop["address"],
            "matter": stated.get("matter", ""),
        },
    )
    return m.CertificateData(
        row["case_number"],
        issues,
        number,
        row["unit_code"],
        prop["address"],
        holders,
        prop["right_type"],
        prop["use"],
        prop["area_m2"],
        china_date(row["created"]),
        fields,
        shares if any(shares) else [],
        code,
    )


def proof_number(case: sqlite3.Row, prop: sqlite3.Row) -> str:
    """A registration proof's own number (its own sequence, by case), with the place of the
    unit's title: 鲁(2024)济南市不动产证明第0000043号."""
    title: str = prop["certificate_number"]
    place = title.split("不动产权", maxsplit=1)[0] if "不动产权" in title else ""
    return f"{place}不动产证明第{int(case['case_number'][-6:]):07d}号"


def document_code(ctx: Ctx, case_number: str, stated: dict[str, Any]) -> str:
    """The check code of the case's certificate or proof (``stated["kind"]``): made when it is
    first issued, with what it states; the same for every copy (a reprint, a download)."""
    row = ctx.one(
        "SELECT code FROM document_codes WHERE case_number = ? AND kind = ?",
        case_number,
        stated["kind"],
    )
    if row is not None:
        found: str = row["code"]
        return found
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    ctx.conn.execute(
        "INSERT INTO document_codes VALUES (?, ?, ?, ?, ?)",
        (code, case_number, stated["kind"], ctx.iso(), json.dumps(stated, ensure_ascii=False)),
    )
    return code


def _document_check(ctx: Ctx, code: str) -> m.CertificateCheck:
    """A certificate or registration proof by the code printed on it: what it stated, and
    whether the register still says so."""
    doc = ctx.one(
        "SELECT d.*, c.type, c.unit_code, c.body AS case_body FROM document_codes d "
        "JOIN cases c USING (case_number) WHERE d.code = ?",
        code,
    )
    if doc is None:
        return m.CertificateCheck(False)
    stated = json.loads(doc["body"])
    return m.CertificateCheck(
        True,
        stated["kind"],
        doc["issued_at"],
        holder="、".join(stated["holders"]),
        issued_on=china_date(doc["issued_at"]),
        certificate_number=stated["certificate_number"],
        address=stated["address"],
        matter=stated["matter"],
        current=_still_stated(ctx, doc, stated),
    )


def _still_stated(ctx: Ctx, doc: sqlite3.Row, stated: dict[str, Any]) -> bool:
    """Whether the register still says what the document does: the title's number (a
    transfer or reissue gives a new one); the mortgage, advance notice or objection stands."""
    case = doc["case_number"]
    if stated["kind"] == "certificate":
        prop = ctx.one(
            "SELECT certificate_number FROM properties WHERE unit_code = ?", doc["unit_code"]
        )
        return prop is not None and prop["certificate_number"] == stated["certificate_number"]
    kind = m.ApplicationType(doc["type"])
    if kind in MORTGAGE_PROOFS or kind is m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE:
        body = json.loads(doc["case_body"]) if doc["case_body"] else {}
        for mortgage_id in (f"M{case}", body.get("mortgage_id", "")):
            row = ctx.one("SELECT status FROM mortgages WHERE mortgage_id = ?", mortgage_id)
            if row is not None:
                return bool(row["status"] == "active")
        # a case filed before the register kept its mortgage's id (as _mortgage_proof reads it)
        return (
            ctx.one(
                "SELECT 1 FROM mortgages WHERE unit_code = ? AND status = 'active'",
                doc["unit_code"],
            )
            is not None
        )
    from kiosk.sandbox import new_homes, objections

    if kind is m.ApplicationType.ADVANCE_NOTICE:
        return new_homes.notice_stands(ctx, case)
    if kind is m.ApplicationType.OBJECTION:
        return objections.objection_stands(ctx, case)
    return True


# registrations whose proof (不动产登记证明) states a mortgage, not the ownership
MORTGAGE_PROOFS = {
    m.ApplicationType.MORTGAGE_FIRST,
    m.ApplicationType.MORTGAGE_CHANGE,
    m.ApplicationType.ADVANCE_TO_MORTGAGE,
    m.ApplicationType.PRIVATE_MORTGAGE,
}


def _mortgage_proof(ctx: Ctx, row: sqlite3.Row, holders: list[str]) -> list[m.FieldValue]:
    """What a mortgage's registration proof states: the right (抵押权), its holder (the
    mortgagee: a bank, or the lender of a private mortgage), the obligors (the unit's
    holders), the secured amount, the term and the kind. Empty for other registrations."""
    if m.ApplicationType(row["type"]) not in MORTGAGE_PROOFS:
        return []
    body = json.loads(row["body"]) if row["body"] else {}
    mortgage = None
    for mortgage_id in (body.get("mortgage_id", ""), f"M{row['case_number']}"):
        mortgage = mortgage or ctx.one(
            f"{MORTGAGES_WITH_CREDITOR} WHERE g.mortgage_id = ?",
            mortgage_id,
        )
    mortgage = mortgage or ctx.one(  # a case filed before the register kept its mortgage's id
        f"{MORTGAGES_WITH_CREDITOR} WHERE g.unit_code = ? AND g.status = 'active' "
        "ORDER BY g.term_from DESC",
        row["unit_code"],
    )
    if mortgage is None:
        return []
    kind = "最高额抵押" if mortgage["maximum"] else "一般抵押"
    amount = "最高债权额" if mortgage["maximum"] else "被担保主债权数额"
    other = (
        f"{amount}：{mortgage['amount_fen'] / 100:,.2f} 元；"
        f"债务履行期限：{mortgage['term_from']} 至 {mortgage['term_to']}；抵押方式：{kind}"
    )
    return [
        m.FieldValue("matter", "抵押权"),
        m.FieldValue("holder", mortgage["creditor"]),
        m.FieldValue("obligors", "、".join(holders)),
        m.FieldValue("other", other),
    ]


def request_delivery(ctx: Ctx, body: m.DeliveryRequest) -> m.Delivery:
    """EMS mailing or the electronic certificate, for a registered case of the person."""
    person = _verified(ctx, body.verification_id)
    case_number = ctx.params["case_number"]
    row = ctx.one("SELECT * FROM cases WHERE case_number = ?", case_number)
    if row is None:
        raise ApiError(404, "not_found", "no such case")
    if row["applicant"] != person:
        raise ApiError(409, "not_holder", "the case is not the person's")
    if row["status"] != "registered":
        raise ApiError(409, "not_ready", "the case is not registered yet")
    if body.method is m.DeliveryMethod.EMS:
        for name in ("recipient", "phone", "address"):
            if not str(getattr(body, name)).strip():
                raise ApiError(400, "invalid", f"{name} is required for mailing", name)
        printed = ctx.one(
            "SELECT 1 FROM paper WHERE case_number = ? AND outcome = 'printed'", case_number
        )
        mailed = ctx.one(
            "SELECT 1 FROM deliveries WHERE case_number = ? AND method = 'ems'", case_number
        )
        if printed or mailed:
            raise ApiError(409, "already_issued", "the paper certificate was issued already")
        reference = f"EA{secrets.randbelow(10**9):09d}CN"  # an S10 item number
        url, expires = "", ""
    else:
        reference = new_id("EC")
        url = f"https://sandbox.invalid/e-certificate/{reference}?t={secrets.token_hex(8)}"
        expires = ctx.iso(ctx.now + 30 * 86400)
    ctx.conn.execute(
        "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?)",
        (
            case_number,
            body.method.value,
            reference,
            json.dumps(m.dump(body), ensure_ascii=False),
            ctx.iso(),
            ctx.kiosk_id,
        ),
    )
    return m.Delivery(case_number, body.method, reference, url, expires)


def report_paper(ctx: Ctx, body: m.PaperReport) -> m.PaperAck:
    serial = body.paper_serial.strip()
    if not serial.isalnum() or not 6 <= len(serial) <= 20:
        raise ApiError(400, "invalid", "paper serial: 6-20 letters or digits", "paper_serial")
    if ctx.one("SELECT 1 FROM paper WHERE paper_serial = ?", serial) is not None:
        raise ApiError(
            409, "serial_used", "this paper serial is already accounted for", "paper_serial"
        )
    if not body.case_number:  # a maintenance page (test, calibration) took the sheet
        if body.outcome is m.PaperOutcome.PRINTED:
            raise ApiError(
                400, "invalid", "a sheet printed for no case is spoiled or jammed", "outcome"
            )
        ctx.conn.execute(
            "INSERT INTO paper VALUES (?, NULL, ?, ?, ?)",
            (serial, body.outcome.value, ctx.iso(), ctx.kiosk_id),
        )
        return m.PaperAck(serial, body.outcome, "")
    # a sheet is reported by the kiosk that fetched the case's certificate data for its
    # verified holder (from the outbox, perhaps after an outage: the fetch is the evidence)
    case = ctx.one(
        "SELECT c.status FROM cases c JOIN certificate_issues i USING (case_number) "
        "WHERE c.case_number = ? AND i.kiosk_id = ?",
        body.case_number,
        ctx.kiosk_id,
    )
    if case is None:
        raise ApiError(404, "not_found", "no such case", "case_number")
    if case["status"] != "registered":
        raise ApiError(409, "not_ready", "the case is not registered yet", "case_number")
    ctx.conn.execute(
        "INSERT INTO paper VALUES (?, ?, ?, ?, ?)",
        (serial, body.case_number, body.outcome.value, ctx.iso(), ctx.kiosk_id),
    )
    return m.PaperAck(serial, body.outcome, body.case_number)


def list_paper(ctx: Ctx, body: m.PaperQuery) -> m.PaperReports:
    rows = ctx.conn.execute(
        "SELECT * FROM paper WHERE kiosk_id = ? AND at >= ? ORDER BY paper_serial",
        (ctx.kiosk_id, body.since),
    )
    return m.PaperReports(
        [
            m.PaperAck(r["paper_serial"], m.PaperOutcome(r["outcome"]), r["case_number"] or "")
            for r in rows
        ]
    )


def upload_audit(ctx: Ctx, body: m.AuditBatch) -> m.AuditAck:
    if len(body.records) > 1000:
        raise ApiError(400, "invalid", "at most 1000 records a batch", "records")
    for record in body.records:
        if record.seq < 1 or len(record.hash) != 64:
            raise ApiError(400, "invalid", "records need a sequence and a SHA-256 hash", "records")
        # the registry keeps the chain it was sent: a record sent again must be the same
        # record, and each must follow the one before it
        known = ctx.one(
            "SELECT hash FROM audit_records WHERE kiosk_id = ? AND seq = ?",
            ctx.kiosk_id,
            record.seq,
        )
        if known is not None and known["hash"] != record.hash:
            raise ApiError(
                409, "chain_rewritten", f"record {record.seq} differs from the one received"
            )
        before = ctx.one(
            "SELECT hash FROM audit_records WHERE kiosk_id = ? AND seq = ?",
            ctx.kiosk_id,
            record.seq - 1,
        )
        if before is not None and before["hash"] != record.prev:
            raise ApiError(
                409, "chain_broken", f"record {record.seq} does not follow the record before it"
            )
        ctx.conn.execute(
            "INSERT OR IGNORE INTO audit_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ctx.kiosk_id,
                record.seq,
                record.at,
                record.actor,
                record.action,
                record.outcome,
                record.fields,
                record.prev,
                record.hash,
            ),
        )
    head = ctx.one(
        "SELECT seq, hash FROM audit_records WHERE kiosk_id = ? ORDER BY seq DESC LIMIT 1",
        ctx.kiosk_id,
    )
    if head is None:
        return m.AuditAck(len(body.records), 0)
    return m.AuditAck(len(body.records), int(head["seq"]), head["hash"])


# -- bank operators ---------------------------------------------------------------------------


def operator_login(ctx: Ctx, body: m.OperatorLogin) -> m.OperatorSession:
    row = ctx.one(
        "SELECT * FROM operators WHERE bank_code = ? AND operator_id = ?",
        body.bank_code,
        body.operator_id,
    )
    if row is None:
        raise ApiError(401, "unauthorized", "unknown operator or wrong password")
    if row["locked_until"] > ctx.now:
        raise ApiError(403, "locked", "too many failed attempts: try again later")
    if password_hash(body.password, row["salt"]) != row["password_hash"]:
        failures = row["failures"] + 1
        locked = ctx.now + LOCKOUT_S if failures >= LOCKOUT_FAILURES else 0
        ctx.conn.execute(
            "UPDATE operators SET failures = ?, locked_until = ? "
            "WHERE bank_code = ? AND operator_id = ?",
            (0 if locked else failures, locked, body.bank_code, body.operator_id),
        )
        raise ApiError(401, "unauthorized", "unknown operator or wrong password", keep_changes=True)
    ctx.conn.execute(
        "UPDATE operators SET failures = 0 WHERE bank_code = ? AND operator_id = ?",
        (body.bank_code, body.operator_id),
    )
    bank = ctx.one("SELECT * FROM banks WHERE bank_code = ?", body.bank_code)
    assert bank is not None
    from kiosk.sandbox.bank import start_operator_session

    return m.OperatorSession(
        start_operator_session(ctx, body.bank_code, row["operator_id"], row["name"]),
        row["operator_id"],
        row["name"],
        m.Bank(bank["bank_code"], bank["name"], bank["uscc"], bank["licence_number"]),
    )


# -- queue ------------------------------------------------------------------------------------


def _ticket(ctx: Ctx, service: str) -> m.Ticket:
    letter = TICKET_SERVICES[service]
    issued = ctx.conn.execute(
        "SELECT COUNT(*) FROM tickets WHERE ticket_number LIKE ? AND issued >= ?",
        (f"{letter}%", ctx.iso(ctx.day_start())),  # numbers start again each Beijing day
    ).fetchone()[0]
    number = f"{letter}{issued + 1:03d}"
    ctx.conn.execute(
        "INSERT INTO tickets VALUES (?, ?, ?)",
        (f"{number}-{ctx.iso()}-{secrets.token_hex(2)}", service, ctx.iso()),
    )
    return m.Ticket(number, service, min(issued, 3 + issued // 4), ctx.iso())


def create_ticket(ctx: Ctx, body: m.TicketRequest) -> m.Ticket:
    if body.service not in TICKET_SERVICES:
        raise ApiError(
            400, "invalid", f"unknown service; one of {sorted(TICKET_SERVICES)}", "service"
        )
    return _ticket(ctx, body.service)


CHECK_IN_EARLY_S = 12 * 3600  # an appointment is checked in from 12 h before its time
CHECK_IN_LATE_S = 30 * 60  # until 30 min after it; later, the person books again


# what can be booked: the counter's businesses (the rest is done at the kiosk itself)
# the counter's businesses an appointment is for (a new flat's transfer at the counter: when
# the buyers cannot all come to a kiosk together, or an agent files for one of them)
APPOINTMENT_SERVICES = ("counter", "private_mortgage", "new_home_transfer", "certificate_reissue")
SLOT_CAPACITY = 3  # people per half hour per service
SLOT_TIMES = tuple(f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30) if (h, m) != (12, 0))
BOOKING_DAYS = 5  # working days ahead, from tomorrow


def _bookable_days(ctx: Ctx) -> list[dt.date]:
    day, days = dt.date.fromisoformat(ctx.china_day()), list[dt.date]()
    while len(days) < BOOKING_DAYS:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:  # Monday to Friday
            days.append(day)
    return days


def _taken(ctx: Ctx, service: str, slot: str) -> int:
    row = ctx.one(
        "SELECT COUNT(*) AS n FROM appointments WHERE service = ? AND slot = ?", service, slot
    )
    return int(row["n"]) if row else 0


def list_slots(ctx: Ctx, body: m.SlotsQuery) -> m.Slots:
    if body.service not in APPOINTMENT_SERVICES:
        raise ApiError(400, "invalid", f"one of {list(APPOINTMENT_SERVICES)}", "service")
    slots = []
    for day in _bookable_days(ctx):
        for time_ in SLOT_TIMES:
            slot = f"{day:%Y-%m-%d}T{time_}"
            free = SLOT_CAPACITY - _taken(ctx, body.service, slot)
            if free > 0:
                slots.append(m.Slot(slot, free))
    return m.Slots(body.service, slots)


def book_appointment(ctx: Ctx, body: m.BookAppointment) -> m.Appointment:
    """A slot of the next working days, for the verified person: one open appointment per
    service (another is refused until this one is used or past), never over capacity."""
    person = _verified(ctx, body.verification_id)
    if body.service not in APPOINTMENT_SERVICES:
        raise ApiError(400, "invalid", f"one of {list(APPOINTMENT_SERVICES)}", "service")
    bookable = {f"{d:%Y-%m-%d}T{t}" for d in _bookable_days(ctx) for t in SLOT_TIMES}
    if body.slot not in bookable:
        raise ApiError(409, "slot_closed", "not a bookable slot of the next working days", "slot")
    today = ctx.china_day()
    if ctx.one(
        "SELECT 1 FROM appointments WHERE id_number = ? AND service = ? AND checked_in = 0 "
        "AND slot >= ?",
        person,
        body.service,
        today,
    ):
        raise ApiError(409, "already_booked", "one open appointment per service", "service")
    if _taken(ctx, body.service, body.slot) >= SLOT_CAPACITY:
        raise ApiError(409, "slot_full", "this slot is full: choose another", "slot")
    code = "YY" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    ctx.conn.execute(
        "INSERT INTO appointments VALUES (?, ?, ?, ?, 0)", (code, person, body.service, body.slot)
    )
    return m.Appointment(code, body.service, body.slot, False)


def _open_for_check_in(ctx: Ctx, slot: str) -> bool:
    """The slot is China time (as the person booked it)."""
    at = dt.datetime.fromisoformat(slot).replace(tzinfo=CHINA).timestamp()
    return at - CHECK_IN_EARLY_S <= ctx.now <= at + CHECK_IN_LATE_S


def list_appointments(ctx: Ctx, body: m.AppointmentsQuery) -> m.Appointments:
    """The person's appointments that can be checked in now (past ones are not offered)."""
    person = _verified(ctx, body.verification_id)
    rows = ctx.conn.execute(
        "SELECT * FROM appointments WHERE id_number = ? ORDER BY slot", (person,)
    )
    return m.Appointments(
        [
            m.Appointment(r["code"], r["service"], r["slot"], bool(r["checked_in"]))
            for r in rows
            if _open_for_check_in(ctx, r["slot"])
        ]
    )


def check_in(ctx: Ctx, body: m.CheckIn) -> m.Ticket:
    """Only the verified person checks in, only for their own appointment: another's code
    is answered exactly like a code that does not exist."""
    person = _verified(ctx, body.verification_id)
    row = ctx.one(
        "SELECT * FROM appointments WHERE code = ? AND id_number = ?", ctx.params["code"], person
    )
    if row is None:
        raise ApiError(404, "not_found", "no such appointment")
    if row["checked_in"]:
        raise ApiError(409, "checked_in", "already checked in")
    if not _open_for_check_in(ctx, row["slot"]):
        raise ApiError(
            409,
            "appointment_closed",
            "check-in is open from 12 hours before the appointment to 30 minutes after it",
        )
    ctx.conn.execute("UPDATE appointments SET checked_in = 1 WHERE code = ?", (row["code"],))
    service = row["service"] if row["service"] in TICKET_SERVICES else "counter"
    return _ticket(ctx, service)


CITIZEN_HANDLERS: dict[str, Callable[[Ctx, Any], Any]] = {
    "register_kiosk": register_kiosk,
    "heartbeat": heartbeat,
    "verify_identity": verify_identity,
    "list_records": list_records,
    "create_query": create_query,
    "issue_authorization": issue_authorization,
    "list_guides": list_guides,
    "list_slots": list_slots,
    "book_appointment": book_appointment,
    "query_certificate": query_certificate,
    "verify_certificate": verify_certificate,
    "upload_attachment": upload_attachment,
    "submit_application": submit_application,
    "get_case": get_case,
    "list_cases": list_cases,
    "create_order": create_order,
    "get_order": get_order,
    "cancel_order": cancel_order,
    "order_receipt": order_receipt,
    "refund_order": refund_order,
    "certificate_data": certificate_data,
    "report_query_printed": report_query_printed,
    "request_delivery": request_delivery,
    "report_paper": report_paper,
    "list_paper": list_paper,
    "upload_audit": upload_audit,
    "operator_login": operator_login,
    "create_ticket": create_ticket,
    "list_appointments": list_appointments,
    "check_in": check_in,
    "sandbox_pay": sandbox_pay,
}
