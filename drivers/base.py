"""Device contracts shared by every driver.

Each device class has a small ``Protocol``, a frozen capabilities dataclass, and a ``Status``
snapshot made of enums. Status is cheap to read (no I/O); ``poll()`` is the one call that talks to
the device to refresh it, and the device manager calls it on the device's own worker thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Role(StrEnum):
    """What a device is for in the kiosk. A profile configures at most one device per role."""

    IDCARD = "idcard"
    CAMERA = "camera"
    SCANNER = "scanner"
    RECEIPT = "receipt"
    CERTIFICATE = "certificate"


class State(StrEnum):
    """Coarse device state. ``UNKNOWN`` is honest: it never stands in for a guess."""

    UNKNOWN = "unknown"
    READY = "ready"
    BUSY = "busy"
    OFFLINE = "offline"
    ERROR = "error"


class Detail(StrEnum):
    """Fine-grained reasons that accompany a state (several may hold at once)."""

    NOT_OPENED = "not_opened"
    DISCONNECTED = "disconnected"
    NO_RESPONSE = "no_response"
    PROTOCOL_ERROR = "protocol_error"
    PAPER_OUT = "paper_out"
    PAPER_LOW = "paper_low"
    COVER_OPEN = "cover_open"
    CUTTER_ERROR = "cutter_error"
    JAMMED = "jammed"
    TONER_LOW = "toner_low"
    NO_CARD = "no_card"
    CARD_PRESENT = "card_present"
    SAM_FAULT = "sam_fault"
    NO_FRAME = "no_frame"
    PRINTER_STOPPED = "printer_stopped"
    NOT_ACCEPTING = "not_accepting"
    STATUS_UNKNOWN = "status_unknown"
    SERVICE_DOWN = "service_down"  # the system service in between (pcscd, cupsd) is not there
    UNREACHABLE = "unreachable"  # a network device does not answer at its address


@dataclass(frozen=True)
class Status:
    """An immutable snapshot of a device's condition at ``at`` (monotonic seconds)."""

    state: State
    details: frozenset[Detail] = frozenset()
    message: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def usable(self) -> bool:
        """Whether a flow can use the device now (ready, or busy with its own work)."""
        return self.state in (State.READY, State.BUSY)

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "details": sorted(d.value for d in self.details),
            "message": self.message,
        }

    def same_condition(self, other: Status) -> bool:
        """Equal apart from the timestamp: used to publish only real changes."""
        return (self.state, self.details, self.message) == (
            other.state,
            other.details,
            other.message,
        )


NOT_OPENED = Status(State.OFFLINE, frozenset({Detail.NOT_OPENED}), "not opened")


@dataclass(frozen=True)
class SelfTestStep:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class SelfTestResult:
    """A structured self-test for maintenance staff: each step passed or failed, and why."""

    steps: tuple[SelfTestStep, ...]

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in self.steps],
        }


@dataclass(frozen=True)
class Capabilities:
    """What a device can do. Each device class extends it with its own fields."""

    model: str = ""

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = sorted(value) if isinstance(value, frozenset) else value
        return out


@dataclass(frozen=True)
class IdCardCapabilities(Capabilities):
    card_types: frozenset[str] = frozenset()
    photo: bool = False
    fingerprint: bool = False
    newest_address: bool = False


@dataclass(frozen=True)
class CameraCapabilities(Capabilities):
    width: int = 0
    height: int = 0
    fps: float = 0.0


@dataclass(frozen=True)
class ScannerCapabilities(Capabilities):
    sources: frozenset[str] = frozenset()
    resolutions: tuple[int, ...] = ()
    color: bool = True


@dataclass(frozen=True)
class ReceiptCapabilities(Capabilities):
    paper_width_mm: int = 80
    chars_per_line: int = 48
    qr: bool = True
    cut: bool = True
    status_query: bool = True


@dataclass(frozen=True)
class CertificateCapabilities(Capabilities):
    queue: str = ""
    media: str = "A4"


@runtime_checkable
class Device(Protocol):
    """The lifecycle every driver has.

    Construct from settings without I/O; ``open()`` does the handshake; ``close()`` is safe to call
    twice; ``status()`` returns the last snapshot without I/O; ``poll()`` talks to the device and
    returns a fresh snapshot, raising a :mod:`drivers.errors` exception when the device is gone.
    """

    role: Role

    @property
    def capabilities(self) -> Capabilities: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def status(self) -> Status: ...

    def poll(self) -> Status: ...

    def self_test(self) -> SelfTestResult: ...


class IdCardReader(Device, Protocol):
    def card_present(self) -> bool:
        """Whether a card is on the reader now (one find-card exchange)."""
        ...


class Camera(Device, Protocol):
    def grab(self) -> object:
        """One frame as a BGR ``numpy`` array."""
        ...


class Scanner(Device, Protocol):
    def scan_page(self) -> object:
        """One page as a PIL image (the ADF feeds the next sheet)."""
        ...


class ReceiptPrinter(Device, Protocol):
    def write(self, data: bytes) -> None:
        """Send raw ESC/POS bytes (layouts are rendered by the kiosk)."""
        ...


class CertificatePrinter(Device, Protocol):
    def print_pdf(self, path: str, title: str) -> int:
        """Submit a PDF; returns the job id."""
        ...


def unavailable_detail(err: Exception) -> Detail:
    """Why a device cannot be reached, as precisely as the error says: the service in
    between, the network, or the device itself (its power or cable)."""
    from drivers.errors import NetworkUnreachable, ServiceUnavailable

    if isinstance(err, ServiceUnavailable):
        return Detail.SERVICE_DOWN
    if isinstance(err, NetworkUnreachable):
        return Detail.UNREACHABLE
    return Detail.DISCONNECTED
