"""GA 467 SAM ID card reader over a serial line (USB-serial or RS-232), on pyserial."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import serial

from drivers.base import (
    NOT_OPENED,
    Detail,
    IdCardCapabilities,
    Role,
    SelfTestResult,
    SelfTestStep,
    State,
    Status,
)
from drivers.errors import DeviceError, DeviceTimeout, DeviceUnavailable, MediaError, ProtocolError
from drivers.idcard.sam_protocol import (
    Command,
    Outcome,
    Response,
    encode_command,
    parse_response_payload,
    split_frame,
)


@dataclass(frozen=True)
class SamSerialSettings:
    """Profile keys of a ``sam_serial`` reader."""

    port: str
    baud: int = 115200
    timeout_s: float = 1.0
    # Most readers reset the SAM with 10 FF; one vendor sample uses 01 FF.
    reset_command: str = "10FF"


@dataclass(frozen=True)
class RawCard:
    """The bytes of one card read, before decoding (decoding lives with the identity model)."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""


class SamSerialReader:
    """A SAM reader. One instance is used from one thread (the device manager's worker)."""

    role = Role.IDCARD
    settings_type = SamSerialSettings

    def __init__(self, settings: SamSerialSettings) -> None:
        self.settings = settings
        self._port: serial.Serial | None = None
        self._status = NOT_OPENED
        self._sam_id = ""

    @property
    def capabilities(self) -> IdCardCapabilities:
        return IdCardCapabilities(
            model=f"GA 467 SAM {self._sam_id}".strip(),
            card_types=frozenset({"resident", "hmt_permit", "foreign_permanent"}),
            photo=True,
            fingerprint=True,
        )

    def open(self) -> None:
        self.close()
        try:
            self._port = serial.Serial(
                self.settings.port, self.settings.baud, timeout=self.settings.timeout_s
            )
        except (serial.SerialException, OSError) as err:
            raise DeviceUnavailable(f"cannot open {self.settings.port}: {err}") from err
        try:
            self._port.reset_input_buffer()
            self._expect(Command.SAM_STATUS, Outcome.SUCCESS)
            sam = self._expect(Command.SAM_ID, Outcome.SUCCESS)
            self._sam_id = sam.data.hex().upper()
        except DeviceError:
            self.close()
            raise
        self._status = Status(State.READY)

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()
        self._status = NOT_OPENED

    def status(self) -> Status:
        return self._status

    def poll(self) -> Status:
        try:
            self._expect(Command.SAM_STATUS, Outcome.SUCCESS)
            present = self.card_present()
        except DeviceError as err:
            self._status = Status(State.OFFLINE, frozenset({_detail_for(err)}), str(err))
            raise
        detail = Detail.CARD_PRESENT if present else Detail.NO_CARD
        self._status = Status(State.READY, frozenset({detail}))
        return self._status

    def self_test(self) -> SelfTestResult:
        steps: list[SelfTestStep] = []
        for name, command in (("sam_status", Command.SAM_STATUS), ("sam_id", Command.SAM_ID)):
            try:
                response = self._expect(command, Outcome.SUCCESS)
                steps.append(SelfTestStep(name, True, response.data.hex().upper()))
            except DeviceError as err:
                steps.append(SelfTestStep(name, False, str(err)))
                break
        return SelfTestResult(tuple(steps))

    def reset_sam(self) -> None:
        code = bytes.fromhex(self.settings.reset_command)
        self._expect((code[0], code[1]), Outcome.SUCCESS)

    def card_present(self) -> bool:
        outcome = self.exchange(Command.FIND_CARD).outcome
        if outcome is Outcome.FIND_SUCCESS:
            return True
        if outcome is Outcome.NO_CARD:
            return False
        raise ProtocolError(f"find card answered {outcome.name}", code="sam_status")

    def read_card(self, *, fingerprint: bool = False) -> RawCard:
        """Find, select and read the card on the reader."""
        if not self.card_present():
            raise MediaError("no card on the reader", code="no_card")
        self._expect(Command.SELECT_CARD, Outcome.SUCCESS)
        command = Command.READ_TEXT_PHOTO_FINGERPRINT if fingerprint else Command.READ_TEXT_PHOTO
        data = self._expect(command, Outcome.SUCCESS).data
        header = 6 if fingerprint else 4
        if len(data) < header:
            raise ProtocolError("read answer shorter than its length fields", code="frame_length")
        text_len = int.from_bytes(data[0:2], "big")
        photo_len = int.from_bytes(data[2:4], "big")
        finger_len = int.from_bytes(data[4:6], "big") if fingerprint else 0
        if len(data) != header + text_len + photo_len + finger_len:
            raise ProtocolError("read answer length does not match its fields", code="frame_length")
        text = data[header : header + text_len]
        photo = data[header + text_len : header + text_len + photo_len]
        finger = data[header + text_len + photo_len :]
        return RawCard(text, photo, finger)

    # -- wire -----------------------------------------------------------------------------

    def _expect(self, command: Command | tuple[int, int], outcome: Outcome) -> Response:
        response = self.exchange(command)
        got = response.outcome
        if got is not outcome:
            code = "no_card" if got is Outcome.NO_CARD else f"sam_{got.name.lower()}"
            error_type = MediaError if got is Outcome.NO_CARD else ProtocolError
            raise error_type(f"reader answered {got.name} ({got.value:02X})", code=code)
        return response

    def exchange(self, command: Command | tuple[int, int], data: bytes = b"") -> Response:
        port = self._port
        if port is None:
            raise DeviceUnavailable("reader is not open")
        try:
            port.write(encode_command(command, data))
            port.flush()
            return self._read_response(port)
        except serial.SerialException as err:
            raise DeviceUnavailable(f"serial port lost: {err}") from err
        except OSError as err:
            raise DeviceUnavailable(f"serial port lost: {err}") from err

    def _read_response(self, port: serial.Serial) -> Response:
        deadline = time.monotonic() + self.settings.timeout_s
        buffer = b""
        while True:
            payload, consumed = split_frame(buffer)
            if payload is not None:
                return parse_response_payload(payload)
            buffer = buffer[consumed:]
            if time.monotonic() > deadline:
                what = "a partial answer" if buffer else "no answer"
                raise DeviceTimeout(f"reader gave {what} within {self.settings.timeout_s}s")
            chunk = port.read(max(1, port.in_waiting))
            if not chunk and not buffer and time.monotonic() > deadline:
                raise DeviceTimeout("reader did not answer")
            buffer += chunk


def _detail_for(err: DeviceError) -> Detail:
    if isinstance(err, DeviceTimeout):
        return Detail.NO_RESPONSE
    if isinstance(err, ProtocolError):
        return Detail.PROTOCOL_ERROR
    return Detail.DISCONNECTED
