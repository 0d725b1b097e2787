"""An ICAO 9303 passport chip with BAC and secure messaging, behind pcscd's vpcd driver.

It connects to vpcd (TCP 35963, frames of a 2-byte length and a payload) as the virtual card,
so the PC/SC driver under test talks to it through the real pcscd and pyscard. It can be
inserted and removed, and pulled out in the middle of a read.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field

from drivers.idcard import icao
from drivers.idcard.demo_photo import demo_face_jpeg

VPCD_PORT = 35963
ATR = bytes.fromhex("3B8880014241434B4552530000")
SW_OK, SW_SECURITY, SW_NOT_FOUND = b"\x90\x00", b"\x69\x82", b"\x6a\x82"
SW_SM_MISSING, SW_WRONG, SW_INS = b"\x69\x88", b"\x63\x00", b"\x6d\x00"


@dataclass(frozen=True)
class DemoPassport:
    surname: str
    given: str
    number: str
    nationality: str
    birth: str  # YYMMDD
    sex: str
    expiry: str  # YYMMDD
    issuer: str = "CHN"

    def mrz(self) -> str:
        c = icao.check_digit
        line1 = f"P<{self.issuer}{self.surname}<<{self.given.replace(' ', '<')}".ljust(44, "<")
        number = self.number.ljust(9, "<")
        optional = "<" * 14
        composite = (
            number
            + c(number)
            + self.birth
            + c(self.birth)
            + self.expiry
            + c(self.expiry)
            + optional
            + c(optional)
        )
        line2 = (
            number
            + c(number)
            + self.nationality
            + self.birth
            + c(self.birth)
            + self.sex
            + self.expiry
            + c(self.expiry)
            + optional
            + c(optional)
            + c(composite)
        )
        return line1[:44] + line2

    def files(self) -> dict[bytes, bytes]:
        dg1 = icao.tlv(b"\x61", icao.tlv(b"\x5f\x1f", self.mrz().encode()))
        record = b"FAC\x00010\x00" + bytes(38) + demo_face_jpeg(self.number)
        dg2 = icao.tlv(
            b"\x75",
            icao.tlv(
                b"\x7f\x61",
                icao.tlv(b"\x02", b"\x01")
                + icao.tlv(
                    b"\x7f\x60",
                    icao.tlv(b"\xa1", b"\x80\x02\x01\x01") + icao.tlv(b"\x5f\x2e", record),
                ),
            ),
        )
        com = icao.tlv(b"\x60", icao.tlv(b"\x5f\x01", b"0107") + icao.tlv(b"\x5c", b"\x61\x75"))
        return {icao.EF_COM: com, icao.EF_DG1: dg1, icao.EF_DG2: dg2}


DEMO_PASSPORT = DemoPassport("ZHANG", "WEI", "EA1234567", "CHN", "900101", "M", "300101")


@dataclass
class _Session:
    keys: icao.SessionKeys | None = None
    rnd_icc: bytes = b""
    selected: bytes = b""
    reads: int = 0
    files: dict[bytes, bytes] = field(default_factory=dict)


class PassportEmulator:
    def __init__(
        self, passport: DemoPassport = DEMO_PASSPORT, host: str = "127.0.0.1", port: int = VPCD_PORT
    ) -> None:
        self.passport = passport
        self.host, self.port = host, port
        self.pull_after_reads = 0  # >0: the card leaves the field after this many reads
        self.commands: list[bytes] = []
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._session = _Session()
        self.served = threading.Event()  # vpcd has spoken to this chip since it was put down
        mrz = icao.mrz_information(passport.number, passport.birth, passport.expiry)
        seed = icao.seed_from_mrz(mrz)
        self._k_enc, self._k_mac = icao.derive_key(seed, 1), icao.derive_key(seed, 2)

    def insert(self, wait_s: float = 10.0) -> None:
        """Puts the chip on the reader. pcscd lists the virtual reader a moment before vpcd
        accepts connections on its port, so a refused connection is tried again for a while."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=5)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        self._socket = sock
        self._session = _Session(files=self.passport.files())
        self.served.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), daemon=True, name="passport-emulator"
        )
        self._thread.start()

    def remove(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    # -- vpcd framing ---------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                header = _recv(sock, 2)
                payload = _recv(sock, int.from_bytes(header, "big"))
                self.served.set()
                answer = self._control(payload[0]) if len(payload) == 1 else self._apdu(payload)
                if answer is not None:
                    sock.sendall(len(answer).to_bytes(2, "big") + answer)
                if self.pull_after_reads and self._session.reads >= self.pull_after_reads:
                    self.pull_after_reads = 0
                    threading.Thread(target=self.remove, daemon=True).start()
                    return
        except (OSError, EOFError):
            return

    def _control(self, code: int) -> bytes | None:
        if code in (0, 1, 2):  # off, on, reset: a fresh chip state
            self._session = _Session(files=self.passport.files())
            return None
        if code == 4:
            return ATR
        return None

    # -- the chip -------------------------------------------------------------------------

    def _apdu(self, apdu: bytes) -> bytes:
        self.commands.append(apdu[:4])
        cla, ins, p1, _p2 = apdu[:4]
        session = self._session
        if cla & 0x0C == 0x0C:
            return self._secure(apdu)
        if session.keys is not None and ins not in (0xA4,):
            session.keys = None  # a plain command ends secure messaging
            return SW_SM_MISSING
        if ins == 0xA4 and p1 == 0x04:
            return SW_OK if apdu[5 : 5 + apdu[4]] == icao.AID else SW_NOT_FOUND
        if ins == 0x84:
            session.rnd_icc = os.urandom(8)
            return session.rnd_icc + SW_OK
        if ins == 0x82:
            return self._external_authenticate(apdu[5 : 5 + apdu[4]])
        if ins in (0xA4, 0xB0):
            return SW_SECURITY  # files need BAC
        return SW_INS

    def _external_authenticate(self, data: bytes) -> bytes:
        session = self._session
        if len(data) != 40 or not session.rnd_icc:
            return SW_WRONG
        cryptogram, mac = data[:32], data[32:]
        if icao.retail_mac(self._k_mac, icao.pad(cryptogram)) != mac:
            return SW_WRONG
        plain = icao.decrypt(self._k_enc, cryptogram)
        rnd_ifd, rnd_icc, k_ifd = plain[:8], plain[8:16], plain[16:]
        if rnd_icc != session.rnd_icc:
            return SW_WRONG
        k_icc = os.urandom(16)
        answer = icao.encrypt(self._k_enc, rnd_icc + rnd_ifd + k_icc)
        answer += icao.retail_mac(self._k_mac, icao.pad(answer))
        session.keys = icao.session_keys(k_ifd, k_icc, rnd_icc, rnd_ifd)
        return answer + SW_OK

    def _secure(self, apdu: bytes) -> bytes:
        session = self._session
        keys = session.keys
        if keys is None:
            return SW_SM_MISSING
        header, body = apdu[:4], apdu[5 : 5 + apdu[4]]
        keys.ssc = icao.increment(keys.ssc)
        try:
            items = icao.tlv_items(body)
        except icao.SecureMessagingError:
            session.keys = None
            return SW_SM_MISSING
        covered = b"".join(icao.tlv(t, v) for t, v in items.items() if t in (b"\x87", b"\x97"))
        if (
            b"\x8e" not in items
            or icao.retail_mac(keys.mac, icao.pad(keys.ssc + icao.pad(header) + covered))
            != items[b"\x8e"]
        ):
            session.keys = None
            return SW_SM_MISSING
        data = icao.unpad(icao.decrypt(keys.enc, items[b"\x87"][1:])) if b"\x87" in items else b""
        le = items.get(b"\x97", b"\x00")[0] or 256
        ins, p1, p2 = header[1], header[2], header[3]
        out, sw = b"", SW_OK
        if ins == 0xA4:
            if data in session.files:
                session.selected = data
            else:
                sw = SW_NOT_FOUND
        elif ins == 0xB0:
            content = session.files.get(session.selected)
            offset = (p1 << 8) | p2
            if content is None:
                sw = SW_SECURITY
            else:
                out = content[offset : offset + le]
                session.reads += 1
        else:
            sw = SW_INS
        keys.ssc = icao.increment(keys.ssc)
        reply = b""
        if out:
            reply += icao.tlv(b"\x87", b"\x01" + icao.encrypt(keys.enc, icao.pad(out)))
        reply += icao.tlv(b"\x99", sw)
        reply += icao.tlv(b"\x8e", icao.retail_mac(keys.mac, icao.pad(keys.ssc + reply)))
        return reply + sw


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        # answer at once: a delayed ACK would stall every APDU by ~40 ms
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data
