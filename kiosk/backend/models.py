"""Typed messages of the registry gateway API, shared by the client and the sandbox.

One definition for both sides, so they cannot drift. ``parse`` is strict (unknown fields and
wrong types are errors that name the field); ``dump`` gives plain JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from kiosk.strict import StrictConfigError, build

T = TypeVar("T")


class InvalidMessage(ValueError):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}" if field_name else reason)
        self.field = field_name
        self.reason = reason


def parse(cls: type[T], data: Any) -> T:
    if not isinstance(data, dict):
        raise InvalidMessage("", "body must be a JSON object")
    try:
        return build(cls, data, cls.__name__)
    except StrictConfigError as err:
        raise InvalidMessage(err.key, err.problem) from None


def dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    return value


# -- enums ------------------------------------------------------------------------------------


class CardType(StrEnum):
    RESIDENT = "resident"
    HMT_PERMIT = "hmt_permit"
    FOREIGN_PERMANENT = "foreign_permanent"
    PASSPORT = "passport"


def card_type_of(document_type: str) -> CardType:
    """The registry's card type for a document the reader read: both layouts of the foreign
    permanent-residence card (2017, 2023) are one type to the registry."""
    if document_type.startswith("foreign_permanent"):
        return CardType.FOREIGN_PERMANENT
    return CardType(document_type)


class VerifyResult(StrEnum):
    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"
    RETRY = "retry"


class QueryKind(StrEnum):
    OWN = "own"  # 本人名下不动产登记信息
    OWNERSHIP = "ownership"  # 有无房产证明
    UNIT = "unit"  # one unit, with the holder's authorization


class ApplicationType(StrEnum):
    MORTGAGE_CANCELLATION = "mortgage_cancellation"
    ADDRESS_CHANGE = "address_change"
    NAME_CHANGE = "name_change"
    MORTGAGE_FIRST = "mortgage_first"
    MORTGAGE_CHANGE = "mortgage_change"
    ADVANCE_MORTGAGE = "advance_mortgage"
    ADVANCE_TO_MORTGAGE = "advance_to_mortgage"
    CERTIFICATE_REISSUE = "certificate_reissue"
    PRIVATE_MORTGAGE = "private_mortgage"  # 个人之间抵押: every holder and the lender present
    # a new flat bought from its developer, every buyer on the filed sale contract present
    ADVANCE_NOTICE = "advance_notice"  # 预购商品房预告登记: before the flat is built
    ADVANCE_NOTICE_CANCELLATION = "advance_notice_cancellation"  # 预告登记注销
    NEW_HOME_TRANSFER = "new_home_transfer"  # 新建商品房首次转移登记 (no advance notice)
    ADVANCE_TO_OWNERSHIP = "advance_to_ownership"  # 预告转本: the notice becomes the title
    # 转移并抵押: the transfer, and the bank's advance-notice mortgage on file becomes a mortgage
    NEW_HOME_TRANSFER_MORTGAGE = "new_home_transfer_mortgage"
    OBJECTION = "objection"  # 异议登记: someone who is not a holder says the register is wrong
    OBJECTION_CANCELLATION = "objection_cancellation"  # 异议注销, by the objector


class CaseStatus(StrEnum):
    ACCEPTED = "accepted"
    AWAITING_PAYMENT = "awaiting_payment"
    IN_REVIEW = "in_review"
    REGISTERED = "registered"  # done: certificate or proof ready
    REJECTED = "rejected"


class Channel(StrEnum):
    WECHAT = "wechat"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"


class OrderKind(StrEnum):
    QUERY = "query"
    CASE = "case"


class OrderStatus(StrEnum):
    NOTPAY = "NOTPAY"
    SUCCESS = "SUCCESS"
    CLOSED = "CLOSED"
    REFUNDED = "REFUNDED"


class DeliveryMethod(StrEnum):
    EMS = "ems"  # mailed by EMS to an address (邮寄)
    ELECTRONIC = "electronic"  # the electronic certificate, fetched by QR (电子证照)


class PaperOutcome(StrEnum):
    PRINTED = "printed"
    SPOILED = "spoiled"
    JAMMED = "jammed"


# -- kiosk ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterKiosk:
    kiosk_id: str
    enrolment_code: str


@dataclass(frozen=True)
class KioskToken:
    kiosk_id: str
    token: str


@dataclass(frozen=True)
class DeviceState:
    role: str
    state: str
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Heartbeat:
    version: str
    site_mode: str
    devices: list[DeviceState] = field(default_factory=list)
    outbox_depth: int = 0


@dataclass(frozen=True)
class HeartbeatAck:
    server_time: str


# -- identity ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Liveness:
    challenge: str
    passed: bool
    score: float = 0.0


@dataclass(frozen=True)
class VerifyIdentity:
    id_number: str
    name: str
    card_type: CardType
    face_jpeg_b64: str
    liveness: Liveness


@dataclass(frozen=True)
class Verification:
    verification_id: str
    result: VerifyResult
    score: float
    reason: str = ""


# -- records and queries ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordsQuery:
    verification_id: str
    kind: QueryKind = QueryKind.OWN
    unit_code: str = ""
    authorization_code: str = ""


@dataclass(frozen=True)
class Mortgage:
    mortgage_id: str
    creditor: str
    creditor_uscc: str
    amount_fen: int
    maximum: bool
    term_from: str
    term_to: str


@dataclass(frozen=True)
class PropertyRecord:
    unit_code: str
    address: str
    certificate_number: str
    area_m2: float
    use: str
    right_type: str
    holders: list[str]  # masked names
    mortgages: list[Mortgage] = field(default_factory=list)
    seizures: list[str] = field(default_factory=list)
    objections: list[str] = field(default_factory=list)
    # each holder's share, in the order of ``holders``: "1/2" (按份共有), or "" for a sole
    # holder or for holders in common (共同共有: ``joint``)
    shares: list[str] = field(default_factory=list)
    joint: bool = False


@dataclass(frozen=True)
class Records:
    kind: QueryKind
    owns_property: bool
    properties: list[PropertyRecord] = field(default_factory=list)


@dataclass(frozen=True)
class CreateQuery:
    verification_id: str
    kind: QueryKind
    purpose: str
    unit_code: str = ""
    authorization_code: str = ""


@dataclass(frozen=True)
class Guide:
    """办事指南: one business, what to bring, the fee and how long it takes."""

    business: str  # an ApplicationType, or a query service
    title_zh: str
    title_en: str
    documents: list[str]
    fee_fen: int
    fee_note: str
    time_limit: str
    at_kiosk: bool  # it can be done at a self-service kiosk


@dataclass(frozen=True)
class Guides:
    guides: list[Guide]


@dataclass(frozen=True)
class IssueAuthorization:
    """A holder, verified at the kiosk, lets one person query one of their units for a
    while (查询授权): the grantee queries with the code, in person, verified as that number."""

    verification_id: str
    unit_code: str
    grantee_id_number: str
    grantee_name: str
    valid_days: int


@dataclass(frozen=True)
class Authorization:
    code: str
    unit_code: str
    grantee: str  # masked name
    expires: str  # the last day it works, Beijing date (YYYY-MM-DD)


@dataclass(frozen=True)
class QueryResult:
    query_id: str
    kind: QueryKind
    owns_property: bool
    property_count: int
    fee_fen: int
    paid: bool
    verification_code: str


@dataclass(frozen=True)
class QueryPrinted:
    printed_at: str  # the kiosk's time of the print


@dataclass(frozen=True)
class QueryPrintAck:
    query_id: str
    printed_at: str


@dataclass(frozen=True)
class VerifyCertificate:
    code: str


@dataclass(frozen=True)
class CertificateCheck:
    """What a proof found by its code says: a checker (a school, a household registration
    office) compares it with the paper in their hand, so it names the person as the proof
    does."""

    valid: bool
    kind: str = ""
    issued_at: str = ""
    property_count: int = 0
    holder: str = ""  # the person the proof is about, in full
    id_number: str = ""
    issued_on: str = ""  # the proof's date, Beijing time
    owns_property: bool = False
    # a certificate of title or a registration proof (kind "certificate" / "proof"): what it
    # states, and whether the register still says so (a later change or cancellation: no)
    certificate_number: str = ""
    address: str = ""
    matter: str = ""  # a proof's right or matter (抵押权, 预告登记, 异议登记)
    current: bool = True


# -- applications -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class FieldValue:
    name: str
    value: str


@dataclass(frozen=True)
class Signature:
    signer: str  # "applicant", "operator", ...
    image_sha256: str
    signed_at: str


@dataclass(frozen=True)
class Party:
    """A person besides the applicant who takes part in the application in person at the
    kiosk (a co-owner, the lender): their face check at this kiosk and their own signature
    (one of the application's attachments)."""

    role: str  # "mortgagor" (a co-owner of the unit), "mortgagee", ...
    verification_id: str
    signature_sha256: str
    signed_at: str


@dataclass(frozen=True)
class Application:
    type: ApplicationType
    unit_code: str
    verification_id: str
    fields: list[FieldValue] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    mortgage_id: str = ""
    parties: list[Party] = field(default_factory=list)  # everyone else who signs with them


@dataclass(frozen=True)
class Case:
    case_number: str
    type: ApplicationType
    status: CaseStatus
    unit_code: str
    fee_fen: int
    paid: bool
    created_at: str
    attachments: list[str] = field(default_factory=list)
    progress_url: str = ""  # where the applicant follows the case (a QR on the acknowledgment)
    # what it issues once registered: "certificate" (不动产权证书), "proof" (不动产登记证明),
    # or "" (a cancellation issues nothing: nothing to print)
    issues: str = ""


@dataclass(frozen=True)
class CasesQuery:
    verification_id: str


@dataclass(frozen=True)
class CaseQuery:
    """Reading a case is for its verified applicant or a holder of its unit: a case number
    is printed on slips and is no secret."""

    verification_id: str


@dataclass(frozen=True)
class Cases:
    cases: list[Case] = field(default_factory=list)


# -- payments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateOrder:
    reference: str  # the business reference: the same one never makes a second charge
    kind: OrderKind
    target: str  # query id or case number
    channel: Channel
    verification_id: str  # the person paying: the query's or the case's own


@dataclass(frozen=True)
class Order:
    order_id: str
    reference: str
    kind: OrderKind
    target: str
    amount_fen: int
    channel: Channel
    payee: str
    qr_payload: str
    expires_at: str
    status: OrderStatus


@dataclass(frozen=True)
class EReceipt:
    receipt_number: str
    order_id: str
    amount_fen: int
    payee: str
    item: str
    issued_at: str
    check_code: str
    verify_url: str
    paid_for: str  # what the fee is for: the case number, or the query's id
    payer: str  # 交款人, masked as on every paper the kiosk prints (张**)


@dataclass(frozen=True)
class RefundRequest:
    refund_no: str
    amount_fen: int
    reason: str
    verification_id: str  # the person who paid, still at the kiosk that took the payment


@dataclass(frozen=True)
class Refund:
    refund_no: str
    order_id: str
    amount_fen: int
    status: str


# -- certificates on paper --------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateData:
    case_number: str
    kind: str  # "certificate" (不动产权证书) or "proof" (不动产登记证明)
    certificate_number: str
    unit_code: str
    address: str
    holders: list[str]
    right_type: str
    use: str
    area_m2: float
    issued_on: str
    fields: list[FieldValue] = field(default_factory=list)
    shares: list[str] = field(default_factory=list)  # 按份共有: each holder's, in order
    check_code: str = ""  # printed with its QR: anyone checks the paper with 证明核验


@dataclass(frozen=True)
class DeliveryRequest:
    verification_id: str
    method: DeliveryMethod
    recipient: str = ""  # EMS: who receives it
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class Delivery:
    case_number: str
    method: DeliveryMethod
    reference: str  # the EMS mail number, or the electronic certificate's id
    url: str = ""  # the electronic certificate's address (shown as a QR)
    expires_at: str = ""


@dataclass(frozen=True)
class PaperReport:
    case_number: str  # "" for a sheet a maintenance page took (spoiled or jammed only)
    paper_serial: str
    outcome: PaperOutcome


@dataclass(frozen=True)
class PaperAck:
    paper_serial: str
    outcome: PaperOutcome
    case_number: str


@dataclass(frozen=True)
class PaperQuery:
    since: str = ""  # an ISO date; "" = all


@dataclass(frozen=True)
class PaperReports:
    reports: list[PaperAck] = field(default_factory=list)


# -- bank operators ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorLogin:
    bank_code: str
    operator_id: str
    password: str


@dataclass(frozen=True)
class Bank:
    bank_code: str
    name: str
    uscc: str
    licence_number: str


@dataclass(frozen=True)
class OperatorSession:
    operator_token: str
    operator_id: str
    operator_name: str
    bank: Bank

    @property
    def ref(self) -> str:
        """Who the operator is across sessions ("BANK/operator_id"): audit actors, held
        outbox groups."""
        return f"{self.bank.bank_code}/{self.operator_id}"


@dataclass(frozen=True)
class OperatorLogout:
    operator_id: str


@dataclass(frozen=True)
class WitnessIdentity:
    """The bank operator checked, in person, that the borrower is the holder of the card just
    read: the alternative for a borrower who does not want a face check. The registry records
    the operator as the witness; the answer serves wherever a face check's would."""

    id_number: str
    name: str
    card_type: CardType
    statement_sha256: str  # of the statement the operator confirmed on screen (当面核验确认)
    witnessed_at: str


@dataclass(frozen=True)
class BankAuthorizationRequest:
    """The borrower's signed authorization for the bank to query their records, for one
    application only (its scope)."""

    verification_id: str  # the borrower's face check, or the operator's witness
    scope: ApplicationType
    signature_sha256: str
    signed_at: str


@dataclass(frozen=True)
class BankAuthorization:
    authorization_id: str
    scope: ApplicationType
    bank_code: str
    operator_id: str
    expires: str


@dataclass(frozen=True)
class BankRecordsQuery:
    authorization_id: str


@dataclass(frozen=True)
class PresaleContract:
    """A pre-sale contract on file (商品房预售合同备案): the flat is not registered to the
    buyer yet, so the bank files an advance-notice mortgage on it."""

    contract_number: str
    unit_code: str
    address: str
    developer: str
    price_fen: int


@dataclass(frozen=True)
class SaleContract:
    """A sale contract of a new flat on file (商品房买卖合同网签备案), as one of its buyers
    sees it: the developer's side from the housing authority's filing, where the flat stands
    (built and first registered to the developer, or still in pre-sale), the buyers' advance
    notice and the bank's advance-notice mortgage on it, if any."""

    contract_number: str
    unit_code: str
    address: str
    developer: str
    price_fen: int
    buyers: list[str]  # names: the viewer's in full, the others masked
    shares: list[str]  # each buyer's share ("1/2"), or "" for holders in common
    buyer_numbers: list[str]  # the viewer's ID number in full, the others masked
    built: bool  # the developer's first registration is done: the flat can be transferred
    notice_id: str = ""  # the buyers' active advance notice (预告登记), if any
    bank: str = ""  # the bank whose advance-notice mortgage is on file for it, if any
    bank_amount_fen: int = 0
    seized: bool = False


@dataclass(frozen=True)
class SaleContractsQuery:
    verification_id: str


@dataclass(frozen=True)
class SaleContracts:
    contracts: list[SaleContract] = field(default_factory=list)


@dataclass(frozen=True)
class TaxQuery:
    """The tax link (税务部门): whether the deed tax of a sale contract is paid. Only a buyer
    on the contract, verified at this kiosk, may ask."""

    verification_id: str
    contract_number: str


@dataclass(frozen=True)
class TaxStatus:
    contract_number: str
    paid: bool
    deed_tax_fen: int  # 契税
    receipt_number: str = ""  # 完税凭证号, once paid
    paid_on: str = ""  # Beijing date


@dataclass(frozen=True)
class UnitLookup:
    """A unit named by its code (printed on its certificate), for someone who is not its
    holder (an objection): the gateway answers with where it is, never who holds it."""

    verification_id: str
    unit_code: str


@dataclass(frozen=True)
class UnitFound:
    unit_code: str
    address: str
    objection: bool  # an objection is already registered on it


@dataclass(frozen=True)
class ObjectionsQuery:
    verification_id: str


@dataclass(frozen=True)
class Objection:
    """An objection the person registered (异议登记), while it stands."""

    objection_id: str
    unit_code: str
    address: str
    reason: str
    since: str  # Beijing date
    until: str  # it lapses after this day unless the objector went to court (15 days)


@dataclass(frozen=True)
class Objections:
    objections: list[Objection] = field(default_factory=list)


@dataclass(frozen=True)
class AdvanceMortgage:
    """An advance-notice mortgage (抵押预告登记) of the bank, to convert once the buyer holds
    the flat (预告转本登记)."""

    notice_id: str
    unit_code: str
    address: str
    amount_fen: int
    certificate_ready: bool  # the buyer now holds the flat: it can be converted


@dataclass(frozen=True)
class BankRecords:
    """What the authorization lets the bank see: the borrower's properties (with this bank's
    mortgages only), pre-sale contracts, and this bank's advance-notice mortgages."""

    properties: list[PropertyRecord] = field(default_factory=list)
    contracts: list[PresaleContract] = field(default_factory=list)
    advance: list[AdvanceMortgage] = field(default_factory=list)


class DraftStatus(StrEnum):
    OPEN = "open"  # unfinished: the operator resumes it with the borrower
    AWAITING_REVIEW = "awaiting_review"  # complete: a second operator reviews and approves
    SUBMITTED = "submitted"
    RETURNED = "returned"  # the checker sent it back, with the reason: the maker starts again
    WITHDRAWN = "withdrawn"  # the maker took it back before it was filed


@dataclass(frozen=True)
class SaveDraft:
    type: ApplicationType
    status: DraftStatus  # open or awaiting_review
    summary: str  # one line for the workbench (business, masked borrower name)
    step: int = 0
    authorization_id: str = ""
    choice: str = ""  # the unit code, mortgage id, contract or notice chosen
    values: list[FieldValue] = field(default_factory=list)  # what was entered
    review: list[FieldValue] = field(default_factory=list)  # what the checker reads
    application: Application | None = None  # complete when awaiting review
    review_required: bool = False  # maker-checker: only another operator may submit it


@dataclass(frozen=True)
class Draft:
    draft_id: str
    type: ApplicationType
    status: DraftStatus
    summary: str
    maker: str
    maker_name: str
    updated: str
    step: int = 0
    authorization_id: str = ""
    choice: str = ""
    values: list[FieldValue] = field(default_factory=list)
    review: list[FieldValue] = field(default_factory=list)
    review_required: bool = False
    checker: str = ""
    case_number: str = ""
    reason: str = ""  # returned: why the checker sent it back
    attachments: list[str] = field(default_factory=list)  # its scans and signatures, for review


@dataclass(frozen=True)
class DraftsQuery:
    since: str = ""  # YYYY-MM-DD: drafts saved since that day; "" = the last 30 days


@dataclass(frozen=True)
class ReturnDraft:
    reason: str  # what the maker must put right, shown on their workbench


@dataclass(frozen=True)
class Drafts:
    """The operator's own unfinished drafts and the bank's drafts awaiting review."""

    drafts: list[Draft] = field(default_factory=list)


@dataclass(frozen=True)
class OperatorCasesQuery:
    # YYYY-MM-DD: cases filed since that day, and every case not yet registered whenever it
    # was filed; "" = the last 30 days (a case registered days later still has its proof)
    since: str = ""


# -- queue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRequest:
    service: str


@dataclass(frozen=True)
class Ticket:
    ticket_number: str
    service: str
    waiting_ahead: int
    issued_at: str


@dataclass(frozen=True)
class AppointmentsQuery:
    verification_id: str


@dataclass(frozen=True)
class CheckIn:
    """Checking in is for the verified person whose appointment it is."""

    verification_id: str


@dataclass(frozen=True)
class Appointment:
    code: str
    service: str
    slot: str
    checked_in: bool


@dataclass(frozen=True)
class SlotsQuery:
    service: str


@dataclass(frozen=True)
class Slot:
    slot: str  # Beijing time, "YYYY-MM-DDTHH:MM"
    free: int


@dataclass(frozen=True)
class Slots:
    """The free appointment slots of a service over the next working days."""

    service: str
    slots: list[Slot]


@dataclass(frozen=True)
class BookAppointment:
    verification_id: str
    service: str
    slot: str


@dataclass(frozen=True)
class Appointments:
    appointments: list[Appointment] = field(default_factory=list)


# -- audit --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    outcome: str
    fields: str  # JSON, personal data already masked
    prev: str
    hash: str


@dataclass(frozen=True)
class AuditBatch:
    records: list[AuditEntry] = field(default_factory=list)


@dataclass(frozen=True)
class AuditAck:
    """The registry's acknowledgment of the chain head it holds for the kiosk."""

    received: int
    last_seq: int
    last_hash: str = ""


# -- sandbox controls (training rooms and tests) ----------------------------------------------


@dataclass(frozen=True)
class Faults:
    status: int = 0  # answer the next ``count`` API calls with this HTTP status
    delay_s: float = 0.0  # or delay them
    count: int = 1
    routes: list[str] = field(default_factory=list)  # only these routes (by name); [] = all


@dataclass(frozen=True)
class ErrorBody:
    error: str
    reason: str
    field: str = ""
