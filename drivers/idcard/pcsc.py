"""PC/SC smart-card readers (pyscard, the ``pcsc`` extra), for ICAO 9303 travel documents.

The reader side finds the configured reader through pcscd on every poll with a fresh context,
so when pcscd restarts (pyscard's own monitor would die with it) the next poll simply fails
and a later one succeeds: the device manager's supervision does the rest. The chip side runs
Basic Access Control from the MRZ (typed on the screen or read by the document camera), then
reads DG1 (the MRZ, decoded into an ``IdentityDocument``) and DG2 (the face, JPEG or JPEG 2000)
under secure messaging.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from drivers.base import (
    NOT_OPENED,
    Detail,
    IdCardCapabilities,
    Role,
    SelfTestResult,
    SelfTestStep,
    State,
    Status,
    unavailable_detail,
)
from drivers.errors import (
    ConfigurationError,
    DeviceUnavailable,
    MediaError,
    ProtocolError,
    ServiceUnavailable,
)
from drivers.idcard import icao
from drivers.idcard.identity import CardType, IdentityDocument, PhotoState

CHUNK = 0xA0  # READ BINARY size under secure messaging
JPEG, JP2_BOX, JP2_CODESTREAM = b"\xff\xd8\xff", b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51"


@dataclass(frozen=True)
class PcscSettings:
    """Profile keys of a ``pcsc`` reader. ``reader`` is a name prefix; "" takes the first."""

    reader: str = ""
    card_poll_s: float = 0.5  # the supervisor's pace: how soon a passport laid down is seen


@dataclass(frozen=True)
class MrzKey:
    """What BAC needs from the MRZ: document number, birth and expiry dates (YYMMDD)."""

    document_number: str
    birth: str
    expiry: str


def _pyscard() -> Any:
    try:
        import smartcard.Exceptions
        import smartcard.pcsc.PCSCExceptions
        import smartcard.System

        return smartcard
    except ImportError as err:
        raise ConfigurationError("pyscard is not installed (the 'pcsc' extra)") from err


def _stack_errors(smartcard: Any) -> tuple[type[Exception], ...]:
    """pyscard's errors for a pcscd that is gone (two unrelated exception hierarchies)."""
    return (
        smartcard.Exceptions.SmartcardException,
        smartcard.pcsc.PCSCExceptions.BaseSCardException,
    )


def list_readers() -> list[str]:
    smartcard = _pyscard()
    try:
        return [str(r) for r in smartcard.System.readers()]
    except _stack_errors(smartcard) as err:
        raise ServiceUnavailable("pcscd", f"pcscd is not reachable: {err}") from err


class PcscReader:
    role = Role.IDCARD
    settings_type = PcscSettings

    def __init__(self, settings: PcscSettings) -> None:
        self.settings = settings
        self.poll_interval_s = settings.card_poll_s
        self._reader = ""
        self._status = NOT_OPENED

    @property
    def capabilities(self) -> IdCardCapabilities:
        return IdCardCapabilities(
            model=f"PC/SC {self._reader}".strip(), card_types=frozenset({"passport"}), photo=True
        )

    def open(self) -> None:
        self.close()
        self._reader = self._find()
        self._status = Status(State.READY)

    def close(self) -> None:
        self._reader = ""
        self._status = NOT_OPENED

    def status(self) -> Status:
        return self._status

    def poll(self) -> Status:
        try:
            self._reader = self._find()
            present = self.card_present()
        except DeviceUnavailable as err:
            self._status = Status(State.OFFLINE, frozenset({unavailable_detail(err)}), str(err))
            raise
        detail = Detail.CARD_PRESENT if present else Detail.NO_CARD
        self._status = Status(State.READY, frozenset({detail}))
        return self._status

    def self_test(self) -> SelfTestResult:
        try:
            name = self._find()
        except DeviceUnavailable as err:
            return SelfTestResult((SelfTestStep("reader", False, str(err)),))
        return SelfTestResult((SelfTestStep("reader", True, name),))

    def card_present(self) -> bool:
        smartcard = _pyscard()
        connection = self._reader_object().createConnection()
        try:
            connection.connect()
        except smartcard.Exceptions.NoCardException:
            return False
        except smartcard.Exceptions.CardConnectionException as err:
            if "pcscd" in str(err).lower() or "service" in str(err).lower():
                raise ServiceUnavailable("pcscd", f"pcscd is not reachable: {err}") from err
            return False
        finally:
            _release(connection, smartcard)
        return True

    # -- the passport ---------------------------------------------------------------------

    def read_passport(self, key: MrzKey) -> IdentityDocument:
        """BAC with ``key``, then DG1 and DG2 under secure messaging."""
        smartcard = _pyscard()
        connection = self._reader_object().createConnection()
        try:
            connection.connect()
        except smartcard.Exceptions.NoCardException as err:
            raise MediaError("no document on the reader", code="no_card") from err
        except smartcard.Exceptions.CardConnectionException as err:
            raise MediaError(f"cannot talk to the document: {err}", code="no_card") from err
        try:
            session = _ChipSession(connection)
            session.select_application()
            session.basic_access_control(key)
            dg1 = session.read_file(icao.EF_DG1)
            dg2 = session.read_file(icao.EF_DG2)
        except smartcard.Exceptions.CardConnectionException as err:
            raise MediaError(f"the document left the reader: {err}", code="card_removed") from err
        finally:
            _release(connection, smartcard)
        return passport_document(dg1, dg2)

    def _reader_object(self) -> Any:
        smartcard = _pyscard()
        try:
            readers = smartcard.System.readers()
        except _stack_errors(smartcard) as err:
            raise ServiceUnavailable("pcscd", f"pcscd is not reachable: {err}") from err
        for reader in readers:
            if str(reader).startswith(self.settings.reader):
                return reader
        raise DeviceUnavailable(f"reader {self.settings.reader!r} not found")

    def _find(self) -> str:
        names = list_readers()
        for name in names:
            if name.startswith(self.settings.reader):
                return name
        wanted = self.settings.reader or "any reader"
        raise DeviceUnavailable(f"{wanted!r} not found among {names}")


def _release(connection: Any, smartcard: Any) -> None:
    """Give the card handle and its context back now, not in pyscard's ``__del__`` (which
    raises into the void once pcscd is gone)."""
    errors: tuple[type[BaseException], ...] = (*_stack_errors(smartcard), AttributeError)
    for step in (connection.disconnect, connection.release):
        try:
            step()
        except errors:
            pass


class _ChipSession:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.keys: icao.SessionKeys | None = None

    def transmit(self, apdu: bytes) -> tuple[bytes, bytes]:
        data, sw1, sw2 = self.connection.transmit(list(apdu))
        return bytes(data), bytes([sw1, sw2])

    def select_application(self) -> None:
        _, sw = self.transmit(b"\x00\xa4\x04\x0c" + bytes([len(icao.AID)]) + icao.AID)
        if sw != b"\x90\x00":
            raise MediaError(f"not an ICAO travel document ({sw.hex()})", code="unknown_card")

    def basic_access_control(self, key: MrzKey) -> None:
        mrz = icao.mrz_information(key.document_number, key.birth, key.expiry)
        seed = icao.seed_from_mrz(mrz)
        k_enc, k_mac = icao.derive_key(seed, 1), icao.derive_key(seed, 2)
        rnd_icc, sw = self.transmit(b"\x00\x84\x00\x00\x08")
        if sw != b"\x90\x00" or len(rnd_icc) != 8:
            raise ProtocolError(f"GET CHALLENGE failed ({sw.hex()})", code="bac")
        rnd_ifd, k_ifd = os.urandom(8), os.urandom(16)
        cryptogram = icao.encrypt(k_enc, rnd_ifd + rnd_icc + k_ifd)
        data = cryptogram + icao.retail_mac(k_mac, icao.pad(cryptogram))
        answer, sw = self.transmit(b"\x00\x82\x00\x00\x28" + data + b"\x28")
        if sw != b"\x90\x00" or len(answer) != 40:
            raise MediaError(
                "the MRZ does not open this document: check the data typed or scanned",
                code="bac_failed",
            )
        if icao.retail_mac(k_mac, icao.pad(answer[:32])) != answer[32:]:
            raise ProtocolError("the chip's answer to BAC does not verify", code="bac")
        plain = icao.decrypt(k_enc, answer[:32])
        if plain[:8] != rnd_icc or plain[8:16] != rnd_ifd:
            raise ProtocolError("the chip's answer to BAC is not ours", code="bac")
        self.keys = icao.session_keys(k_ifd, plain[16:], rnd_icc, rnd_ifd)

    def _secure(self, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        assert self.keys is not None
        response, sw = self.transmit(icao.protect(self.keys, 0x00, ins, p1, p2, data, le))
        body, status = icao.unprotect(self.keys, response + sw)
        if status != b"\x90\x00":
            raise ProtocolError(f"the chip refused ({status.hex()})", code="chip_status")
        return body

    def read_file(self, fid: bytes) -> bytes:
        self._secure(0xA4, 0x02, 0x0C, fid, None)
        head = self._secure(0xB0, 0, 0, b"", 8)
        length = icao.total_length(head)
        content = head
        while len(content) < length:
            offset = len(content)
            size = min(CHUNK, length - offset)
            chunk = self._secure(0xB0, offset >> 8, offset & 0xFF, b"", size)
            if not chunk:
                raise ProtocolError("the chip returned no data", code="chip_status")
            content += chunk
        return content[:length]


def _mrz_date(value: str, future: bool) -> dt.date | None:
    try:
        year, month, day = int(value[0:2]), int(value[2:4]), int(value[4:6])
    except ValueError:
        return None
    this_year = dt.date.today().year % 100
    century = 2000 if (year <= this_year + (20 if future else 0)) else 1900
    try:
        return dt.date(century + year, month, day)
    except ValueError:
        return None


def passport_document(dg1: bytes, dg2: bytes) -> IdentityDocument:
    """DG1 (TD3 MRZ) and DG2 (face) as an ``IdentityDocument``."""
    try:
        _, outer, _ = icao.read_tlv(dg1)
        mrz = icao.tlv_items(outer)[b"\x5f\x1f"].decode("ascii")
    except (KeyError, UnicodeDecodeError, icao.SecureMessagingError) as err:
        raise ProtocolError("DG1 does not hold an MRZ", code="dg1") from err
    if len(mrz) != 88:
        raise ProtocolError(f"MRZ of {len(mrz)} characters is not TD3", code="dg1")
    line1, line2 = mrz[:44], mrz[44:]
    names = line1[5:].split("<<", 1)
    surname = names[0].replace("<", " ").strip()
    given = names[1].replace("<", " ").strip() if len(names) > 1 else ""
    number = line2[0:9].rstrip("<")
    if icao.check_digit(line2[0:9]) != line2[9]:
        raise ProtocolError("MRZ document number fails its check digit", code="dg1")
    photo = _face_image(dg2)
    sex = {"M": "male", "F": "female"}.get(line2[20], "unspecified")
    return IdentityDocument(
        card_type=CardType.PASSPORT,
        name=f"{surname} {given}".strip(),
        english_name=f"{surname}, {given}".strip(", "),
        sex=sex,
        birth_date=_mrz_date(line2[13:19], future=False),
        number=number,
        nationality=line2[10:13].replace("<", ""),
        issuer=line1[2:5].replace("<", ""),
        valid_to=_mrz_date(line2[21:27], future=True),
        photo=photo,
        photo_state=PhotoState.DECODED if photo else PhotoState.ABSENT,
        photo_format=("jpeg" if photo.startswith(JPEG) else "jp2") if photo else "",
    )


def _face_image(dg2: bytes) -> bytes:
    for magic in (JPEG, JP2_BOX, JP2_CODESTREAM):
        at = dg2.find(magic)
        if at >= 0:
            return dg2[at:]
    return b""
