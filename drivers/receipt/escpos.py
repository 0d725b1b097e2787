"""ESC/POS receipt printer on python-escpos. The transport is chosen by the profile.

Status comes from the printer's real-time status (DLE EOT 1–4). An answer that is missing or
not a status byte is reported as ``STATUS_UNKNOWN``, never as "no paper".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.base import (
    NOT_OPENED,
    Detail,
    ReceiptCapabilities,
    Role,
    SelfTestResult,
    SelfTestStep,
    State,
    Status,
    unavailable_detail,
)
from drivers.errors import (
    ConfigurationError,
    DeviceTimeout,
    DeviceUnavailable,
    MediaError,
    NetworkUnreachable,
    NotSupported,
)
from drivers.receipt import escpos_status as st
from drivers.receipt.encoder import EncoderModel, encode
from drivers.receipt.ops import Op


@dataclass(frozen=True)
class EscposSettings:
    """Profile keys of an ``escpos`` printer."""

    transport: str  # "network" | "serial" | "usb" | "cups"
    host: str = ""
    port: int = 9100
    device: str = ""  # serial device path
    baud: int = 19200
    usb_vendor: int = 0
    usb_product: int = 0
    cups_queue: str = ""
    timeout_s: float = 2.0
    paper_width_mm: int = 80
    chars_per_line: int = 48
    kanji_mode: bool = True
    native_qr: bool = True
    cutter: bool = True
    status_query: bool = True


def _make_transport(settings: EscposSettings) -> Any:
    """Build the python-escpos printer object for the profile's transport (no I/O yet)."""
    from escpos import printer

    if settings.transport == "network":
        if not settings.host:
            raise ConfigurationError("network transport needs host")
        return printer.Network(settings.host, settings.port, timeout=settings.timeout_s)
    if settings.transport == "serial":
        if not settings.device:
            raise ConfigurationError("serial transport needs device")
        # no modem-line handshake: many USB-serial receipt printers do not wire it (and a pty,
        # the emulator's line, has none)
        return printer.Serial(
            settings.device, baudrate=settings.baud, timeout=settings.timeout_s, dsrdtr=False
        )
    if settings.transport == "usb":
        # No USB bus on the development machines: this path is tested by its contract only.
        return printer.Usb(settings.usb_vendor, settings.usb_product, timeout=0)
    if settings.transport == "cups":
        return printer.CupsPrinter(settings.cups_queue)
    raise ConfigurationError(f"unknown ESC/POS transport {settings.transport!r}")


class EscposPrinter:
    role = Role.RECEIPT
    settings_type = EscposSettings

    def __init__(self, settings: EscposSettings) -> None:
        self.settings = settings
        self._printer: Any = None
        self._status = NOT_OPENED

    @property
    def capabilities(self) -> ReceiptCapabilities:
        return ReceiptCapabilities(
            model=f"ESC/POS ({self.settings.transport})",
            paper_width_mm=self.settings.paper_width_mm,
            chars_per_line=self.settings.chars_per_line,
            status_query=self.settings.status_query and self.settings.transport != "cups",
        )

    def open(self) -> None:
        self.close()
        printer = _make_transport(self.settings)
        try:
            printer.open()
        except Exception as err:  # python-escpos raises its own and OSError alike
            raise self._unavailable(f"cannot open receipt printer: {err}") from err
        self._printer = printer
        try:
            self.poll()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception:  # closing a dead transport must not mask the original error
                pass
        self._status = NOT_OPENED

    def status(self) -> Status:
        return self._status

    def poll(self) -> Status:
        if not self.capabilities.status_query:
            self._status = Status(State.READY, frozenset({Detail.STATUS_UNKNOWN}))
            return self._status
        try:
            printer_byte = self._query(st.REQUEST_PRINTER)
            if printer_byte is None:
                self._status = Status(
                    State.UNKNOWN, frozenset({Detail.STATUS_UNKNOWN}), "no valid status answer"
                )
                return self._status
            details: set[Detail] = set()
            state = State.READY
            if printer_byte & st.PRINTER_OFFLINE:
                state = State.ERROR
                cause = self._query(st.REQUEST_OFFLINE_CAUSE) or 0
                if cause & st.OFFLINE_COVER_OPEN:
                    details.add(Detail.COVER_OPEN)
                if cause & st.OFFLINE_PAPER_END_STOP:
                    details.add(Detail.PAPER_OUT)
                if cause & st.OFFLINE_ERROR:
                    error = self._query(st.REQUEST_ERROR_CAUSE) or 0
                    if error & st.ERROR_CUTTER:
                        details.add(Detail.CUTTER_ERROR)
                if not details:
                    details.add(Detail.STATUS_UNKNOWN)
            paper = self._query(st.REQUEST_PAPER)
            if paper is None:
                details.add(Detail.STATUS_UNKNOWN)
            elif paper & st.PAPER_END:
                details.add(Detail.PAPER_OUT)
                state = State.ERROR
            elif paper & st.PAPER_NEAR_END:
                details.add(Detail.PAPER_LOW)
        except DeviceUnavailable as err:
            self._status = Status(State.OFFLINE, frozenset({unavailable_detail(err)}), str(err))
            raise
        except DeviceTimeout as err:
            self._status = Status(State.OFFLINE, frozenset({Detail.NO_RESPONSE}), str(err))
            raise
        self._status = Status(state, frozenset(details))
        return self._status

    def self_test(self) -> SelfTestResult:
        try:
            status = self.poll()
        except (DeviceUnavailable, DeviceTimeout) as err:
            return SelfTestResult((SelfTestStep("status", False, str(err)),))
        ok = status.state is State.READY
        return SelfTestResult((SelfTestStep("status", ok, status.state.value),))

    @property
    def model(self) -> EncoderModel:
        return EncoderModel(self.settings.kanji_mode, self.settings.native_qr, self.settings.cutter)

    def print_ops(self, ops: list[Op]) -> None:
        """Print one receipt. Refuses before printing when the paper is out or the cover open,
        and reports paper that ran out while printing."""
        self._check_printable(self.poll())
        self.write(encode(ops, self.model))
        after = self.poll()
        if Detail.PAPER_OUT in after.details:
            raise MediaError("the paper ran out while printing", code="paper_out")

    def _check_printable(self, status: Status) -> None:
        for detail, code, text in (
            (Detail.PAPER_OUT, "paper_out", "the receipt printer is out of paper"),
            (Detail.COVER_OPEN, "cover_open", "the receipt printer's cover is open"),
            (Detail.CUTTER_ERROR, "cutter_error", "the receipt printer's cutter is stuck"),
        ):
            if detail in status.details:
                raise MediaError(text, code=code)
        if status.state is State.ERROR:
            raise MediaError("the receipt printer reports an error", code="printer_error")

    def write(self, data: bytes) -> None:
        printer = self._require_open()
        try:
            printer._raw(data)
        except (TimeoutError, OSError) as err:
            raise self._unavailable(f"receipt printer lost: {err}") from err

    # -- wire -----------------------------------------------------------------------------

    def _unavailable(self, message: str) -> DeviceUnavailable:
        """The printer cannot be reached: on the network, that is the network's to check."""
        if self.settings.transport == "network":
            address = f"{self.settings.host}:{self.settings.port}"
            return NetworkUnreachable(address, f"{message} (at {address})")
        return DeviceUnavailable(message)

    def _require_open(self) -> Any:
        if self._printer is None:
            raise DeviceUnavailable("receipt printer is not open")
        return self._printer

    def _query(self, request: int) -> int | None:
        """One DLE EOT exchange. ``None`` means the answer was not a status byte."""
        printer = self._require_open()
        if not hasattr(printer, "_read"):
            raise NotSupported("this transport cannot read status")
        try:
            printer._raw(st.DLE_EOT + bytes([request]))
            # one status byte: a serial read of 16 would wait out the whole timeout
            serial_line = self.settings.transport == "serial"
            answer = printer.device.read(1) if serial_line else printer._read()
        except TimeoutError as err:
            raise DeviceTimeout("printer did not answer a status request") from err
        except OSError as err:
            raise self._unavailable(f"receipt printer lost: {err}") from err
        if not answer:
            raise self._unavailable("receipt printer closed the connection")
        value = answer[-1]
        return value if st.is_status_byte(value) else None
