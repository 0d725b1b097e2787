"""The steps a bank operator's journey adds: the borrower's signed authorization, what it lets
the bank see, the operator's own signature, filing (straight away, or for a second operator's
approval: maker-checker), and the draft kept when the operator is logged out mid-way.

A filing goes to the registry at once (it needs the operator's live session; the operator is
there to retry), not through the kiosk's outbox. The registry keeps the drafts, per operator;
only a draft kept while the registry is away waits in the outbox (sealed), held until that
operator's next login here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

from kiosk.backend import models as m
from kiosk.backend.errors import BackendError
from kiosk.flows import choices, forms
from kiosk.flows.spec import StepKind
from kiosk.outbox import held_group
from kiosk.redact import mask_name

if TYPE_CHECKING:
    from kiosk.backend.client import RegistryClient
    from kiosk.flows.deps import JourneyServices
    from kiosk.flows.journey import JourneyContext
    from kiosk.flows.spec import FlowSpec, StepSpec


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BankSteps:
    """Mixed into :class:`kiosk.flows.journey.Journey`."""

    flow: FlowSpec
    services: JourneyServices
    ctx: JourneyContext
    index: int
    id: str
    operator: m.OperatorSession | None
    draft_id: str
    resume: m.Draft | None

    if TYPE_CHECKING:

        @property
        def step(self) -> StepSpec: ...

        @property
        def client(self) -> RegistryClient: ...

        def key(self, what: str) -> str: ...

        def audit(self, action: str, outcome: str, **fields: Any) -> None: ...

        def _application_type(self) -> m.ApplicationType | None: ...

        def review_lines(self) -> list[tuple[str, str, str]]: ...

    @property
    def token(self) -> str:
        assert self.operator is not None, "a bank step without an operator logged in"
        return self.operator.operator_token

    @property
    def needs_review(self) -> bool:
        """Maker-checker: a second operator approves this kind of application."""
        application = self._application_type()
        return application is not None and (application.value in self.services.maker_checker)

    # -- the operator's witness: the way without a face check ------------------------------

    def witness_statement(self) -> tuple[str, str]:
        """What the operator confirms, in Chinese and English (masked: it is on screen)."""
        assert self.operator is not None and self.ctx.document is not None
        who = f"{self.operator.operator_name}（{self.operator.operator_id}）"
        name = mask_name(self.ctx.document.name)
        return (
            f"本人{who}已当面核对：申请人{name}本人在场，与所持身份证件一致。",
            f"I, {self.operator.operator_id}, checked in person that the applicant {name} is "
            "present and is the holder of this ID card.",
        )

    def witness(self) -> m.Verification:
        """The borrower declined the face check; the operator witnessed their identity in
        person. The registry records the operator as the witness, and the verification it
        answers serves the authorization and the filing as a face check's would."""
        document = self.ctx.document
        assert document is not None
        at = _now()  # the statement as confirmed, bound to this card and this moment
        statement = "|".join((self.witness_statement()[0], document.number, at)).encode()
        verification = self.client.witness_identity(
            m.WitnessIdentity(
                document.number,
                document.name,
                m.card_type_of(document.card_type.value),
                hashlib.sha256(statement).hexdigest(),
                at,
            ),
            operator=self.token,
            key=self.key("witness"),
        )
        self.audit("identity.witness", verification.result.value, reason="declined_face")
        if verification.result is m.VerifyResult.VERIFIED:
            self.ctx.verification_id = verification.verification_id
        return verification

    # -- the borrower's authorization -----------------------------------------------------

    def authorize(self, jpeg: bytes) -> m.BankAuthorization:
        """The borrower signed the authorization: the registry records it with its scope
        (this application type, this bank, this borrower) and it serves one application."""
        application = self._application_type()
        assert application is not None
        signature = hashlib.sha256(jpeg).hexdigest()
        # the registry checks the signature itself: its image goes first
        self.client.upload_attachment(jpeg, "image/jpeg", key=self.key("authorization-sign"))
        authorization = self.client.authorize_bank(
            m.BankAuthorizationRequest(self.ctx.verification_id, application, signature, _now()),
            operator=self.token,
            key=self.key("authorization"),
        )
        self.ctx.authorization = authorization
        # the borrower's one signature: it goes with the filing too (the bank files as their
        # agent under this authorization), never asked for again
        self.ctx.signature = bytearray(jpeg)
        self.audit(
            "bank.authorization",
            "signed",
            authorization=authorization.authorization_id,
            scope=application.value,
            sha256=signature,
        )
        return authorization

    def bank_items(self) -> list[Any]:
        """What the borrower's authorization lets the bank choose from, for this step."""
        assert self.ctx.authorization is not None
        records = self.client.bank_records(
            self.ctx.authorization.authorization_id, operator=self.token
        )
        items = self.step.param("items")
        self.audit("bank.records", "viewed", authorization=self.ctx.authorization.authorization_id)
        found: list[Any]
        if items == "contracts":
            found = list(records.contracts)
            self.ctx.contracts = found
        elif items == "advance":
            found = [a for a in records.advance if a.certificate_ready]
            self.ctx.advances = found
        else:
            found = list(records.properties)
            if items == "bank_mortgages":
                found = [p for p in found if p.mortgages]
            self.ctx.properties = found
        return found

    def preselected(self, items: list[Any]) -> Any:
        """When resuming a draft: the item it had chosen, if it is still on offer."""
        if self.resume is None or not self.resume.choice:
            return None
        for item in items:
            if self.resume.choice in choices.identifiers(item):
                return item
        return None

    def choose_contract(self, contract: m.PresaleContract) -> None:
        self.ctx.contract = contract
        self.audit("journey.choose", "contract", contract=contract.contract_number)

    def choose_advance(self, advance: m.AdvanceMortgage) -> None:
        self.ctx.advance = advance
        self.audit("journey.choose", "advance", notice=advance.notice_id)

    # -- filing ---------------------------------------------------------------------------

    def unit_code(self) -> str:
        ctx = self.ctx
        if ctx.property is not None:
            return ctx.property.unit_code
        if ctx.contract is not None:
            return ctx.contract.unit_code
        if ctx.sale is not None:
            return ctx.sale.unit_code
        if ctx.unit is not None:
            return ctx.unit.unit_code
        if ctx.objection is not None:
            return ctx.objection.unit_code
        return ctx.advance.unit_code if ctx.advance is not None else ""

    def _choice(self) -> str:
        ctx = self.ctx
        if ctx.mortgage is not None:
            return ctx.mortgage.mortgage_id
        if ctx.advance is not None:
            return ctx.advance.notice_id
        if ctx.contract is not None:
            return ctx.contract.contract_number
        return ctx.property.unit_code if ctx.property is not None else ""

    def _summary(self) -> str:
        application = self._application_type()
        from kiosk.documents.receipts import BUSINESS_NAMES

        zh = BUSINESS_NAMES[application][0] if application else self.flow.title_zh
        name = mask_name(self.ctx.document.name) if self.ctx.document else ""
        return f"{zh} {name}".strip()

    def _values(self) -> list[m.FieldValue]:
        return [
            m.FieldValue(f.name, self.ctx.form[f.name])
            for s in self.flow.steps
            if s.kind is StepKind.FORM
            for f in forms.fields(str(s.param("form")))
            if f.submit and f.name in self.ctx.form
        ]

    def submit_bank(self) -> m.Case | None:
        """Upload the contracts and both signatures, keep the complete application as a draft
        with the registry, and file it — or, under maker-checker, leave it for a second
        operator of the bank (returns None; the acknowledgment says so)."""
        ctx = self.ctx
        client = self.client
        application = self._application_type()
        assert application is not None and ctx.authorization is not None
        assert ctx.signature and ctx.operator_signature
        attachments = []
        if ctx.scan is not None and ctx.scan.pages:
            pdf = ctx.scan.to_pdf()
            attachments.append(
                client.upload_attachment(pdf, "application/pdf", key=self.key("scan")).attachment_id
            )
        signatures = []
        for signer, image in (("applicant", ctx.signature), ("operator", ctx.operator_signature)):
            data = bytes(image)
            attachments.append(
                client.upload_attachment(
                    data, "image/jpeg", key=self.key(f"signature-{signer}")
                ).attachment_id
            )
            signatures.append(m.Signature(signer, hashlib.sha256(data).hexdigest(), _now()))
        body = m.Application(
            application,
            self.unit_code(),
            ctx.verification_id,
            self._values(),
            attachments,
            signatures,
            ctx.mortgage.mortgage_id
            if ctx.mortgage
            else (ctx.advance.notice_id if ctx.advance else ""),
        )
        review = [m.FieldValue(f"{zh} {en}", value) for zh, en, value in self.review_lines()]
        draft = client.save_draft(
            self.draft_id,
            m.SaveDraft(
                application,
                m.DraftStatus.AWAITING_REVIEW,
                self._summary(),
                self.index,
                ctx.authorization.authorization_id,
                self._choice(),
                self._values(),
                review,
                body,
                self.needs_review,
            ),
            operator=self.token,
            key=self.key("draft"),
        )
        if draft.review_required:
            ctx.awaiting_review = draft.draft_id
            self.audit("application.submit", "awaiting_review", draft=draft.draft_id)
            return None
        case = client.submit_draft(self.draft_id, operator=self.token, key=self.key("submit"))
        ctx.submitted = case
        self.audit("application.submit", "accepted", case=case.case_number, draft=self.draft_id)
        return case

    def open_draft(self) -> m.SaveDraft | None:
        """What the operator entered so far, to keep when they are logged out mid-way (taken
        on the UI thread before the visit is wiped; sent by :meth:`keep_draft`). None when
        nothing was entered or the application was filed."""
        if self.operator is None or self.ctx.submitted is not None or self.ctx.awaiting_review:
            return None
        application = self._application_type()
        if application is None or (not self.ctx.form and not self._choice()):
            return None
        return m.SaveDraft(
            application,
            m.DraftStatus.OPEN,
            self._summary(),
            self.index,
            "",  # a resumed application is authorized again, by the borrower present
            self._choice(),
            self._values(),
        )

    def keep_draft(self, body: m.SaveDraft) -> str:
        """Keep the unfinished application with the registry, for this operator only. With
        the registry away (known down, or failing now) it waits in the durable outbox
        (sealed) and goes with the operator's next login here (same idempotency key: kept
        once). Returns "kept" or "held"; a refusal by the registry raises."""
        assert self.operator is not None
        key = self.key(f"open-{body.step}-{len(body.values)}")
        link = self.services.registry
        if link is None or link.client is None:
            raise BackendError("no registry configured")
        if link.up:
            try:
                link.client.save_draft(self.draft_id, body, operator=self.token, key=key)
            except BackendError as err:
                if not err.retryable or link.outbox is None:
                    raise
            else:
                self.audit("bank.draft", "kept", draft=self.draft_id, step=str(body.step))
                return "kept"
        if link.outbox is None:
            raise BackendError("the registry is away and there is no outbox")
        link.outbox.put(
            "save_draft",
            body,
            group=held_group(self.operator.ref),
            key=key,
            path={"draft_id": self.draft_id},
        )
        self.audit("bank.draft", "held", draft=self.draft_id, step=str(body.step))
        return "held"

    def agent_text(self) -> str:
        operator = self.operator
        if operator is None:
            return ""
        return f"{operator.bank.name} {operator.operator_id}"
