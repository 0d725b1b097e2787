"""One run of a flow for one person: the current step, what the steps found out, and the
work each step does, without Kivy.

The work calls block (the card reader, the registry, a printer): the screens run them on a
worker thread and show the result on the UI thread. Every write to the registry carries a key
derived from the journey, so a retried step never makes a second ticket, query or charge.
``wipe`` forgets everything personal when the visit ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.base import Role
from drivers.idcard.identity import IdentityDocument
from kiosk.backend import models as m
from kiosk.backend.client import RegistryClient
from kiosk.backend.errors import BackendError
from kiosk.card_reader import VisitOver
from kiosk.documents.receipts import (
    acknowledgment,
    appointment_slip,
    authorization_slip,
    guide_slip,
    handoff_slip,
    payment_receipt,
    queue_ticket,
    yuan,
)
from kiosk.documents.scan import ScanBatch
from kiosk.flows import forms
from kiosk.flows.bank_journey import BankSteps
from kiosk.flows.deps import JourneyServices
from kiosk.flows.parties import Party, slip_lines
from kiosk.flows.party_steps import PartySteps
from kiosk.flows.registration_steps import RegistrationSteps
from kiosk.flows.spec import FlowSpec, StepKind, StepSpec
from kiosk.identity.documents import check_document
from kiosk.messages import MESSAGES, REFUSALS, StepFailed, UserMessage, user_message
from kiosk.outbox import ItemState
from kiosk.printing import PrintOutcome, PrintState
from kiosk.redact import mask_id_number, mask_name

log = logging.getLogger(__name__)

BACKEND_DOWN = UserMessage(
    "backend_down",
    "登记系统暂时无法连接，请到人工窗口办理",
    "The registry cannot be reached: please go to a counter",
    False,
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refusal(error: str) -> UserMessage:
    """The registry's refusal kept by the outbox ("409 not_holder: …") as a message."""
    words = error.split()
    code = words[1].rstrip(":") if len(words) > 1 else ""
    if code == "expired" and error.endswith("(verification_id)"):  # the face check lapsed
        code = "verification_expired"
    if code in REFUSALS or code == "verification_expired":
        zh, en, _retry = MESSAGES[code]
        return UserMessage(code, zh, en, False)
    zh, en, _retry = MESSAGES["registry"]
    return UserMessage("registry", zh, en, False)


@dataclass
class JourneyContext:
    """What the steps found out. Personal: held in memory for the visit only."""

    document: IdentityDocument | None = None
    elder: bool = False
    verification_id: str = ""
    verified_at: float = 0.0  # when (time.monotonic()): renewed before signing if it would lapse
    consent: bool = False
    query: m.QueryResult | None = None
    order: m.Order | None = None
    receipt: m.EReceipt | None = None  # the paid order's e-receipt (电子票据)
    receipt_printed: bool = False  # if not, its QR is on the done screen
    ticket: m.Ticket | None = None
    cases: list[m.Case] = field(default_factory=list)  # fees due, to choose from
    case: m.Case | None = None  # the one chosen
    sheet: str = ""  # the numbered certificate paper printed on
    properties: list[m.PropertyRecord] = field(default_factory=list)  # to choose from
    property: m.PropertyRecord | None = None  # the one chosen
    mortgage: m.Mortgage | None = None  # the one to cancel
    form: dict[str, str] = field(default_factory=dict)  # what the person typed or confirmed
    scan: ScanBatch | None = None  # the supporting documents
    signature: bytearray = field(default_factory=bytearray)  # JPEG, zeroed at the end
    submitted: m.Case | None = None  # the registry's case for the application
    queued: str = ""  # the kiosk's reference while the application waits in the outbox
    appointments: list[m.Appointment] = field(default_factory=list)  # to check in for
    appointment: m.Appointment | None = None
    delivery_choice: str = ""  # "print" here, "ems" or "electronic"
    delivery: m.Delivery | None = None  # the registry's answer to a mailing or e-certificate
    outputs: list[str] = field(default_factory=list)  # what the person takes away
    # bank service points: the operator filing as agent, and what the borrower authorized
    operator: m.OperatorSession | None = None
    authorization: m.BankAuthorization | None = None
    contracts: list[m.PresaleContract] = field(default_factory=list)
    contract: m.PresaleContract | None = None
    advances: list[m.AdvanceMortgage] = field(default_factory=list)
    advance: m.AdvanceMortgage | None = None
    operator_signature: bytearray = field(default_factory=bytearray)  # zeroed at the end
    awaiting_review: str = ""  # the draft a second operator approves (maker-checker)
    # a sitting of several (flows with party steps): the applicant first, then each party
    parties: list[Party] = field(default_factory=list)
    check: m.CertificateCheck | None = None  # a proof checked by its code
    grant: m.Authorization | None = None  # a query authorization the holder issued
    guide: m.Guide | None = None  # the service guide chosen (public information)
    booking_service: str = ""  # an appointment: for what, which day, which slot, booked
    booking_day: str = ""
    slots: list[m.Slot] = field(default_factory=list)
    booking_slot: str = ""
    booked: m.Appointment | None = None
    # a new flat: the person's sale contracts, the one chosen, the tax link's answer for it
    sales: list[m.SaleContract] = field(default_factory=list)
    sale: m.SaleContract | None = None
    tax: m.TaxStatus | None = None
    # an objection: the unit found by its code; the person's standing objections, the chosen
    unit: m.UnitFound | None = None
    objections: list[m.Objection] = field(default_factory=list)
    objection: m.Objection | None = None
    proof_input: str = ""  # a proof's code: "type" it, or "scan" its QR
    fee_fen: int | None = None  # the application's fee, from the registry's guide (None: unknown)


def fee_text(fee_fen: int | None) -> str:
    if fee_fen is None:
        return "以受理回执为准 as the acknowledgment says"
    if fee_fen == 0:
        return "免费 free"
    return f"{yuan(fee_fen)}（受理后在本机「缴纳登记费」缴纳 paid here once filed）"


SIGNATURE_REUSED = user_message("signature_reused")  # the same image as another party's


class Journey(BankSteps, RegistrationSteps, PartySteps):
    def __init__(
        self,
        flow: FlowSpec,
        services: JourneyServices,
        session: str = "",
        operator: m.OperatorSession | None = None,
        resume: m.Draft | None = None,
    ) -> None:
        self.flow = flow
        self.services = services
        self.session = session
        self.id = uuid.uuid4().hex[:16]
        self.index = 0
        self.operator = operator  # a bank operator files this journey as the borrower's agent
        self.resume = resume  # an unfinished draft taken up again
        self.draft_id = resume.draft_id if resume else f"D{self.id}"
        self.ctx = JourneyContext(operator=operator)
        self.ended = ""
        self.slip_printed = False
        self._order_round = 0
        self._opened: set[int] = set()  # the party steps whose people are listed
        self._over = threading.Event()  # set when the visit ends: waits stop, reads are dropped
        self.audit("journey.start", "started")

    # -- where we are ---------------------------------------------------------------------

    @property
    def step(self) -> StepSpec:
        return self.flow.steps[self.index]

    def advance(self) -> StepSpec:
        """The current step is done: on to the next (skipping those with nothing to do)."""
        self.audit("journey.step", "done", step=self.step.kind.value)
        while self.index < len(self.flow.steps) - 1:
            self.index += 1
            if not self._nothing_to_do(self.step):
                break
        return self.step

    def _nothing_to_do(self, step: StepSpec) -> bool:
        if step.kind is StepKind.PARTY:  # a sole holder has no co-owner to bring
            return not self._slots(step)
        if step.kind is StepKind.PAY and step.param("for") == "case":
            case = self.ctx.case
            return case is None or case.fee_fen == 0 or case.paid
        if step.kind is StepKind.PAY:
            query = self.ctx.query
            return query is None or query.fee_fen == 0 or query.paid
        if step.kind is StepKind.SCAN and step.param("read"):
            return self.ctx.proof_input != "scan"
        if step.kind is StepKind.FORM and step.param("form") == "proof_code":
            return self.ctx.proof_input == "scan" and bool(self.ctx.form.get("verification_code"))
        choice = self.ctx.delivery_choice
        if choice:  # the certificate goes one way only: the other ways' steps are skipped
            if step.kind is StepKind.PRINT and step.param("document") == "certificate":
                return choice != "print"
            if step.kind is StepKind.FORM and step.param("form") == "mailing":
                return choice != m.DeliveryMethod.EMS.value
            if step.kind is StepKind.DELIVER:
                return bool(choice != step.param("method"))
        if step.kind is StepKind.PRINT and step.param("document") == "payment_receipt":
            return self.ctx.order is None  # nothing was paid here: no receipt
        if step.kind is StepKind.PRINT and step.param("document") == "guide":
            # on the screen anyway: printed when the receipt printer can
            return not self.services.devices.statuses()[Role.RECEIPT].usable
        return False

    def end(self, reason: str) -> None:
        if not self.ended:
            self.ended = reason
            self.audit("journey.end", reason, step=self.step.kind.value)

    def close(self) -> None:
        """The visit is over: a read still waiting for a card stops, and nothing read after
        this moment is kept or audited under this visit."""
        self._over.set()

    def wipe(self) -> None:
        self.close()
        for signature in (self.ctx.signature, self.ctx.operator_signature):
            signature[:] = bytes(len(signature))  # no signature image outlives the visit
        for party in self.ctx.parties:
            party.forget()
        if self.ctx.scan is not None:
            self.ctx.scan.pages.clear()
        self.resume = None
        self.ctx = JourneyContext(operator=self.operator)

    def back_to(self, kind: StepKind) -> bool:
        """Go back to the last ``kind`` step before this one (e.g. to type a code again)."""
        for index in range(self.index - 1, -1, -1):
            if self.flow.steps[index].kind is kind:
                self.index = index
                return True
        return False

    def key(self, what: str) -> str:
        """The idempotency key of this journey's ``what``: a retry sends the same key."""
        return f"{self.id}-{what}"

    def audit(self, action: str, outcome: str, **fields: Any) -> None:
        audit = self.services.audit
        if audit is not None:
            operator = self.operator  # a bank operator's actions are theirs, under their id
            audit.record(
                f"operator:{operator.ref}" if operator else "kiosk",
                action,
                outcome,
                flow=self.flow.name,
                journey=self.id,
                session=self.session,
                **fields,
            )

    @property
    def client(self) -> RegistryClient:
        link = self.services.registry
        if link is None or link.client is None or not link.up:
            raise StepFailed(BACKEND_DOWN)
        return link.client

    # -- the work of each step ------------------------------------------------------------

    def read_card(self, timeout_s: float = 60.0) -> IdentityDocument:
        """Wait for a card on the reader and read it (worker thread). The wait is on the
        reader's events (``kiosk.card_reader``), and ends with the visit."""
        document = self._read(timeout_s)
        today = self.services.today()
        self.ctx.document = document
        born = document.birth_date
        age = (today - born).days // 365 if born else 0
        self.ctx.elder = age >= self.services.elder_age
        self.audit("journey.card", "read", card=document.card_type.value)
        return document

    def _read(self, timeout_s: float) -> IdentityDocument:
        """Wait for a card, read it, and check it is valid today (else DocumentRefused)."""
        reader = self.services.card
        if not reader.wait_placed(self._over, timeout_s):
            raise TimeoutError("no card placed")
        if self._over.is_set():  # a card placed after the visit ended is not this visit's
            raise VisitOver("the visit ended before the card was read")
        document = reader.read()
        if self._over.is_set():
            raise VisitOver("the visit ended while the card was read")
        check_document(document, self.services.today())  # expired or invalid: why
        return document

    def watch_card(self, removed: Callable[[], None]) -> Callable[[], None]:
        """``removed`` when the card read is taken off the reader (called on the reader's
        thread); returns what stops the watch."""
        return self.services.card.on_removed(removed)

    def verified(self, verification_id: str) -> None:
        self.ctx.verification_id, self.ctx.verified_at = verification_id, time.monotonic()
        if self.flow.parties:  # the applicant is the sitting's first party
            applicant = Party(self.flow.applicant_role, document=self.ctx.document)
            applicant.verification_id = verification_id
            applicant.verified_at = self.ctx.verified_at
            self.ctx.parties[:1] = [applicant]

    def give_consent(self) -> None:
        self.ctx.consent = True
        self.audit(
            "consent.given",
            "agreed",
            purpose=self.step.param("purpose_en"),
            scope=self.flow.name,
        )

    def due_cases(self) -> list[m.Case]:
        """The person's cases with a fee to pay."""
        cases = self.client.list_cases(self.ctx.verification_id).cases
        self.ctx.cases = [
            c
            for c in cases
            if c.status is m.CaseStatus.AWAITING_PAYMENT and c.fee_fen > 0 and not c.paid
        ]
        return self.ctx.cases

    def all_cases(self) -> list[m.Case]:
        """Every case of the person (as applicant or party), newest first."""
        cases = self.client.list_cases(self.ctx.verification_id).cases
        self.ctx.cases = sorted(cases, key=lambda c: c.created_at, reverse=True)
        return self.ctx.cases

    def ready_cases(self) -> list[m.Case]:
        """The person's registered cases with a certificate or proof to print (a
        cancellation issues none)."""
        cases = self.client.list_cases(self.ctx.verification_id).cases
        self.ctx.cases = [c for c in cases if c.status is m.CaseStatus.REGISTERED and c.issues]
        return self.ctx.cases

    def choose_case(self, case: m.Case) -> None:
        self.ctx.case = case
        self.audit("journey.choose", "case", case=case.case_number)

    def list_properties(self) -> list[m.PropertyRecord]:
        """The person's properties (with an active mortgage, for a cancellation; registered
        under a former name, for a name change)."""
        records = self.client.list_records(
            m.RecordsQuery(self.ctx.verification_id, m.QueryKind.OWN)
        )
        found = list(records.properties)
        items = self.step.param("items")
        if items == "mortgages":
            found = [p for p in found if p.mortgages]
        elif items == "renamed":
            card = self.ctx.document.name if self.ctx.document else ""
            found = [p for p in found if forms.registered_name(p) not in ("", card)]
        self.ctx.properties = found
        return found

    def choose_property(self, record: m.PropertyRecord, mortgage: m.Mortgage | None) -> None:
        self.ctx.property, self.ctx.mortgage = record, mortgage
        if self.ctx.parties and record.shares:  # the applicant's own share of it
            own = forms.registered_name(record)
            shares = dict(zip(record.holders, record.shares, strict=False))
            self.ctx.parties[0].share = shares.get(own, "")
        self.audit(
            "journey.choose",
            "property",
            unit=record.unit_code,
            mortgage=mortgage.mortgage_id if mortgage else "",
        )

    def choose_delivery(self, choice: str) -> None:
        """How the chosen case's certificate leaves: printed here, mailed, or electronic."""
        self.ctx.delivery_choice = choice
        self.audit("journey.choose", "delivery", delivery=choice)

    def deliver(self) -> m.Delivery:
        """Ask the registry to mail the certificate (EMS) or to issue the electronic one."""
        case = self.ctx.case
        assert case is not None
        method = m.DeliveryMethod(self.step.param("method"))
        form = self.ctx.form
        body = m.DeliveryRequest(
            self.ctx.verification_id,
            method,
            form.get("recipient", ""),
            form.get("phone", ""),
            form.get("address", ""),
        )
        delivery = self.client.request_delivery(
            case.case_number, body, key=self.key(f"delivery-{method.value}")
        )
        self.ctx.delivery = delivery
        self.audit("journey.delivery", method.value, case=case.case_number)
        self.ctx.outputs.append(f"{method.value} {delivery.reference}")
        return delivery

    # -- forms, documents, signature, submission ------------------------------------------

    def form_values(self) -> dict[str, str]:
        """The form's values: what the person typed before, else what the kiosk knows."""
        name = str(self.step.param("form"))
        values = forms.initial_values(name, self.ctx)
        kept = {v.name: v.value for v in self.resume.values} if self.resume else {}
        for field_ in forms.fields(name):
            if not forms.editable(field_, self.ctx):
                continue
            if field_.name in self.ctx.form:
                values[field_.name] = self.ctx.form[field_.name]
            elif field_.name in kept:  # a resumed draft: what the operator had entered
                values[field_.name] = kept[field_.name]
        return values

    def fill_form(self, values: dict[str, str]) -> dict[str, tuple[str, str]]:
        """Keep the values when they are fine; else each field's problem (zh, en)."""
        name = str(self.step.param("form"))
        clean = {k: v.strip() for k, v in values.items()}
        problems = forms.problems(name, clean, self.ctx)
        if not problems:
            known = forms.initial_values(name, self.ctx)
            for field_ in forms.fields(name):
                editable = forms.editable(field_, self.ctx)
                value = clean.get(field_.name, "") if editable else known[field_.name]
                self.ctx.form[field_.name] = value
            self.audit("journey.form", "filled", form=name)
        return problems

    def scanned(self, batch: ScanBatch | None) -> None:
        self.ctx.scan = batch
        pages = len(batch.pages) if batch else 0
        self.audit("journey.scan", "scanned", pages=pages)

    def sign(self, jpeg: bytes) -> None:
        """The applicant's one signature for everything submitted in this sitting (or, at a
        bank, the operator's own)."""
        signer = self.step.param("signer", "applicant")
        digest = hashlib.sha256(jpeg).hexdigest()
        if signer == "parties":  # each party in turn, the applicant first
            wanted = self.signer_wanted()
            assert wanted is not None
            place, party = wanted
            if any(bytes(p.signature) == jpeg for p in self.ctx.parties if p.signature):
                self.audit("journey.sign", "reused", signer=party.role, place=place)
                raise StepFailed(SIGNATURE_REUSED)  # the same strokes: not this person's hand
            party.signature, party.signed_at = bytearray(jpeg), _now()
            if place == 0:
                self.ctx.signature = party.signature  # the applicant's, as in any filing
            self.audit("journey.sign", "signed", signer=party.role, place=place, sha256=digest)
            return
        if signer == "operator":
            self.ctx.operator_signature = bytearray(jpeg)
        else:
            self.ctx.signature = bytearray(jpeg)
        self.audit("journey.sign", "signed", signer=signer, sha256=digest)

    def review_lines(self) -> list[tuple[str, str, str]]:
        """Everything that will be submitted: (label zh, label en, value)."""
        ctx = self.ctx
        lines: list[tuple[str, str, str]] = []
        application = self._application_type()
        if application is not None:
            from kiosk.documents.receipts import BUSINESS_NAMES

            zh, en = BUSINESS_NAMES[application]
            lines.append(("业务", "Business", f"{zh} {en}"))
        if ctx.parties:  # every party of the sitting: what the application names
            for party in ctx.parties:
                zh, en = party.role_names
                document = party.document
                assert document is not None
                share = f"  份额 Share {party.share}" if party.share else ""
                who = f"{document.name}  {mask_id_number(document.number)}{share}"
                lines.append((zh, en, who))
        elif ctx.document is not None:
            lines.append(("申请人", "Applicant", ctx.document.name))
        if ctx.operator is not None:
            lines.append(("代理人", "Agent", self.agent_text()))
        if ctx.contract is not None:
            lines.append(("预售合同", "Pre-sale contract", ctx.contract.contract_number))
            lines.append(("不动产单元号", "Unit code", ctx.contract.unit_code))
        if ctx.advance is not None:
            lines.append(("预告登记", "Advance notice", ctx.advance.notice_id))
            lines.append(("不动产坐落", "Property", ctx.advance.address))
        if ctx.property is not None:
            lines.append(("不动产坐落", "Property", ctx.property.address))
            lines.append(("不动产单元号", "Unit code", ctx.property.unit_code))
            lines.append(("证书号", "Certificate", ctx.property.certificate_number))
        lines.extend(self._sale_lines(application))
        if application is not None:  # what it will cost, before anyone signs
            lines.append(("登记费", "Fee", fee_text(ctx.fee_fen)))
        if ctx.unit is not None:  # an objection's unit, found by its code
            lines.append(("不动产坐落", "Property", ctx.unit.address))
            lines.append(("不动产单元号", "Unit code", ctx.unit.unit_code))
        if ctx.objection is not None:
            objection = ctx.objection
            lines.append(("不动产坐落", "Property", objection.address))
            when = f"{objection.since} 至 to {objection.until}"
            lines.append(("异议登记", "Objection", f"{objection.objection_id}  {when}"))
            lines.append(("异议事项", "What it says", objection.reason))
        if ctx.mortgage is not None:
            lines.append(
                (
                    "抵押权人",
                    "Mortgagee",
                    f"{ctx.mortgage.creditor} {yuan(ctx.mortgage.amount_fen)}",
                )
            )
        for flow_step in self.flow.steps:
            if flow_step.kind is StepKind.FORM:
                for field_ in forms.fields(str(flow_step.param("form"))):
                    if field_.submit and field_.name in ctx.form:
                        value = field_.shown(ctx.form[field_.name])
                        lines.append((field_.label_zh, field_.label_en, value))
        if any(s.kind is StepKind.SCAN for s in self.flow.steps):
            pages = len(ctx.scan.pages) if ctx.scan else 0
            lines.append(("附件", "Documents", f"{pages} 页 page(s)"))
        elif ctx.sale is not None:  # nothing to bring: the registry has it from its links
            fetched = "合同、首次登记、完税信息由系统调取 from the registry's links"
            lines.append(("材料", "Documents", fetched))
        return lines

    def load_fee(self) -> int | None:
        """The application's fee from the registry's service guide (public information), for
        the review; unknown when the registry is away (the review works offline: the
        acknowledgment then says it)."""
        application = self._application_type()
        if application is None or self.ctx.fee_fen is not None:
            return self.ctx.fee_fen
        try:
            guides = self.client.list_guides().guides
        except Exception:  # offline, or refused: the review goes on without it
            return None
        guide = next((g for g in guides if g.business == application.value), None)
        self.ctx.fee_fen = guide.fee_fen if guide is not None else None
        return self.ctx.fee_fen

    def _application_type(self) -> m.ApplicationType | None:
        for flow_step in self.flow.steps:
            if flow_step.kind is StepKind.SUBMIT:
                return m.ApplicationType(flow_step.param("application"))
        return None

    def submit(self, wait_s: float = 8.0) -> m.Case | None:
        """Put the application (its documents and signature first) into the durable outbox,
        then wait a little for the registry's case. Returns None when it stays queued: the
        network is down or slow; the outbox sends it later, once (same keys)."""
        if self.operator is not None:  # a bank operator files it at once (maker-checker)
            return self.submit_bank()
        link = self.services.registry
        if link is None or link.outbox is None:
            raise StepFailed(BACKEND_DOWN)
        outbox = link.outbox
        ctx = self.ctx
        application = self._application_type()
        unit_code = self.unit_code()
        assert application is not None and unit_code and ctx.signature
        group = f"journey-{self.id}"
        attachments = []
        if ctx.scan is not None and ctx.scan.pages:
            attachments.append(ctx.scan.upload(outbox, group, self.key("scan")))
        signature = bytes(ctx.signature)
        outbox.put(
            "upload_attachment",
            signature,
            group=group,
            key=self.key("signature"),
            content_type="image/jpeg",
        )
        attachments.append(f"outbox:{self.key('signature')}")
        parties = []
        for place, party in enumerate(ctx.parties[1:], start=1):  # each with their own
            image = bytes(party.signature)
            key = self.key(f"signature-{place}")
            outbox.put("upload_attachment", image, group=group, key=key, content_type="image/jpeg")
            attachments.append(f"outbox:{key}")
            digest = hashlib.sha256(image).hexdigest()
            parties.append(m.Party(party.role, party.verification_id, digest, party.signed_at))
        signed_at = ctx.parties[0].signed_at if ctx.parties else _now()
        fields = [
            m.FieldValue(f.name, ctx.form[f.name])
            for s in self.flow.steps
            if s.kind is StepKind.FORM
            for f in forms.fields(str(s.param("form")))
            if f.submit and f.name in ctx.form
        ]
        if ctx.sale is not None:  # what the registration is about, besides the unit
            fields.append(m.FieldValue("contract_number", ctx.sale.contract_number))
        if ctx.objection is not None:
            fields.append(m.FieldValue("objection_id", ctx.objection.objection_id))
        body = m.Application(
            application,
            unit_code,
            ctx.verification_id,
            fields,
            attachments,
            [m.Signature("applicant", hashlib.sha256(signature).hexdigest(), signed_at)],
            ctx.mortgage.mortgage_id if ctx.mortgage else "",
            parties,
        )
        key = self.key("submit")
        outbox.put("submit_application", body, group=group, key=key)
        self.audit("application.submit", "queued", application=application.value)
        deadline = time.monotonic() + wait_s
        while True:
            item = outbox.item(key)
            assert item is not None
            if item.state is ItemState.SENT:
                case = m.parse(m.Case, item.result)
                ctx.submitted, ctx.queued = case, ""
                self.audit("application.submit", "accepted", case=case.case_number)
                return case
            if item.state is ItemState.FAILED:
                self.audit("application.submit", "refused", error=item.error[:80])
                raise StepFailed(_refusal(item.error))
            stuck = any(
                i.group == group and i.state is ItemState.PENDING and i.attempts > 0
                for i in outbox.items()
            )
            if stuck or not link.up or time.monotonic() > deadline:
                ctx.queued = f"S{self.id[:8].upper()}"
                self.audit("application.submit", "waiting", reference=ctx.queued)
                return None
            time.sleep(0.1)

    def choose_booking_service(self, service: str) -> None:
        self.ctx.booking_service = service
        self.audit("journey.choose", "booking_service", service=service)

    def load_slots(self) -> list[m.Slot]:
        """The free slots of the chosen service (asked again for each list: they fill up)."""
        self.ctx.slots = list(self.client.list_slots(self.ctx.booking_service).slots)
        return self.ctx.slots

    def choose_day(self, day: str) -> None:
        self.ctx.booking_day = day

    def choose_slot(self, slot: str) -> None:
        self.ctx.booking_slot = slot

    def book(self) -> m.Appointment:
        """The registry books the slot (one key per slot: a retry books it once)."""
        ctx = self.ctx
        booked = self.client.book_appointment(
            m.BookAppointment(ctx.verification_id, ctx.booking_service, ctx.booking_slot),
            key=self.key(f"book-{ctx.booking_slot}"),
        )
        ctx.booked = booked
        self.audit("appointment.book", "booked", appointment=booked.code, slot=booked.slot)
        return booked

    def guides(self) -> list[m.Guide]:
        return list(self.client.list_guides().guides)

    def choose_guide(self, guide: m.Guide) -> None:
        self.ctx.guide = guide
        self.audit("journey.choose", "guide", business=guide.business)

    def grant(self) -> m.Authorization:
        """The holder's query authorization for the chosen unit, recorded by the registry
        (the same key on a retry: one code, never two)."""
        record, form = self.ctx.property, self.ctx.form
        assert record is not None
        grant = self.client.issue_authorization(
            m.IssueAuthorization(
                self.ctx.verification_id,
                record.unit_code,
                form["grantee_id_number"].upper(),
                form["grantee_name"],
                int(form["valid_days"]),
            ),
            key=self.key("grant"),
        )
        self.ctx.grant = grant
        self.audit("authorization.issue", "issued", unit=record.unit_code, expires=grant.expires)
        return grant

    def check_proof(self) -> m.CertificateCheck:
        """Whether a proof with the typed code is genuine, and what it says (the registry's
        record of it; the screen masks the person, the checker holds the paper)."""
        code = self.ctx.form.get("verification_code", "").strip().upper()
        check = self.client.verify_certificate(code)
        self.ctx.check = check
        self.audit("proof.check", "genuine" if check.valid else "not_found")
        return check

    def run_query(self) -> m.QueryResult:
        kind = m.QueryKind(self.step.param("kind_of", "own"))
        code = self.ctx.form.get("authorization_code", "")
        # a retry is the same query (one key); another code is another query (a new key)
        what = f"query-{hashlib.sha256(code.encode()).hexdigest()[:12]}" if code else "query"
        result = self.client.create_query(
            m.CreateQuery(
                self.ctx.verification_id,
                kind,
                self.step.param("purpose_en", kind),
                authorization_code=code,
            ),
            key=self.key(what),
        )
        self.ctx.query = result
        return result

    def query_records(self) -> list[m.PropertyRecord]:
        """What the query found, to show before anything is printed (the same records the
        certificate will state; the holder's own, or the authorized unit's)."""
        query = self.ctx.query
        assert query is not None
        if query.kind is m.QueryKind.OWNERSHIP:  # the proof says whether, not what
            return []
        records = self.client.list_records(
            m.RecordsQuery(
                self.ctx.verification_id,
                query.kind,
                authorization_code=self.ctx.form.get("authorization_code", ""),
            )
        )
        self.audit("query.result", "shown", query=query.query_id, found=len(records.properties))
        return list(records.properties)

    def create_order(self, channel: m.Channel = m.Channel.WECHAT) -> m.Order:
        """The order for the fee (a query's or a case's). The reference is the target (and the
        round): sending it again finds the same order, never a second one. A new round — after
        an order expired or was closed — is made only once the registry says the last one was
        not paid; the registry itself refuses a second order while one is open or paid."""
        if self.step.param("for") == "case":
            assert self.ctx.case is not None
            kind, target = m.OrderKind.CASE, self.ctx.case.case_number
        else:
            assert self.ctx.query is not None
            kind, target = m.OrderKind.QUERY, self.ctx.query.query_id
        previous = self.ctx.order
        if previous is not None:
            if self.order_status() is m.OrderStatus.SUCCESS:
                return self.ctx.order or previous  # paid at the last moment: no second charge
            self.cancel_order()
            self._order_round += 1
        suffix = f"-{self._order_round}" if self._order_round else ""
        order = self.client.create_order(
            m.CreateOrder(
                f"{kind.value}-{target}{suffix}", kind, target, channel, self.ctx.verification_id
            )
        )
        self.ctx.order = order
        self.audit("payment.order", "created", order=order.order_id, amount=order.amount_fen)
        return order

    def order_status(self) -> m.OrderStatus:
        order = self.ctx.order
        assert order is not None
        order = self.client.get_order(order.order_id)
        if not self.ended:  # a late answer does not bring a wiped visit back
            self.ctx.order = order
        return order.status

    def cancel_order(self, order: m.Order | None = None) -> None:
        """The person left before paying: close the order so it cannot be paid later."""
        order = order or self.ctx.order
        if order is not None and order.status is m.OrderStatus.NOTPAY:
            try:
                self.client.cancel_order(order.order_id)
                self.audit("payment.order", "cancelled", order=order.order_id)
            except Exception as err:  # the registry closes unpaid orders at expiry anyway
                log.warning("order not cancelled", extra={"error": str(err)})

    def handoff(self, reason: UserMessage) -> str:
        """The journey cannot finish here: print a slip so the counter continues it. A queue
        number for the counter is added when the registry answers. Returns the reference;
        ``slip_printed`` says whether the slip came out (if not, the screen shows it)."""
        ticket = ""
        try:
            ticket = self.client.create_ticket("counter", key=self.key("handoff")).ticket_number
        except Exception:  # the slip works without a number: the counter takes it as it is
            ticket = ""
        return self.print_slip(*self.handoff_slip(reason, ticket))

    def handoff_slip(
        self, reason: UserMessage, ticket: str = ""
    ) -> tuple[str, UserMessage, list[Any], list[tuple[str, str]]]:
        """The slip's reference, reason, print operations and what was done (masked names
        only), from the visit's context: composed before the visit is wiped."""
        reference = f"H{self.id[:8].upper()}"
        names = {
            StepKind.ID_AUTH: ("已读取身份证", "ID card read"),
            StepKind.FACE_CHECK: ("人脸核验通过", "face check passed"),
            StepKind.CONSENT: ("已授权查询", "consent given"),
            StepKind.QUERY: ("已查询", "records looked up"),
            StepKind.PAY: ("已缴费", "fee paid"),
            StepKind.FORM: ("已填写申请信息", "form filled"),
            StepKind.SCAN: ("已扫描材料", "documents scanned"),
            StepKind.SIGN: ("已签名", "signed"),
            StepKind.CHOOSE: ("已选择业务", "case chosen"),
        }
        done = [names[s.kind] for s in self.flow.steps[: self.index] if s.kind in names]
        if StepKind.FACE_CHECK in [s.kind for s in self.flow.steps[: self.index]] and not (
            self.ctx.verification_id
        ):
            done = [d for d in done if d != names[StepKind.FACE_CHECK]]
        parties = slip_lines(self.ctx.parties)  # a sitting of several: each party's state
        if parties:
            done = [d for d in done if d != names[StepKind.SIGN]]
        ops = handoff_slip(
            reference,
            self.flow.title_zh,
            self.flow.title_en,
            done,
            reason.zh,
            reason.en,
            48,
            ticket_number=ticket,
            parties=parties,
        )
        return reference, reason, ops, done + parties

    def print_slip(
        self, reference: str, reason: UserMessage, ops: list[Any], done: list[tuple[str, str]]
    ) -> str:
        """Print a composed hand-off slip; ``slip_printed`` says whether it came out."""
        outcome = self.services.printing.receipt(f"handoff-{self.id}", ops, kind="handoff")
        self.audit(
            "journey.handoff",
            "printed" if outcome.ok else "not_printed",
            reference=reference,
            reason=reason.code,
            done=",".join(en for _, en in done),
        )
        self.slip_printed = outcome.ok  # if not, the reference is shown on the screen
        if outcome.ok:
            self.ctx.outputs.append(f"hand-off slip {reference}")
        return reference

    def _report_printed(self, query_id: str) -> None:
        link = self.services.registry
        if link is not None and link.outbox is not None:
            link.outbox.put(
                "report_query_printed",
                m.QueryPrinted(_now()),
                group=f"query-{query_id}",
                key=self.key(f"printed-{query_id}"),
                path={"query_id": query_id},
            )

    def _print_acknowledgment(self, columns: int) -> tuple[PrintOutcome, str]:
        ctx = self.ctx
        application = self._application_type()
        assert application is not None and ctx.document is not None
        case = ctx.submitted
        reference = case.case_number if case else (ctx.awaiting_review or ctx.queued)
        ops = acknowledgment(
            case,
            application,
            mask_name(ctx.document.name),
            case.progress_url if case else "",
            columns,
            local_reference=ctx.queued,
            agent=self.agent_text(),
            awaiting_review=ctx.awaiting_review,
        )
        outcome = self.services.printing.receipt(
            f"acknowledgment-{reference}-{self.id}", ops, kind="acknowledgment"
        )
        return outcome, f"acknowledgment {reference}"

    def _print_payment_receipt(self, columns: int) -> PrintOutcome:
        """The paid order's receipt on paper; without paper (or with the receipt printer
        down) the e-receipt's QR goes on the done screen instead: a payment is never left
        without its receipt, and a missing receipt never stops what was paid for."""
        order = self.ctx.order
        assert order is not None
        action = f"receipt-{order.order_id}-{self.id}"
        try:
            receipt = self.client.order_receipt(order.order_id)
        except BackendError as err:  # paid all the same: the registry keeps the e-receipt
            self.audit("print.payment", "receipt_unavailable", error=type(err).__name__)
            return PrintOutcome(action, PrintState.FAILED)
        self.ctx.receipt = receipt
        if not self.services.devices.statuses()[Role.RECEIPT].usable:
            self.audit("print.payment", "skipped_printer_down")
            return PrintOutcome(action, PrintState.FAILED)
        outcome = self.services.printing.receipt(
            action, payment_receipt(receipt, columns), kind="payment"
        )
        self.ctx.receipt_printed = outcome.ok
        if outcome.ok:
            self.ctx.outputs.append("payment receipt")
        else:
            self.audit("print.payment", "not_printed", state=outcome.state.value)
        return outcome

    def list_appointments(self) -> list[m.Appointment]:
        """The person's appointments not checked in yet (the registry judges the time)."""
        found = self.client.list_appointments(self.ctx.verification_id).appointments
        self.ctx.appointments = [a for a in found if not a.checked_in]
        return self.ctx.appointments

    def choose_appointment(self, appointment: m.Appointment) -> None:
        self.ctx.appointment = appointment
        self.audit("journey.choose", "appointment", appointment=appointment.code)

    def take_ticket(self) -> m.Ticket:
        if self.step.param("service") == "appointment":
            assert self.ctx.appointment is not None  # checked in: its number comes first
            ticket = self.client.check_in(self.ctx.appointment.code, self.ctx.verification_id)
            self.ctx.ticket = ticket
            self.audit("appointment.check_in", "done", appointment=self.ctx.appointment.code)
            return ticket
        ticket = self.client.create_ticket(
            self.step.param("service", "counter"), key=self.key("ticket")
        )
        self.ctx.ticket = ticket
        return ticket

    def print_step(self) -> PrintOutcome:
        document = self.step.param("document")
        printing = self.services.printing
        columns = 48
        if document == "ticket":
            ticket = self.ctx.ticket
            assert ticket is not None
            outcome = printing.receipt(
                f"ticket-{ticket.ticket_number}-{self.id}",
                queue_ticket(ticket, columns),
                kind="ticket",
            )
            label = f"queue ticket {ticket.ticket_number}"
        elif document == "payment_receipt":
            return self._print_payment_receipt(columns)
        elif document == "acknowledgment":
            outcome, label = self._print_acknowledgment(columns)
        elif document == "appointment":
            booked = self.ctx.booked
            assert booked is not None
            outcome = printing.receipt(
                f"appointment-{booked.code}-{self.id}",
                appointment_slip(booked, columns),
                kind="appointment",
            )
            label = f"appointment {booked.code}"
        elif document == "guide":
            guide = self.ctx.guide
            assert guide is not None
            outcome = printing.receipt(
                f"guide-{guide.business}-{self.id}", guide_slip(guide, columns), kind="guide"
            )
            label = "service guide"
        elif document == "authorization":
            grant = self.ctx.grant
            assert grant is not None and self.ctx.property is not None
            outcome = printing.receipt(
                f"authorization-{grant.code}-{self.id}",
                authorization_slip(grant, self.ctx.property.address, columns),
                kind="authorization",
            )
            label = "query authorization"
        elif document == "certificate":
            case = self.ctx.case
            assert case is not None
            data = self.client.certificate_data(case.case_number, self.ctx.verification_id)
            # on the next numbered sheet of the ledger; the sheet is reported to the registry,
            # which refuses the data once a sheet was printed (at any kiosk). A retry in this
            # journey is the same action: never a second sheet for one request.
            outcome = printing.certificate(f"certificate-{case.case_number}-{self.id}", data)
            label = f"certificate {data.certificate_number} on sheet {outcome.paper_serial}"
            self.ctx.sheet = outcome.paper_serial
        else:
            query = self.ctx.query
            assert query is not None
            pdf = self.client.query_certificate(query.query_id)
            # the action id is this journey's query: a retried print is the same document
            outcome = printing.document(
                f"query-{query.query_id}-{self.id}",
                pdf,
                f"query {query.query_id}",
                kind="query_certificate",
            )
            label = "query certificate"
            if outcome.ok:  # from now on, a new query is charged again (outbox: sent once)
                self._report_printed(query.query_id)
        if outcome.ok:
            self.ctx.outputs.append(label)
        return outcome
