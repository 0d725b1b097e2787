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
from kiosk.backend.models import ApplicationType, DeliveryMethod
from kiosk.flows.forms import FORMS
from kiosk.strict import StrictConfigError

APPLICATIONS = {t.value for t in ApplicationType}
DELIVERIES = {d.value for d in DeliveryMethod}

FLOWS_FILE = Path(__file__).with_name("flows.toml")


class StepKind(StrEnum):
    ID_AUTH = "id_auth"  # the card on the reader
    FACE_CHECK = "face_check"  # the person is the card holder
    CONSENT = "consent"  # what will be queried and why, agreed
    CHOOSE = "choose"  # one item from the person's list (cases, properties, mortgages)
    FORM = "form"  # the few fields the kiosk does not know
    SCAN = "scan"  # supporting documents
    REVIEW = "review"  # everything that will be submitted, with the legal statement
    SIGN = "sign"  # one finger signature for the sitting
    SUBMIT = "submit"  # the application, through the outbox
    DELIVER = "deliver"  # the certificate mailed (EMS) or issued electronically
    QUERY = "query"  # the registry answers the query
    PAY = "pay"  # a fee, by QR
    PRINT = "print"  # a document on a printer
    TICKET = "ticket"  # a queue number
    DONE = "done"  # what to take, what happens next


# the parameters each kind accepts, with their types
PARAMS: dict[StepKind, dict[str, type]] = {
    StepKind.ID_AUTH: {},
    StepKind.FACE_CHECK: {},
    StepKind.CONSENT: {"purpose_zh": str, "purpose_en": str},
    # "cases" (a fee due) | "ready" (registered: to print) | "properties" | "mortgages"
    StepKind.CHOOSE: {"items": str},
    StepKind.FORM: {"form": str},  # a form of kiosk.flows.forms
    StepKind.SCAN: {"document_zh": str, "document_en": str},
    StepKind.REVIEW: {},
    StepKind.SIGN: {"signer": str},  # applicant (default) | operator | authorization
    StepKind.SUBMIT: {"application": str},  # an ApplicationType
    StepKind.DELIVER: {"method": str},  # a DeliveryMethod
    StepKind.QUERY: {"kind_of": str},  # own | ownership
    StepKind.PAY: {"for": str},  # query | case
    StepKind.PRINT: {"document": str},  # a key of PRINTERS
    StepKind.TICKET: {"service": str},
    StepKind.DONE: {"next_zh": str, "next_en": str},
}
NEEDS: dict[StepKind, frozenset[Role]] = {
    StepKind.ID_AUTH: frozenset({Role.IDCARD}),
    StepKind.FACE_CHECK: frozenset({Role.CAMERA}),
    StepKind.SCAN: frozenset({Role.SCANNER}),
}
PRINTERS = {
    "query_certificate": Role.CERTIFICATE,
    "certificate": Role.CERTIFICATE,
    "ticket": Role.RECEIPT,
    "payment_receipt": Role.RECEIPT,
    "acknowledgment": Role.RECEIPT,
}
# "delivery": print here, mail (EMS) or the electronic certificate
CHOICES = {"cases", "ready", "properties", "mortgages", "delivery", "appointments"}
# what a bank sees through the borrower's authorization (its own mortgages only)
BANK_CHOICES = {"bank_properties", "bank_mortgages", "contracts", "advance"}
SIGNERS = {"applicant", "operator", "authorization"}
MODES = {"hall", "bank"}
# printed when the printer can; the registry keeps the electronic original anyway
OPTIONAL_PRINTS = {"payment_receipt"}
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

    @property
    def needs(self) -> frozenset[Role]:
        roles: set[Role] = set()
        # with a choice of delivery, the certificate printer is one way among three
        optional = OPTIONAL_PRINTS | ({"certificate"} if self.offers_delivery else set())
        for step in self.steps:
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
        unknown = set(table) - {"journey", "title_zh", "title_en", "steps", "mode"}
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
            if kind is StepKind.FORM and params.get("form") not in FORMS:
                raise StrictConfigError(source, f"{at}.form", f"one of {sorted(FORMS)}")
            if kind is StepKind.DELIVER and params.get("method") not in DELIVERIES:
                raise StrictConfigError(source, f"{at}.method", f"one of {sorted(DELIVERIES)}")
            if kind is StepKind.SUBMIT and params.get("application") not in APPLICATIONS:
                raise StrictConfigError(source, f"{at}.application", "unknown application type")
            steps.append(StepSpec(kind, params))
        if not steps or steps[-1].kind is not StepKind.DONE:
            raise StrictConfigError(source, f"{where}.steps", "a flow ends with a done step")
        kinds = [s.kind for s in steps]
        if (
            StepKind.FACE_CHECK in kinds
            and StepKind.ID_AUTH not in kinds[: kinds.index(StepKind.FACE_CHECK)]
        ):
            raise StrictConfigError(source, f"{where}.steps", "face_check needs id_auth before it")
        if StepKind.SUBMIT in kinds and StepKind.SIGN not in kinds[: kinds.index(StepKind.SUBMIT)]:
            raise StrictConfigError(source, f"{where}.steps", "submit needs sign before it")
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
            if StepKind.SUBMIT in kinds and not {"applicant", "operator"} <= set(signers):
                raise StrictConfigError(
                    source, f"{where}.steps", "a bank flow is signed by borrower and operator"
                )
        elif bank_choice or "operator" in signers or "authorization" in signers:
            raise StrictConfigError(source, f"{where}.steps", 'bank steps need mode = "bank"')
        flows[name] = FlowSpec(
            name,
            str(table["journey"]),
            str(table["title_zh"]),
            str(table["title_en"]),
            tuple(steps),
            mode,
        )
    return flows
