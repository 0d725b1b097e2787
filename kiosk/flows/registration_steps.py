"""The steps of the registrations a citizen files without holding the unit yet, and the proof
check's QR: a buyer's sale contracts and the tax link (a new flat), the unit found by its code
(an objection), the person's standing objections, a proof's code read off its page. Mixed into
:class:`kiosk.flows.journey.Journey`, as the bank's steps are."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.backend import models as m
from kiosk.documents.proof_qr import proof_code, read_qr
from kiosk.documents.receipts import yuan
from kiosk.documents.scan import ScanBatch
from kiosk.messages import StepFailed, UserMessage, user_message

if TYPE_CHECKING:
    from kiosk.backend.client import RegistryClient
    from kiosk.flows.journey import JourneyContext
    from kiosk.flows.spec import StepSpec


TAX_UNPAID = user_message("tax_unpaid")
QR_UNREADABLE = user_message("qr_unreadable")
NOT_A_PROOF_QR = user_message("not_a_proof_qr")
# what each list of sale contracts holds (spec.CONTRACT_CHOICES)
SALE_FILTERS: dict[str, Callable[[m.SaleContract], bool]] = {
    "presale": lambda c: not c.built and not c.notice_id,
    "new_homes": lambda c: c.built and not c.notice_id and not c.bank,
    "noticed_homes": lambda c: c.built and bool(c.notice_id) and not c.bank,
    "mortgaged_homes": lambda c: c.built and bool(c.bank),
    "advance_notices": lambda c: bool(c.notice_id),
}


class RegistrationSteps:
    """Mixed into :class:`kiosk.flows.journey.Journey`."""

    ctx: JourneyContext

    if TYPE_CHECKING:

        @property
        def step(self) -> StepSpec: ...

        @property
        def client(self) -> RegistryClient: ...

        def audit(self, action: str, outcome: str, **fields: Any) -> None: ...

    def list_sales(self) -> list[m.SaleContract]:
        """The person's sale contracts, those this flow's registration is for."""
        found = self.client.list_contracts(self.ctx.verification_id).contracts
        wanted = SALE_FILTERS[str(self.step.param("items"))]
        self.ctx.sales = [c for c in found if wanted(c)]
        return self.ctx.sales

    def choose_sale(self, sale: m.SaleContract) -> None:
        self.ctx.sale = sale
        if self.ctx.parties:  # the applicant's own share (their number is the whole one)
            own = next((i for i, n in enumerate(sale.buyer_numbers) if "*" not in n), 0)
            self.ctx.parties[0].share = sale.shares[own] if sale.shares else ""
        self.audit("journey.choose", "contract", contract=sale.contract_number)

    def check_tax(self) -> m.TaxStatus:
        """The tax link's answer for the chosen contract: a transfer goes on only once the
        deed tax is paid (the person can pay by phone and try again)."""
        sale = self.ctx.sale
        assert sale is not None
        tax = self.client.tax_status(self.ctx.verification_id, sale.contract_number)
        self.audit("tax.status", "paid" if tax.paid else "unpaid", contract=sale.contract_number)
        if not tax.paid:  # how much, when the tax office has assessed it
            due = f"（应缴 {yuan(tax.deed_tax_fen)}）" if tax.deed_tax_fen else ""
            due_en = f" ({yuan(tax.deed_tax_fen)} due)" if tax.deed_tax_fen else ""
            zh, en = (
                TAX_UNPAID.zh.replace("：", f"{due}：", 1),
                TAX_UNPAID.en.replace(":", f"{due_en}:", 1),
            )
            raise StepFailed(UserMessage(TAX_UNPAID.code, zh, en, True))
        self.ctx.tax = tax
        return tax

    def lookup_unit(self) -> m.UnitFound:
        """The unit whose code the person typed (for an objection): where it is."""
        unit = self.client.lookup_unit(self.ctx.verification_id, self.ctx.form["unit_code"])
        self.ctx.unit = unit
        self.audit("unit.lookup", "found", unit=unit.unit_code)
        return unit

    def list_objections(self) -> list[m.Objection]:
        found = self.client.list_objections(self.ctx.verification_id).objections
        self.ctx.objections = list(found)
        return self.ctx.objections

    def choose_objection(self, objection: m.Objection) -> None:
        self.ctx.objection = objection
        self.audit("journey.choose", "objection", objection=objection.objection_id)

    def choose_proof_input(self, how: str) -> None:
        self.ctx.proof_input = how
        self.ctx.form.pop("verification_code", None)
        self.audit("journey.choose", "proof_input", how=how)

    def read_proof_qr(self, batch: ScanBatch | None) -> str:
        """The check code in the QR of a scanned proof (the page itself is not kept: it is
        someone's proof, and only its code is needed)."""
        pages = list(batch.pages) if batch is not None else []
        try:
            payloads = [p for p in (read_qr(page) for page in pages) if p]
        finally:
            if batch is not None:
                batch.pages.clear()
        if not payloads:
            self.audit("proof.qr", "unreadable", pages=len(pages))
            raise StepFailed(QR_UNREADABLE)
        code = proof_code(payloads[0])
        if not code:
            self.audit("proof.qr", "not_a_proof")
            raise StepFailed(NOT_A_PROOF_QR)
        self.ctx.form["verification_code"] = code
        self.audit("proof.qr", "read")
        return code

    def _sale_lines(self, application: m.ApplicationType | None) -> list[tuple[str, str, str]]:
        """A new flat's contract: the developer's side, the flat, the advance notice and the
        bank's part it carries, and the tax link's answer."""
        sale, tax = self.ctx.sale, self.ctx.tax
        if sale is None:
            return []
        lines = [
            ("购房合同备案号", "Sale contract", sale.contract_number),
            ("出卖人（开发企业）", "Seller (developer)", sale.developer),
            ("成交价", "Price", yuan(sale.price_fen)),
            ("不动产坐落", "Property", sale.address),
            ("不动产单元号", "Unit code", sale.unit_code),
        ]
        if sale.notice_id:
            lines.append(("预告登记", "Advance notice", sale.notice_id))
        if sale.bank and application is m.ApplicationType.NEW_HOME_TRANSFER_MORTGAGE:
            part = f"{sale.bank} {yuan(sale.bank_amount_fen)}（抵押预告转本 converted）"
            lines.append(("抵押权人", "Mortgagee", part))
        if tax is not None:
            paid = f"已完税 paid {yuan(tax.deed_tax_fen)}  完税凭证 {tax.receipt_number}"
            lines.append(("契税", "Deed tax", paid))
        return lines
