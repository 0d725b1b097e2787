"""GA 467 SAM ID card reader over a serial line (USB-serial or RS-232), on pyserial.

Frames are cut by their length; a frame that fails its length or checksum makes the reader
resynchronise on the next preamble. Idempotent exchanges (status, find, select, read) are
retried after a garbled or missing answer; a vanished port is ``DeviceUnavailable`` at once.
Every status word maps to a typed outcome and, when it is a refusal, to one of the driver
errors with a stable code the kiosk turns into a message.
"""

from __future__ import annotations

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
from drivers.errors import (
    ConfigurationError,
    DeviceError,
    DeviceTimeout,
    DeviceUnavailable,
    MediaError,
    ProtocolError,
)
from drivers.idcard.identity import IdentityDocument, PhotoState, decode_text
from drivers.idcard.sam_protocol import (
    PREAMBLE,
    Command,
    Outcome,
    Response,
    encode_command,
    parse_response_payload,
    split_frame,
)
from drivers.idcard.wlt import PhotoDecodeError, WltDecoder, WltDecoderSettings

# What each refusal means for the person at the kiosk, and its stable code.
MEDIA_OUTCOMES = {
    Outcome.NO_CARD: "no_card",
    Outcome.SELECT_FAILED: "no_card",
    Outcome.READ_FAILED: "read_failed",
    Outcome.UNKNOWN_CARD_TYPE: "unknown_card",
    Outcome.AUTH_FAILED_1: "card_auth_failed",
    Outcome.AUTH_FAILED_2: "card_auth_failed",
    Outcome.DATA_VERIFICATION_ERROR: "read_failed",
}
SAM_FAULTS = {Outcome.SAM_SELF_TEST_FAILED, Outcome.SAM_NOT_AUTHORISED, Outcome.RANDOM_FAILED}
RETRYABLE_OUTCOMES = {Outcome.CHECKSUM_ERROR, Outcome.LENGTH_ERROR}
RETRYABLE_CODES = {"frame", "timeout", "sam_checksum_error", "sam_length_error"}


@dataclass(frozen=True)
class SamSerialSettings:
    """Profile keys of a ``sam_serial`` reader."""

    port: str
    baud: int = 115200
    timeout_s: float = 1.0
    # Most readers reset the SAM with 10 FF; one vendor sample uses 01 FF.
    reset_command: str = "10FF"
    # The baud-rate command has no public description: "60" + the vendor's code, per model.
    baud_command: str = ""
    fingerprint: bool = False
    newest_address: bool = False  # the reader supports 30 03
    photo_format: str = "wlt"  # "wlt" (card bytes), or "bmp"/"jpeg" from readers that decode
    photo_decoder: str = ""  # the vendor's WLT library; "" = none: checks use the registry photo
    photo_decoder_symbol: str = "unpack"
    card_poll_s: float = 0.3
    retries: int = 2


@dataclass(frozen=True)
class RawCard:
    """The bytes of one card read, before decoding."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""


class SamSerialReader:
    """A SAM reader. One instance is used from one thread (the device manager's worker)."""

    role = Role.IDCARD
    settings_type = SamSerialSettings

    def __init__(self, settings: SamSerialSettings) -> None:
        if settings.photo_format not in ("wlt", "bmp", "jpeg"):
            raise ConfigurationError(f"photo_format {settings.photo_format!r}: wlt, bmp or jpeg")
        self.settings = settings
        self.poll_interval_s = settings.card_poll_s
        self._port: serial.Serial | None = None
        self._status = NOT_OPENED
        self._sam_id = ""
        self._decoder = (
            WltDecoder(WltDecoderSettings(settings.photo_decoder, settings.photo_decoder_symbol))
            if settings.photo_decoder
            else None
        )

    @property
    def capabilities(self) -> IdCardCapabilities:
        return IdCardCapabilities(
            model=f"GA 467 SAM {self._sam_id}".strip(),
            card_types=frozenset({"resident", "hmt_permit", "foreign_permanent"}),
            photo=self._decoder is not None or self.settings.photo_format != "wlt",
            fingerprint=self.settings.fingerprint,
            newest_address=self.settings.newest_address,
        )

    # -- lifecycle ------------------------------------------------------------------------

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
        self._status = Status(State.READY, frozenset({Detail.NO_CARD}))

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass
        if self._decoder is not None:
            self._decoder.close()
        self._status = NOT_OPENED

    def status(self) -> Status:
        return self._status

    def poll(self) -> Status:
        """A find-card exchange: card presence and reader health in one round trip."""
        try:
            present = self.card_present()
        except ProtocolError as err:
            if err.code == "sam_fault":
                self._status = Status(State.ERROR, frozenset({Detail.SAM_FAULT}), str(err))
                return self._status
            self._status = Status(State.OFFLINE, frozenset({Detail.PROTOCOL_ERROR}), str(err))
            raise
        except DeviceError as err:
            detail = Detail.NO_RESPONSE if isinstance(err, DeviceTimeout) else Detail.DISCONNECTED
            self._status = Status(State.OFFLINE, frozenset({detail}), str(err))
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
                return SelfTestResult(tuple(steps))
        try:
            present = self.card_present()
            steps.append(SelfTestStep("find_card", True, "card present" if present else "no card"))
        except DeviceError as err:
            steps.append(SelfTestStep("find_card", False, str(err)))
        return SelfTestResult(tuple(steps))

    # -- commands -------------------------------------------------------------------------

    def reset_sam(self) -> None:
        code = bytes.fromhex(self.settings.reset_command)
        self._expect((code[0], code[1]), Outcome.SUCCESS)

    def change_baud(self) -> None:
        """Send the profile's vendor baud command, then follow on our side of the line."""
        if not self.settings.baud_command:
            raise ConfigurationError("this reader's profile names no baud_command")
        code = bytes.fromhex(self.settings.baud_command)
        self._expect((code[0], code[1]), Outcome.SUCCESS)

    def card_present(self) -> bool:
        outcome = self._exchange_retrying(Command.FIND_CARD).outcome
        if outcome is Outcome.FIND_SUCCESS:
            return True
        if outcome is Outcome.NO_CARD:
            return False
        raise _error_for(outcome, "find card")

    def read_card(self) -> RawCard:
        """Find, select and read the card on the reader (text, photo, fingerprint)."""
        if not self.card_present():
            raise MediaError("no card on the reader", code="no_card")
        self._expect(Command.SELECT_CARD, Outcome.SUCCESS)
        fingerprint = self.settings.fingerprint
        command = Command.READ_TEXT_PHOTO_FINGERPRINT if fingerprint else Command.READ_TEXT_PHOTO
        data = self._expect(command, Outcome.SUCCESS).data
        header = 6 if fingerprint else 4
        if len(data) < header:
            raise ProtocolError("read answer shorter than its length fields", code="frame")
        text_len = int.from_bytes(data[0:2], "big")
        photo_len = int.from_bytes(data[2:4], "big")
        finger_len = int.from_bytes(data[4:6], "big") if fingerprint else 0
        if len(data) != header + text_len + photo_len + finger_len:
            raise ProtocolError("read answer length does not match its fields", code="frame")
        text = data[header : header + text_len]
        photo = data[header + text_len : header + text_len + photo_len]
        finger = data[header + text_len + photo_len :]
        return RawCard(text, photo, finger)

    def read_identity(self) -> IdentityDocument:
        """The card on the reader as an ``IdentityDocument``, with its photo where possible."""
        raw = self.read_card()
        document = decode_text(raw.text)
        if self.settings.newest_address and document.address:
            response = self._exchange_retrying(Command.READ_NEWEST_ADDRESS)
            if response.outcome is Outcome.SUCCESS and response.data.strip(b" \x00"):
                address = response.data.decode("utf-16-le", errors="replace").strip(" \x00")
                document = _replace(document, address=address)
        document = _replace(document, raw_photo=raw.photo, fingerprint=raw.fingerprint)
        return self._with_photo(document, raw.photo)

    def _with_photo(self, document: IdentityDocument, photo: bytes) -> IdentityDocument:
        if not photo:
            return document.with_photo(b"", PhotoState.ABSENT, "")
        if self.settings.photo_format != "wlt":
            return document.with_photo(photo, PhotoState.DECODED, self.settings.photo_format)
        if self._decoder is None:
            return document.with_photo(b"", PhotoState.UNDECODED, "wlt")
        try:
            return document.with_photo(self._decoder.decode(photo), PhotoState.DECODED, "bmp")
        except PhotoDecodeError:
            return document.with_photo(b"", PhotoState.FAILED, "wlt")

    # -- wire -----------------------------------------------------------------------------

    def _expect(self, command: Command | tuple[int, int], outcome: Outcome) -> Response:
        response = self._exchange_retrying(command)
        got = response.outcome
        if got is not outcome:
            raise _error_for(got, _name(command))
        return response

    def _exchange_retrying(self, command: Command | tuple[int, int]) -> Response:
        """Exchange; after a garbled, missing or rejected-as-corrupt frame, drain and retry."""
        attempts = 1 + max(0, self.settings.retries)
        for attempt in range(1, attempts + 1):
            try:
                response = self.exchange(command)
                if response.outcome not in RETRYABLE_OUTCOMES:
                    return response
                error: DeviceError = ProtocolError(
                    f"reader reported {response.outcome.name}", code="frame"
                )
            except (ProtocolError, DeviceTimeout) as err:
                if err.code not in RETRYABLE_CODES:
                    raise
                error = err
            if attempt == attempts:
                raise error
            self._drain()
        raise AssertionError("unreachable")

    def _drain(self) -> None:
        port = self._port
        if port is None:
            return
        try:
            time.sleep(0.02)
            port.reset_input_buffer()
        except (serial.SerialException, OSError) as err:
            raise DeviceUnavailable(f"serial port lost: {err}") from err

    def exchange(self, command: Command | tuple[int, int], data: bytes = b"") -> Response:
        port = self._port
        if port is None:
            raise DeviceUnavailable("reader is not open")
        try:
            port.write(encode_command(command, data))
            port.flush()
            return self._read_response(port)
        except (serial.SerialException, OSError) as err:
            raise DeviceUnavailable(f"serial port lost: {err}") from err

    def _read_response(self, port: serial.Serial) -> Response:
        deadline = time.monotonic() + self.settings.timeout_s
        buffer = b""
        corrupt = False  # a whole frame arrived but failed its length or checksum
        while True:
            payload, consumed = split_frame(buffer)
            if payload is not None:
                return parse_response_payload(payload)
            if consumed and buffer.find(PREAMBLE) == consumed - 1:
                corrupt = True
            buffer = buffer[consumed:]
            if time.monotonic() > deadline:
                if corrupt:
                    raise ProtocolError("the answer failed its length or checksum", code="frame")
                what = "a partial answer" if buffer else "no answer"
                raise DeviceTimeout(f"reader gave {what} within {self.settings.timeout_s}s")
            buffer += port.read(max(1, port.in_waiting))


def _error_for(outcome: Outcome, what: str) -> DeviceError:
    message = f"{what}: reader answered {outcome.name} ({outcome.value:02X})"
    if outcome in MEDIA_OUTCOMES:
        return MediaError(message, code=MEDIA_OUTCOMES[outcome])
    if outcome in SAM_FAULTS:
        return ProtocolError(message, code="sam_fault")
    if outcome in RETRYABLE_OUTCOMES:
        return ProtocolError(message, code="frame")
    return ProtocolError(message, code=f"sam_{outcome.name.lower()}")


def _name(command: Command | tuple[int, int]) -> str:
    if isinstance(command, Command):
        return command.name.lower().replace("_", " ")
    return f"command {command[0]:02X} {command[1]:02X}"


def _replace(document: IdentityDocument, **changes: object) -> IdentityDocument:
    from dataclasses import replace

    return replace(document, **changes)  # type: ignore[arg-type]
