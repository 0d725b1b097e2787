"""Whether a device profile can run the journeys of its site mode.

A profile can load cleanly and still leave a journey unable to start: a bank terminal whose
ID reader is the PC/SC passport driver cannot read a borrower's resident ID card, and every
bank journey begins with one. Each step kind needs a device role (and the reader, the
documents it reads); the profile's name says its site mode (``hall-…``, ``bank-…``; ``sim``
serves both). ``kiosk profiles check`` and the kiosk's start report what does not fit.
"""

from __future__ import annotations

from drivers.base import Role
from drivers.registry import DRIVERS
from kiosk.flows.spec import FlowSpec, StepKind, load_flows
from kiosk.profiles import Profile

CITIZEN_CARD = "resident"  # what a journey's card step reads: the second-generation ID card
RECEIPT_DOCUMENTS = frozenset({"ticket", "acknowledgment", "payment_receipt"})


def site_modes(profile: Profile) -> tuple[str, ...]:
    prefix = profile.name.split("-", 1)[0]
    return ("hall", "bank") if prefix == "sim" else (prefix,)


def _needs(kind: StepKind, document: str) -> Role | None:
    if kind is StepKind.ID_AUTH:
        return Role.IDCARD
    if kind is StepKind.FACE_CHECK:
        return Role.CAMERA
    if kind is StepKind.SCAN:
        return Role.SCANNER
    if kind is StepKind.PRINT:
        return Role.RECEIPT if document in RECEIPT_DOCUMENTS else Role.CERTIFICATE
    return None


def problems(
    profile: Profile,
    flows: dict[str, FlowSpec] | None = None,
    modes: tuple[str, ...] | None = None,
) -> list[str]:
    """Each journey of the profile's site modes (or of ``modes``) it cannot run, and why."""
    out: list[str] = []
    for name, flow in sorted((flows or load_flows()).items()):
        if flow.mode not in (modes or site_modes(profile)):
            continue
        for step in flow.steps:
            role = _needs(step.kind, str(step.param("document", "")))
            if role is None:
                continue
            spec = profile.devices.get(role)
            if spec is None:
                out.append(f"{name}: its {step.kind.value} step needs a {role.value} device")
            elif role is Role.IDCARD and CITIZEN_CARD not in DRIVERS[spec.driver].reads:
                reads = ", ".join(sorted(DRIVERS[spec.driver].reads)) or "nothing"
                out.append(
                    f"{name}: its card step reads a resident ID card; the {spec.driver} "
                    f"reader reads {reads}"
                )
    return out
