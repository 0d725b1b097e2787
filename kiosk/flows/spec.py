"""Flows as data: each citizen journey is a list of step kinds with their parameters, read from
``flows.toml`` and checked when the kiosk starts (an unknown kind or parameter stops it with the
file and the key). What a flow needs — devices, the registry — follows from its steps, so the
home screen can say why a flow is not available now.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from drivers.base import Role
from kiosk.backend.models import ApplicationType, DeliveryMethod, QueryKind
from kiosk.flows.forms import FORMS
from kiosk.messages import REFUSALS
from kiosk.strict import StrictConfigError

APPLICATIONS = {t.value for t in ApplicationType}
DELIVERIES = {d.value for d in DeliveryMethod}

FLOWS_FILE = Path(__file__).with_name("flows.toml")


class StepKind(StrEnum):
    ID_AUTH = "id_auth"  # the card on the reader
    FACE_CHECK = "face_check"  # the person is the card holder
    PARTY = "party"  # one more person of the application in person: card and face check
    CONSENT = "consent"  # what will be queried and why, agreed
    CHOOSE = "choose"  # one item from the person's list (cases, properties, mortgages)
    FORM = "form"  # the few fields the kiosk does not know
    SCAN = "scan"  # supporting documents
    REVIEW = "review"  # everything that will be submitted, with the legal statement
    SIGN = "sign"  # one finger signature for the sitting
    SUBMIT = "submit"  # the application, through the outbox
    DELIVER = "deliver"  # the certificate mailed (EMS) or issued electronically
    QUERY = "query"  # the registry answers the query
    CHECK = "check"  # the registry says whether a proof with this code is genuine
    GRANT = "grant"  # the registry records a holder's query authorization (its code)
    BOOK = "book"  # the registry books the chosen appointment slot
    TAX = "tax"  # the registry's tax link: the chosen contract's deed tax is paid (else stop)
    LOOKUP = "lookup"  # the registry finds the unit whose code was typed (where, not who)
    RESULT = "result"  # what the query found, on screen: print the certificate, or not
    PAY = "pay"  # a fee, by QR
    PRINT = "print"  # a document on a printer
    TICKET = "ticket"  # a queue number
    DONE = "done"  # what to take, what happens next


# the parameters each kind accepts, with their types
PARAMS: dict[StepKind, dict[str, type]] = {
    StepKind.ID_AUTH: {},
    StepKind.FACE_CHECK: {},
    # a role of ROLES (one person), or "co_owners": every other holder of the chosen property
    StepKind.PARTY: {"role": str},
    StepKind.CONSENT: {"purpose_zh": str, "purpose_en": str},
    # "cases" (a fee due) | "ready" (registered: to print) | "properties" | "mortgages"
    # | "renamed" (registered under a name other than the card's: for a name change)
    StepKind.CHOOSE: {"items": str},
    StepKind.FORM: {"form": str},  # a form of kiosk.flows.forms
    # "read": "qr" reads a proof's check code off the page (nothing is kept or filed)
    StepKind.SCAN: {"document_zh": str, "document_en": str, "read": str},
    StepKind.REVIEW: {},
    # applicant (default) | operator | authorization | parties (each party in turn)
    StepKind.SIGN: {"signer": str},
    StepKind.SUBMIT: {"application": str},  # an ApplicationType
    StepKind.DELIVER: {"method": str},  # a DeliveryMethod
    # own | ownership | unit; "back_on": refusals after which "try again" returns to the form
    StepKind.QUERY: {"kind_of": str, "back_on": list},
    StepKind.RESULT: {},
    StepKind.CHECK: {},
    StepKind.GRANT: {},
    # "back_on": refusals after which "try again" returns to the list before (a slot taken)
    StepKind.BOOK: {"back_on": list},
    StepKind.TAX: {},
    # "back_on": refusals after which "try again" returns to the form (a code mistyped)
    StepKind.LOOKUP: {"back_on": list},
    StepKind.PAY: {"for": str},  # query | case
    StepKind.PRINT: {"document": str},  # a key of PRINTERS
    StepKind.TICKET: {"service": str},  # a key of TICKET_SERVICES
    StepKind.DONE: {"next_zh": str, "next_en": str},
}
# the values a parameter may take, where they are a closed set (checked at load)
QUERY_KINDS = {k.value for k in QueryKind}
PAY_FOR = {"query", "case"}
TICKET_SERVICES = {"counter", "appointment"}
NEEDS: dict[StepKind, frozenset[Role]] = {
    StepKind.ID_AUTH: frozenset({Role.IDCARD}),
    StepKind.FACE_CHECK: frozenset({Role.CAMERA}),
    StepKind.PARTY: frozenset({Role.IDCARD, Role.CAMERA}),
    StepKind.SCAN: frozenset({Role.SCANNER}),
}
PRINTERS = {
    "query_certificate": Role.CERTIFICATE,
    "certificate": Role.CERTIFICATE,
    "ticket": Role.RECEIPT,
    "payment_receipt": Role.RECEIPT,
    "acknowledgment": Role.RECEIPT,
    "authorization": Role.RECEIPT,
    "guide": Role.RECEIPT,
    "appointment": Role.RECEIPT,
}
# "delivery": print here, mail (EMS) or the electronic certificate
CHOICES = {
    "cases",
    "ready",
    "properties",
    "renamed",
    "mortgages",
    "delivery",
    "appointments",
    "to_mortgage",  # the person's properties, with their co-owners: to mortgage one
    "my_cases",  # every case of the person, with its status: to see what happens next
    "guides",  # the registry's service guides (no card: public information)
    "booking_services",  # what an appointment can be booked for
    "booking_days",  # the next working days with free slots
    "booking_times",  # that day's free slots
    # the person's sale contracts of new flats (every buyer must come), by what they are for:
    "presale",  # a flat still in pre-sale, no advance notice yet: to register one
    "new_homes",  # built, no advance notice, no bank's part: to transfer
    "noticed_homes",  # built, with the advance notice: to convert it (预告转本)
    "mortgaged_homes",  # built, the bank's advance-notice mortgage on file: 转移并抵押
    "advance_notices",  # with an advance notice: to cancel it
    "my_objections",  # the objections the person registered that still stand
    "proof_input",  # how a proof's code is given: typed, or read from its QR by the scanner
}
SCAN_READS = {"qr"}
CONTRACT_CHOICES = {"presale", "new_homes", "noticed_homes", "mortgaged_homes", "advance_notices"}
# what a bank sees through the borrower's authorization (its own mortgages only)
BANK_CHOICES = {"bank_properties", "bank_mortgages", "contracts", "advance"}
SIGNERS = {"applicant", "operator", "authorization", "parties"}
# the roles a person takes in an application made by several (the registry's words)
ROLES: dict[str, tuple[str, str]] = {
    "mortgagor": ("抵押人", "Mortgagor"),
    "mortgagee": ("抵押权人", "Mortgagee"),
    "buyer": ("买受人", "Buyer"),
}
CO_OWNERS = "co_owners"  # a party step that brings every other holder of the chosen property
CO_BUYERS = "co_buyers"  # a party step that brings every other buyer on the chosen contract
GROUPS = {CO_OWNERS, CO_BUYERS}
MODES = {"hall", "bank"}
# printed when the printer can; the registry keeps the electronic original anyway
OPTIONAL_PRINTS = {"payment_receipt", "guide"}
# steps that work with the registry unreachable (a submission waits in the outbox)
OFFLINE_KINDS = {
    StepKind.ID_AUTH,
    StepKind.DONE,
    StepKind.CONSENT,
    StepKind.FORM,
    StepKind.SCAN,
    StepKind.REVIEW,
    StepKind.SIGN,
    StepKind.SUBMIT,
}


# What a step finds out for the steps after it, and what it needs from the steps before it:
# checked when the flows are loaded, so a flow that would ask for a property nobody chose, or
# print a ticket nobody took, never starts. Keys are a kind, or "kind:parameter value".
GIVES: dict[str, set[str]] = {
    "id_auth": {"card"},
    "face_check": {"verification"},
    "consent": {"consent"},
    "choose:cases": {"case"},
    "choose:ready": {"case"},
    "choose:my_cases": {"case"},
    "choose:guides": {"guide"},
    "choose:booking_services": {"service to book"},
    "choose:booking_days": {"day to book"},
    "choose:booking_times": {"slot"},
    "book": {"appointment booked"},
    "choose:properties": {"property"},
    "choose:renamed": {"property"},
    "choose:mortgages": {"property", "mortgage"},
    "choose:to_mortgage": {"property"},
    "choose:appointments": {"appointment"},
    "choose:delivery": {"delivery choice"},
    "choose:bank_properties": {"property"},
    "choose:bank_mortgages": {"property", "mortgage"},
    "choose:contracts": {"contract"},
    "choose:advance": {"advance notice"},
    **{f"choose:{items}": {"contract"} for items in CONTRACT_CHOICES},
    "choose:my_objections": {"objection", "unit"},
    "tax": {"tax paid"},
    "form:objection_unit": {"unit code"},
    "lookup": {"unit"},
    "party": {"party"},
    "form:authorization": {"authorization code"},
    "form:mailing": {"address to mail to"},
    "form:proof_code": {"proof code"},
    "scan:qr": {"proof code"},
    "choose:proof_input": {"how the code is given"},
    "form:grant": {"grantee"},
    "grant": {"query authorization"},
    "check": {"proof checked"},
    "scan": {"documents"},
    "sign:applicant": {"signature"},
    "sign:parties": {"signature"},
    "sign:operator": {"operator's signature"},
    # the borrower's one signature at a bank: their authorization, which goes with the filing
    "sign:authorization": {"borrower's authorization", "signature"},
    "submit": {"application"},
    "query": {"query"},
    "pay": {"payment"},
    "ticket": {"ticket"},
}
NEEDS_BEFORE: dict[str, set[str]] = {
    "face_check": {"card"},
    "party": {"verification"},
    "party:co_owners": {"property"},
    "party:co_buyers": {"contract"},
    **{f"choose:{items}": {"verification"} for items in CONTRACT_CHOICES},
    "choose:my_objections": {"verification"},
    "tax": {"contract"},
    "form:objection_unit": {"verification"},
    "lookup": {"unit code"},
    "form:objection": {"unit"},
    # a transfer is filed once the tax link says the deed tax is paid
    "submit:new_home_transfer": {"tax paid"},
    "submit:advance_to_ownership": {"tax paid"},
    "submit:new_home_transfer_mortgage": {"tax paid"},
    "sign:parties": {"party"},
    "choose:cases": {"verification"},
    "choose:ready": {"verification"},
    "choose:my_cases": {"verification"},
    "choose:properties": {"verification"},
    "choose:renamed": {"verification"},
    "choose:mortgages": {"verification"},
    "choose:to_mortgage": {"verification"},
    "choose:appointments": {"verification"},
    "choose:delivery": {"case"},
    "choose:bank_properties": {"borrower's authorization"},
    "choose:bank_mortgages": {"borrower's authorization"},
    "choose:contracts": {"borrower's authorization"},
    "choose:advance": {"borrower's authorization"},
    "form:mailing": {"delivery choice"},
    "form:address_change": {"property"},
    "form:name_change": {"property"},
    "form:private_mortgage": {"property"},
    "sign:authorization": {"verification"},
    "submit": {"signature"},
    "query": {"verification", "consent"},
    "query:unit": {"authorization code"},
    "result": {"query"},
    "check": {"proof code"},
    "form:grant": {"property"},
    "grant": {"property", "grantee"},
    "print:authorization": {"query authorization"},
    "print:guide": {"guide"},
    "choose:booking_services": {"verification"},
    "choose:booking_days": {"service to book"},
    "choose:booking_times": {"day to book"},
    "book": {"slot"},
    "print:appointment": {"appointment booked"},
    "pay:query": {"query"},
    "pay:case": {"case"},
    "print:ticket": {"ticket"},
    "print:payment_receipt": {"payment"},
    "print:query_certificate": {"query"},
    "print:certificate": {"case", "delivery choice"},
    "print:acknowledgment": {"application"},
    "ticket:appointment": {"appointment"},
    "deliver": {"case", "delivery choice"},
}
# the parameter that names a step's variant (its default when left out)
VARIANT: dict[StepKind, tuple[str, str]] = {
    StepKind.CHOOSE: ("items", ""),
    StepKind.FORM: ("form", ""),
    StepKind.SIGN: ("signer", "applicant"),
    StepKind.PARTY: ("role", ""),
    StepKind.QUERY: ("kind_of", "own"),
    StepKind.PAY: ("for", ""),
    StepKind.PRINT: ("document", ""),
    StepKind.TICKET: ("service", "counter"),
    StepKind.SUBMIT: ("application", ""),
    StepKind.SCAN: ("read", ""),
}


def _keys(kind: StepKind, params: dict[str, Any]) -> tuple[str, str]:
    """The step's keys in GIVES and NEEDS_BEFORE: its kind, and kind:variant."""
    name, default = VARIANT.get(kind, ("", ""))
    return kind.value, f"{kind.value}:{params.get(name, default)}" if name else kind.value


def _check_order(source: str, where: str, steps: list[StepSpec]) -> None:
    given: dict[str, str] = {}  # what is known, and the step kind that found it out
    providers: dict[str, set[str]] = {}
    for key, gives in GIVES.items():
        for what in gives:
            providers.setdefault(what, set()).add(key.split(":")[0])
    for index, step in enumerate(steps):
        keys = _keys(step.kind, step.params)
        for what in sorted(NEEDS_BEFORE.get(keys[0], set()) | NEEDS_BEFORE.get(keys[1], set())):
            if what not in given:
                raise StrictConfigError(
                    source,
                    f"{where}.steps[{index}]",
                    f"{step.kind} needs {' or '.join(sorted(providers.get(what, {'?'})))} "
                    f"before it (for the {what})",
                )
        for what in GIVES.get(keys[0], set()) | GIVES.get(keys[1], set()):
            given.setdefault(what, step.kind.value)


def _check_parties(
    source: str, where: str, steps: list[StepSpec], applicant_role: str, mode: str
) -> None:
    """A sitting of several people names the first person's role, and everyone signs what is
    filed (each in turn: ``signer = "parties"``); a flow of one person signs alone."""
    several = any(s.kind is StepKind.PARTY for s in steps)
    signers = {s.param("signer", "applicant") for s in steps if s.kind is StepKind.SIGN}
    if applicant_role and applicant_role not in ROLES:
        raise StrictConfigError(source, f"{where}.applicant_role", f"one of {sorted(ROLES)}")
    if not several:
        if applicant_role or "parties" in signers:
            raise StrictConfigError(source, f"{where}.steps", "no party step: one person signs")
        return
    if not applicant_role:
        raise StrictConfigError(
            source, f"{where}.applicant_role", "a flow with party steps names the first role"
        )
    if mode != "hall":
        raise StrictConfigError(source, f"{where}.mode", "party steps are a hall's")
    if "applicant" in signers or (
        any(s.kind is StepKind.SUBMIT for s in steps) and "parties" not in signers
    ):
        raise StrictConfigError(
            source, f"{where}.steps", 'with party steps, everyone signs: signer = "parties"'
        )


@dataclass(frozen=True)
class StepSpec:
    kind: StepKind
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str, default: Any = "") -> Any:
        return self.params.get(name, default)


@dataclass(frozen=True)
class FlowSpec:
    name: str  # also the home screen's service name
    journey: str  # the name `kiosk demo --journey` uses
    title_zh: str
    title_en: str
    steps: tuple[StepSpec, ...]
    mode: str = "hall"  # "bank": an operator files it as the borrower's agent
    # with party steps: the role of the person who starts the sitting (a key of ROLES)
    applicant_role: str = ""

    @property
    def parties(self) -> bool:
        """Whether several people take part in person (party steps)."""
        return any(step.kind is StepKind.PARTY for step in self.steps)

    @property
    def needs(self) -> frozenset[Role]:
        roles: set[Role] = set()
        # with a choice of delivery, the certificate printer is one way among three
        optional = OPTIONAL_PRINTS | ({"certificate"} if self.offers_delivery else set())
        for step in self.steps:
            if step.kind is StepKind.SCAN and step.param("read"):
                continue  # reading a code is one way of two: it can be typed
            roles |= NEEDS.get(step.kind, frozenset())
            if step.kind is StepKind.PRINT and step.param("document") not in optional:
                roles.add(PRINTERS[step.param("document")])
        return frozenset(roles)

    @property
    def offers_delivery(self) -> bool:
        return any(s.kind is StepKind.CHOOSE and s.param("items") == "delivery" for s in self.steps)

    @property
    def needs_backend(self) -> bool:
        return any(step.kind not in OFFLINE_KINDS for step in self.steps)


def load_flows(path: Path = FLOWS_FILE) -> dict[str, FlowSpec]:
    source = str(path)
    data = tomllib.loads(path.read_text())
    flows: dict[str, FlowSpec] = {}
    for name, table in data.items():
        where = f"{name}"
        unknown = set(table) - {
            "journey",
            "title_zh",
            "title_en",
            "steps",
            "mode",
            "applicant_role",
        }
        if unknown:
            raise StrictConfigError(source, f"{where}.{sorted(unknown)[0]}", "unknown key")
        steps = []
        for index, raw in enumerate(table.get("steps", [])):
            at = f"{where}.steps[{index}]"
            try:
                kind = StepKind(raw.get("kind", ""))
            except ValueError:
                raise StrictConfigError(source, f"{at}.kind", "unknown step kind") from None
            params = {k: v for k, v in raw.items() if k != "kind"}
            for key, value in params.items():
                expected = PARAMS[kind].get(key)
                if expected is None:
                    raise StrictConfigError(source, f"{at}.{key}", f"not a {kind} parameter")
                if not isinstance(value, expected):
                    raise StrictConfigError(source, f"{at}.{key}", f"must be {expected.__name__}")
            if kind is StepKind.PRINT and params.get("document") not in PRINTERS:
                raise StrictConfigError(source, f"{at}.document", "unknown document")
            choices = CHOICES | BANK_CHOICES
            if kind is StepKind.CHOOSE and params.get("items") not in choices:
                raise StrictConfigError(source, f"{at}.items", f"one of {sorted(choices)}")
            if kind is StepKind.SIGN and params.get("signer", "applicant") not in SIGNERS:
                raise StrictConfigError(source, f"{at}.signer", f"one of {sorted(SIGNERS)}")
            if kind is StepKind.PARTY and params.get("role") not in {*ROLES, *GROUPS}:
                raise StrictConfigError(source, f"{at}.role", f"one of {sorted({*ROLES, *GROUPS})}")
            if kind is StepKind.SCAN and params.get("read", "qr") not in SCAN_READS:
                raise StrictConfigError(source, f"{at}.read", f"one of {sorted(SCAN_READS)}")
            if kind is StepKind.FORM and params.get("form") not in FORMS:
                raise StrictConfigError(source, f"{at}.form", f"one of {sorted(FORMS)}")
            if kind is StepKind.DELIVER and params.get("method") not in DELIVERIES:
                raise StrictConfigError(source, f"{at}.method", f"one of {sorted(DELIVERIES)}")
            if kind is StepKind.SUBMIT and params.get("application") not in APPLICATIONS:
                raise StrictConfigError(source, f"{at}.application", "unknown application type")
            if kind is StepKind.QUERY and params.get("kind_of", "own") not in QUERY_KINDS:
                raise StrictConfigError(source, f"{at}.kind_of", f"one of {sorted(QUERY_KINDS)}")
            if kind in (StepKind.QUERY, StepKind.BOOK, StepKind.LOOKUP) and not all(
                code in REFUSALS for code in params.get("back_on", [])
            ):
                raise StrictConfigError(source, f"{at}.back_on", "refusal codes of kiosk.messages")
            if kind is StepKind.PAY and params.get("for") not in PAY_FOR:
                raise StrictConfigError(source, f"{at}.for", f"one of {sorted(PAY_FOR)}")
            if kind is StepKind.TICKET and params.get("service", "counter") not in TICKET_SERVICES:
                raise StrictConfigError(
                    source, f"{at}.service", f"one of {sorted(TICKET_SERVICES)}"
                )
            steps.append(StepSpec(kind, params))
        if not steps or steps[-1].kind is not StepKind.DONE:
            raise StrictConfigError(source, f"{where}.steps", "a flow ends with a done step")
        kinds = [s.kind for s in steps]
        mode = str(table.get("mode", "hall"))
        if mode not in MODES:
            raise StrictConfigError(source, f"{where}.mode", f"one of {sorted(MODES)}")
        signers = [s.param("signer", "applicant") for s in steps if s.kind is StepKind.SIGN]
        bank_choice = [
            i
            for i, s in enumerate(steps)
            if s.kind is StepKind.CHOOSE and s.param("items") in BANK_CHOICES
        ]
        if mode == "bank":  # the borrower authorizes, then both sign what is filed
            authorized = [
                i
                for i, s in enumerate(steps)
                if s.kind is StepKind.SIGN and s.param("signer") == "authorization"
            ]
            if not authorized or any(i < authorized[0] for i in bank_choice):
                raise StrictConfigError(
                    source,
                    f"{where}.steps",
                    "a bank flow signs the authorization before it chooses",
                )
            # the borrower signs once, the authorization (which makes the bank their agent for
            # this application); the operator signs what the agent files
            if StepKind.SUBMIT in kinds and "operator" not in signers:
                raise StrictConfigError(
                    source, f"{where}.steps", "a bank flow is signed by the operator as agent"
                )
            if "applicant" in signers:
                raise StrictConfigError(
                    source,
                    f"{where}.steps",
                    "the borrower signs once: the authorization, not the application again",
                )
        elif bank_choice or "operator" in signers or "authorization" in signers:
            raise StrictConfigError(source, f"{where}.steps", 'bank steps need mode = "bank"')
        _check_parties(source, where, steps, str(table.get("applicant_role", "")), mode)
        _check_order(source, where, steps)
        flows[name] = FlowSpec(
            name,
            str(table["journey"]),
            str(table["title_zh"]),
            str(table["title_en"]),
            tuple(steps),
            mode,
            str(table.get("applicant_role", "")),
        )
    return flows
