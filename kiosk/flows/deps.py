"""What a journey uses, and nothing more: the registry link, device jobs, printing, the audit
log, a clock and two settings. A journey used to receive the whole ``Kiosk`` (a service
locator); with these a test builds one on the sandbox registry and in-memory devices without
booting a single emulator, and the composition root (``JourneyServices.of``) stays the one
place that knows where each service comes from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from drivers.base import Role, Status

if TYPE_CHECKING:
    from kiosk.audit import AuditLog
    from kiosk.backend.client import RegistryClient
    from kiosk.backend.models import CertificateData
    from kiosk.card_reader import CardReader
    from kiosk.core import Kiosk
    from kiosk.outbox import Outbox
    from kiosk.printing import PrintOutcome


class RegistryLink(Protocol):
    """The registry as the journey sees it: a client, the durable outbox, and whether the
    link is up now (``kiosk.backend.link.BackendLink``)."""

    client: RegistryClient | None
    outbox: Outbox | None
    up: bool


class DeviceJobs(Protocol):
    """Work on a device, on its own worker (``kiosk.devices.DeviceManager``)."""

    def submit(self, role: Role, job: Callable[[Any], Any]) -> Future[Any]: ...

    def statuses(self) -> dict[Role, Status]: ...


class Printing(Protocol):
    """The printers, with their retries and the paper ledger (``kiosk.printing``)."""

    def receipt(self, action_id: str, ops: list[Any], *, kind: str = ...) -> PrintOutcome: ...

    def document(
        self, action_id: str, pdf: bytes, title: str, *, kind: str = ...
    ) -> PrintOutcome: ...

    def certificate(self, action_id: str, data: CertificateData) -> PrintOutcome: ...


def _today() -> dt.date:
    return dt.date.today()


@dataclass(frozen=True)
class JourneyServices:
    registry: RegistryLink | None
    devices: DeviceJobs
    printing: Printing
    card: CardReader
    audit: AuditLog | None = None
    elder_age: int = 65  # the card holder is offered large text from this age
    maker_checker: frozenset[str] = field(default_factory=frozenset)  # bank: reviewed types
    today: Callable[[], dt.date] = _today

    @classmethod
    def of(cls, kiosk: Kiosk) -> JourneyServices:
        """The services of a started kiosk (the composition root's wiring)."""
        config = kiosk.config
        return cls(
            registry=kiosk.backend,
            devices=kiosk.device_manager,
            printing=kiosk.print_service,
            card=kiosk.card_reader,
            audit=kiosk.audit,
            elder_age=config.session.elder_age,
            maker_checker=frozenset(config.bank.maker_checker),
        )
