"""GA 467 SAM reader frames: encoding, decoding and the status-word table.

Host → reader: ``AA AA AA 96 69 · LEN(2, BE) · CMD · PARA · data · CHK``.
Reader → host: ``AA AA AA 96 69 · LEN(2, BE) · SW1 SW2 SW3 · data · CHK``.
``LEN`` counts everything after itself; ``CHK`` is the XOR of the LEN bytes and everything up to
the last data byte. The preamble may occur inside data (photo bytes), so a frame is cut by its
length, and the preamble is searched again only after a frame fails its length or checksum.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import reduce

from drivers.errors import ProtocolError

PREAMBLE = bytes.fromhex("AAAAAA9669")
MAX_LEN = 0x1000  # the longest answer (text+photo+fingerprint) is 0x0910; more is noise


class Command(Enum):
    """(CMD, PARA) pairs. Vendors differ on reset and baud; profiles may override those."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)
    READ_NEWEST_ADDRESS = (0x30, 0x03)


class Outcome(Enum):
    """Every SW3 the protocol defines, as a typed outcome."""

    SUCCESS = 0x90
    ITEM_ABSENT = 0x91
    FIND_SUCCESS = 0x9F
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    BAD_COMMAND = 0x21
    UNAUTHORISED_OPERATION = 0x23
    UNKNOWN_ERROR = 0x24
    AUTH_FAILED_1 = 0x31
    AUTH_FAILED_2 = 0x32
    DATA_VERIFICATION_ERROR = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CARD = 0x80
    SELECT_FAILED = 0x81


def checksum(data: bytes) -> int:
    return reduce(lambda acc, b: acc ^ b, data, 0)


def encode_command(command: Command | tuple[int, int], data: bytes = b"") -> bytes:
    cmd, para = command.value if isinstance(command, Command) else command
    body = bytes([cmd, para]) + data
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([checksum(length + body)])


def encode_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    body = bytes([sw1, sw2, sw3]) + data
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([checksum(length + body)])


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def outcome(self) -> Outcome:
        if (self.sw1, self.sw2) != (0, 0):
            raise ProtocolError(
                f"unexpected status {self.sw1:02X} {self.sw2:02X} {self.sw3:02X}",
                code="sam_status",
            )
        try:
            return Outcome(self.sw3)
        except ValueError:
            raise ProtocolError(f"unknown status code {self.sw3:02X}", code="sam_status") from None


@dataclass(frozen=True)
class HostFrame:
    cmd: int
    para: int
    data: bytes


def split_frame(buffer: bytes) -> tuple[bytes | None, int]:
    """Find one complete, valid frame in ``buffer``.

    Returns ``(payload, consumed)`` where payload is the bytes between LEN and CHK (exclusive),
    or ``(None, consumed)`` when more bytes are needed (``consumed`` is what can be dropped:
    noise before a preamble, or a frame that failed its length or checksum).
    """
    start = buffer.find(PREAMBLE)
    if start < 0:
        # keep a possible partial preamble at the end
        keep = next(
            (k for k in range(len(PREAMBLE) - 1, 0, -1) if buffer.endswith(PREAMBLE[:k])), 0
        )
        return None, len(buffer) - keep
    header_end = start + len(PREAMBLE) + 2
    if len(buffer) < header_end:
        return None, start
    length = int.from_bytes(buffer[start + len(PREAMBLE) : header_end], "big")
    if length < 2 or length > MAX_LEN:
        return None, start + 1  # not a frame: resynchronise after this preamble byte
    end = header_end + length
    if len(buffer) < end:
        return None, start
    length_bytes = buffer[start + len(PREAMBLE) : header_end]
    payload = buffer[header_end : end - 1]
    if checksum(length_bytes + payload) != buffer[end - 1]:
        return None, start + 1
    return payload, end


def parse_response_payload(payload: bytes) -> Response:
    if len(payload) < 3:
        raise ProtocolError("response shorter than its status words", code="frame_length")
    return Response(payload[0], payload[1], payload[2], bytes(payload[3:]))


def parse_host_payload(payload: bytes) -> HostFrame:
    if len(payload) < 2:
        raise ProtocolError("command shorter than CMD PARA", code="frame_length")
    return HostFrame(payload[0], payload[1], bytes(payload[2:]))
