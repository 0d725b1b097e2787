"""A sitting of several at one kiosk (个人之间抵押, a new flat's buyers): whose turn it is, each
party's card and face check in turn, a co-owner or co-buyer confirmed by their own records, who
signs next, and a face check renewed before a signature it would not outlast. Mixed into
:class:`kiosk.flows.journey.Journey`, as the bank's steps are."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from drivers.idcard.identity import IdentityDocument
from kiosk.backend import models as m
from kiosk.backend.api import VERIFICATION_VALID_S
from kiosk.flows import forms
from kiosk.flows.deps import JourneyServices
from kiosk.flows.parties import Party
from kiosk.flows.spec import CO_BUYERS, CO_OWNERS, FlowSpec, StepKind, StepSpec
from kiosk.messages import StepFailed, UserMessage, user_message

if TYPE_CHECKING:
    from kiosk.backend.client import RegistryClient
    from kiosk.flows.journey import JourneyContext


# renewed when less than this is left of the registry's validity: a minute to write and confirm
# a signature (the registry judges the check at the signature's time)
RENEW_MARGIN_S = 60.0


def _lapsing(verified_at: float) -> bool:
    known = verified_at > 0  # a check the kiosk did not time is not second-guessed
    return known and time.monotonic() - verified_at > VERIFICATION_VALID_S - RENEW_MARGIN_S


PARTY_TWICE = user_message("party_twice")  # the card of someone already in the sitting
NOT_CO_OWNER = user_message("not_co_owner")  # a card whose holder does not hold the unit
NOT_CO_BUYER = user_message("not_co_buyer")  # a card whose holder is not a buyer on the contract
CARD_NOT_TAKEN = UserMessage(
    "card_not_taken",
    "请上一位当事人取回身份证，下一位再放置本人身份证",
    "The person before takes their card first; then the next places their own",
    True,
)
NEXT_NOT_PLACED = UserMessage(
    "next_party_absent",
    "未等到下一位当事人的身份证；各方到齐后可点重试继续",
    "No card from the next party yet: once they are here, tap retry to go on",
    True,
)


class PartySteps:
    """Mixed into :class:`kiosk.flows.journey.Journey`."""

    flow: FlowSpec
    services: JourneyServices
    ctx: JourneyContext
    index: int
    operator: m.OperatorSession | None
    _opened: set[int]
    _over: threading.Event

    if TYPE_CHECKING:

        @property
        def step(self) -> StepSpec: ...

        @property
        def client(self) -> RegistryClient: ...

        def audit(self, action: str, outcome: str, **fields: Any) -> None: ...

        def _read(self, timeout_s: float) -> IdentityDocument: ...

    # -- a sitting of several: each party in turn ------------------------------------------

    def _slots(self, step: StepSpec) -> list[Party]:
        """The people a party step brings: one of its role, or each other holder of the
        chosen property (in the applicant's role, with their share)."""
        role = str(step.param("role"))
        if role == CO_BUYERS:  # the other buyers on the contract (the viewer's number is whole)
            sale = self.ctx.sale
            if sale is None:
                return []
            return [
                Party(self.flow.applicant_role, expected=name, share=share, group=CO_BUYERS)
                for name, share, number in zip(
                    sale.buyers, sale.shares, sale.buyer_numbers, strict=False
                )
                if "*" in number
            ]
        if role != CO_OWNERS:
            return [Party(role)]
        record = self.ctx.property
        if record is None:
            return []
        own = forms.registered_name(record)
        shares = record.shares or [""] * len(record.holders)
        return [
            Party(self.flow.applicant_role, expected=name, share=share, group=CO_OWNERS)
            for name, share in zip(record.holders, shares, strict=False)
            if name != own
        ]

    def party_wanted(self) -> Party | None:
        """The next person this party step needs at the machine, or None when all came."""
        if self.step.kind is not StepKind.PARTY:
            return None
        if self.index not in self._opened:
            self._opened.add(self.index)
            self.ctx.parties.extend(self._slots(self.step))
        return next((p for p in self.ctx.parties if not p.verification_id), None)

    def person_document(self) -> IdentityDocument | None:
        """The card of the person at the machine now (for the face check): the next party's,
        the signer's whose check is renewed, or the applicant's."""
        renewal = self.renewal_wanted()
        if renewal is not None:
            return renewal[2]
        party = self.party_wanted()
        return party.document if party is not None else self.ctx.document

    # -- a face check that would lapse before its person signs --------------------------------

    def renewal_wanted(self) -> tuple[str, str, IdentityDocument] | None:
        """At a sign step of a citizen's kiosk: the signer whose face check is older than
        the registry keeps it (less a minute to sign), as (who zh, who en, their card); the
        registry judges each at their signature, so a long sitting (several parties, many
        pages) renews rather than fails at filing. None when the signer's check is fresh."""
        if self.step.kind is not StepKind.SIGN or self.operator is not None:
            return None
        signer = self.step.param("signer", "applicant")
        if signer == "parties":
            wanted = self.signer_wanted()
            if wanted is None:
                return None
            party = wanted[1]
            if party.document is None or not _lapsing(party.verified_at):
                return None
            zh, en = party.role_names
            return f"{zh} {party.shown_name}", f"{en} {party.shown_name}", party.document
        document = self.ctx.document
        if signer != "applicant" or document is None or not _lapsing(self.ctx.verified_at):
            return None
        return "", "", document

    def renewed(self, verification_id: str) -> None:
        """The signer passed the face check again: their new verification is the one filed."""
        now = time.monotonic()
        wanted = self.signer_wanted() if self.step.param("signer") == "parties" else None
        if wanted is not None:
            place, party = wanted
            party.verification_id, party.verified_at = verification_id, now
            if place == 0:
                self.ctx.verification_id, self.ctx.verified_at = verification_id, now
        else:
            self.ctx.verification_id, self.ctx.verified_at = verification_id, now
        self.audit("identity.renewed", "verified", verification=verification_id)

    def read_party_card(self, timeout_s: float = 120.0) -> IdentityDocument:
        """The next party's card (worker thread): the person before takes theirs away first,
        then the next one places their own. A card of someone already in the sitting is
        refused (the same person cannot be two parties)."""
        party = self.party_wanted()
        assert party is not None
        party.document = None
        reader = self.services.card
        if not reader.wait_removed(self._over, timeout_s):
            raise StepFailed(CARD_NOT_TAKEN)
        try:
            document = self._read(timeout_s)
        except TimeoutError:
            raise StepFailed(NEXT_NOT_PLACED) from None
        present = {p.document.number for p in self.ctx.parties if p.document is not None}
        if document.number in present:
            self.audit("journey.party", "twice", role=party.role)
            raise StepFailed(PARTY_TWICE)
        party.document = document
        self.audit("journey.party", "card_read", role=party.role, card=document.card_type.value)
        return document

    def party_verified(self, verification_id: str) -> Party:
        party = self.party_wanted()
        assert party is not None and party.document is not None
        party.verification_id, party.verified_at = verification_id, time.monotonic()
        self.audit("journey.party", "verified", role=party.role, verification=verification_id)
        return party

    def confirm_member(self, party: Party) -> Party:
        """A co-owner is on the register for the chosen unit, a co-buyer on the chosen
        contract: their own records (or contracts) say so — the registry shows a verified
        person their own. Else they are not this party: their card and check are dropped and
        the slot waits for the right person."""
        if party.group == CO_BUYERS:
            sale = self.ctx.sale
            assert sale is not None
            contracts = self.client.list_contracts(party.verification_id).contracts
            if any(c.contract_number == sale.contract_number for c in contracts):
                return party
            refusal = NOT_CO_BUYER
        else:
            record = self.ctx.property
            assert record is not None
            query = m.RecordsQuery(party.verification_id, m.QueryKind.OWN)
            records = self.client.list_records(query)
            if any(p.unit_code == record.unit_code for p in records.properties):
                return party
            refusal = NOT_CO_OWNER
        self.audit("journey.party", refusal.code, role=party.role)
        party.verification_id, party.document = "", None
        raise StepFailed(refusal)

    def signer_wanted(self) -> tuple[int, Party] | None:
        """At a "parties" sign step: the next party to sign (its place), None when all did."""
        return next(((i, p) for i, p in enumerate(self.ctx.parties) if not p.signature), None)

    def sitting_unfinished(self) -> bool:
        """A sitting of several reached its parties and nothing is filed: a slip says so."""
        ctx = self.ctx
        if not self.flow.parties or ctx.submitted is not None or ctx.queued:
            return False
        first = next(i for i, s in enumerate(self.flow.steps) if s.kind is StepKind.PARTY)
        return self.index >= first
