"""A GA 467 SAM reader answering on a pseudo-terminal, for the ``sim`` profile and the tests.

The driver under test opens the pty's slave end through a stable symlink, exactly as it would
open ``/dev/ttyUSB0``; this emulator answers on the master end. It holds a deck of demo cards
(people the sandbox registry also knows), can place and remove a card, inject faults, and
throttle its answers to a baud rate so that wire time is real. ``stop()`` closes the master, so
the driver sees the port vanish, and ``start()`` brings a new pty behind the same symlink.
"""

from __future__ import annotations

import hashlib
import os
import select
import threading
import time
import tty
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from drivers.idcard.sam_protocol import (
    Command,
    Outcome,
    encode_response,
    parse_host_payload,
    split_frame,
)


def _ucs2(text: str, size: int) -> bytes:
    raw = text.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"{text!r} does not fit in {size} bytes")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


@dataclass(frozen=True)
class DemoCard:
    """A card as the reader's text block carries it. ``marker``: "", "J", "I" or "Y"."""

    name: str
    sex: str  # GB/T 2261.1 code
    birth: str  # YYYYMMDD
    number: str
    valid_from: str
    valid_to: str  # YYYYMMDD or 长期
    nation: str = ""
    address: str = ""
    issuer: str = ""
    marker: str = ""
    english_name: str = ""
    nationality: str = ""
    pass_number: str = ""
    issue_count: str = ""

    def text_block(self) -> bytes:
        if self.marker == "I":
            block = (
                _ucs2(self.english_name, 120)
                + _ucs2(self.sex, 2)
                + _ucs2(self.number, 30)
                + _ucs2(self.nationality, 6)
                + _ucs2(self.name, 30)
                + _ucs2(self.valid_from, 16)
                + _ucs2(self.valid_to, 16)
                + _ucs2(self.birth, 16)
                + _ucs2(self.issue_count, 4)
                + _ucs2(self.issuer, 8)
                + _ucs2("I", 2)
                + _ucs2("", 6)
            )
        elif self.marker == "Y":
            first, second = self.english_name[:35], self.english_name[35:]
            block = (
                _ucs2(self.name, 30)
                + _ucs2(self.sex, 2)
                + _ucs2(self.issue_count, 4)
                + _ucs2(self.birth, 16)
                + _ucs2(first, 70)
                + _ucs2(self.number, 36)
                + _ucs2("", 30)
                + _ucs2(self.valid_from, 16)
                + _ucs2(self.valid_to, 16)
                + _ucs2(second, 22)
                + _ucs2(self.nationality, 6)
                + _ucs2("Y", 2)
                + _ucs2("", 6)
            )
        else:
            head = (
                _ucs2(self.name, 30)
                + _ucs2(self.sex, 2)
                + _ucs2(self.nation, 4)
                + _ucs2(self.birth, 16)
                + _ucs2(self.address, 70)
                + _ucs2(self.number, 36)
                + _ucs2(self.issuer, 30)
                + _ucs2(self.valid_from, 16)
                + _ucs2(self.valid_to, 16)
            )
            if self.marker == "J":
                tail = (
                    _ucs2(self.pass_number, 18)
                    + _ucs2(self.issue_count, 4)
                    + _ucs2("", 6)
                    + _ucs2("J", 2)
                    + _ucs2("", 6)
                )
            else:
                tail = _ucs2("", 36)
            block = head + tail
        assert len(block) == 256, (self.name, len(block))
        return block

    def photo(self) -> bytes:
        """1024 bytes standing in for the card's WLT photo (stable per card)."""
        seed = hashlib.sha256(self.number.encode()).digest()
        return (seed * 32)[:1024]


DEMO_CARDS = (
    DemoCard(
        "张建国",
        "1",
        "19491231",
        "11010519491231002X",
        "20150101",
        "长期",
        nation="01",
        address="北京市东城区东长安街1号",
        issuer="北京市公安局东城分局",
    ),
    DemoCard(
        "李娜",
        "2",
        "19880615",
        "320102198806151246",
        "20160720",
        "20360720",
        nation="01",
        address="江苏省南京市玄武区中山路18号",
        issuer="南京市公安局玄武分局",
    ),
    DemoCard(
        "陈家明",
        "1",
        "19900101",
        "810000199001010019",
        "20190301",
        "20290301",
        address="香港特别行政区九龙弥敦道100号",
        issuer="深圳市公安局",
        marker="J",
        pass_number="H12345678",
        issue_count="01",
    ),
    DemoCard(
        "约翰",
        "1",
        "19800101",
        "USA310080101238",
        "20170601",
        "20270601",
        marker="I",
        english_name="SMITH, JOHN",
        nationality="USA",
        issuer="3100",
        issue_count="17",
    ),
    DemoCard(
        "玛丽",
        "2",
        "19850101",
        "932682198501010017",
        "20230901",
        "20330901",
        marker="Y",
        english_name="MARTIN, MARIE CLAIRE",
        nationality="FRA",
        issue_count="00",
    ),
    DemoCard(
        "王芳",
        "2",
        "19750308",
        "370102197503082268",
        "20100308",
        "20200308",
        nation="01",
        address="山东省济南市历下区泉城路5号",
        issuer="济南市公安局历下分局",
    ),
)
SAM_ID = bytes.fromhex("0501000000000000000000000000A1B2")


class Fault(Enum):
    NO_CARD = "no_card"  # find card fails although a card lies there
    READ_ERROR = "read_error"  # read answers 41
    SAM_FAULT = "sam_fault"  # SAM status answers 60
    BAD_CHECKSUM = "bad_checksum"  # the answer's checksum is wrong
    TRUNCATED = "truncated"  # half an answer, then nothing
    GARBAGE = "garbage"  # noise bytes before the answer
    SILENCE = "silence"  # no answer at all


class SamEmulator:
    """Answers the SAM protocol on a pty. Thread-safe controls: place/remove a card, faults."""

    def __init__(
        self,
        link: Path,
        cards: tuple[DemoCard, ...] = DEMO_CARDS,
        *,
        baud: int = 0,
        card_time_s: float = 0.0,
        photo: str = "wlt",
    ) -> None:
        self.link = link
        self.cards = cards
        self.card: DemoCard | None = cards[0] if cards else None
        self.baud = baud  # 0: answer at once; else hold each answer for its wire time
        self.card_time_s = card_time_s  # time a real reader spends on the card per read
        self.photo = photo  # "wlt" (1024 card bytes) or "jpeg" (a reader that decodes)
        self.received: list[tuple[int, int]] = []
        self.bytes_exchanged = 0  # both directions, for wire-time benchmarks
        self._faults: list[Fault] = []
        self._master = -1
        self._slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> dict[str, object]:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        tmp = self.link.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="sam-emulator", daemon=True)
        self._thread.start()
        return {"port": str(self.link)}

    def stop(self) -> None:
        """Unplugged: the link goes with the pty. Left behind, it named a /dev/pts number the
        system hands to the next pty opened, often another emulator's: a reader "unplugged"
        here could be reopened there and answer (seen once as a reader that passed its self-test
        half a second after it was stopped)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def place_card(self, card: DemoCard | None = None) -> None:
        with self._lock:
            self.card = card or self.cards[0]

    def remove_card(self) -> None:
        with self._lock:
            self.card = None

    def inject(self, fault: Fault, times: int = 1) -> None:
        """The next ``times`` answers that the fault applies to are spoiled."""
        with self._lock:
            self._faults.extend([fault] * times)

    # -- protocol -------------------------------------------------------------------------

    def _take(self, *faults: Fault) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault in faults:
                    self._faults.remove(fault)
                    return fault
        return None

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                buffer += os.read(self._master, 4096)
            except OSError:
                return
            while True:
                payload, consumed = split_frame(buffer)
                buffer = buffer[consumed:]
                if payload is None:
                    break
                frame = parse_host_payload(payload)
                self.received.append((frame.cmd, frame.para))
                self.bytes_exchanged += consumed
                if self.baud:
                    time.sleep(consumed * 10 / self.baud)  # the command's own wire time
                answer = self._spoil(self._answer(frame.cmd, frame.para))
                if answer and not self._send(answer):
                    return

    def _spoil(self, answer: bytes) -> bytes:
        fault = self._take(Fault.BAD_CHECKSUM, Fault.TRUNCATED, Fault.GARBAGE, Fault.SILENCE)
        if fault is Fault.BAD_CHECKSUM:
            return answer[:-1] + bytes([answer[-1] ^ 0xFF])
        if fault is Fault.TRUNCATED:
            return answer[: len(answer) // 2]
        if fault is Fault.GARBAGE:
            return b"\x00\x17\xaa\x96" + answer
        if fault is Fault.SILENCE:
            return b""
        return answer

    def _send(self, answer: bytes) -> bool:
        self.bytes_exchanged += len(answer)
        if self.baud:
            time.sleep(len(answer) * 10 / self.baud)  # 8N1: ten bits a byte
        try:
            os.write(self._master, answer)
        except OSError:
            return False
        return True

    def _answer(self, cmd: int, para: int) -> bytes:
        with self._lock:
            card = self.card
        key = (cmd, para)
        ok = Outcome.SUCCESS.value
        if key == Command.SAM_STATUS.value and self._take(Fault.SAM_FAULT):
            return encode_response(Outcome.SAM_SELF_TEST_FAILED.value)
        if key in (Command.RESET_SAM.value, Command.SAM_STATUS.value, (0x01, 0xFF)):
            return encode_response(ok)
        if key == Command.SAM_ID.value:
            return encode_response(ok, SAM_ID)
        if cmd == 0x60:  # baud change: vendor-specific values, acknowledged
            return encode_response(ok)
        if key == Command.FIND_CARD.value:
            if card is None or self._take(Fault.NO_CARD):
                return encode_response(Outcome.NO_CARD.value)
            return encode_response(Outcome.FIND_SUCCESS.value, bytes(4))
        if key == Command.SELECT_CARD.value:
            if card is None:
                return encode_response(Outcome.SELECT_FAILED.value)
            return encode_response(ok, bytes(8))
        if key in (Command.READ_TEXT_PHOTO.value, Command.READ_TEXT_PHOTO_FINGERPRINT.value):
            if card is None or self._take(Fault.READ_ERROR):
                return encode_response(Outcome.READ_FAILED.value)
            time.sleep(self.card_time_s)
            text, photo = card.text_block(), self._photo(card)
            parts = [text, photo]
            if key == Command.READ_TEXT_PHOTO_FINGERPRINT.value:
                parts.append(bytes(1024))
            header = b"".join(len(p).to_bytes(2, "big") for p in parts)
            return encode_response(ok, header + b"".join(parts))
        if key == Command.READ_NEWEST_ADDRESS.value:
            if card is None:
                return encode_response(Outcome.READ_FAILED.value)
            if card.marker:
                return encode_response(Outcome.ITEM_ABSENT.value)
            return encode_response(ok, _ucs2(card.address, 70))
        return encode_response(Outcome.BAD_COMMAND.value)

    def _photo(self, card: DemoCard) -> bytes:
        if self.photo == "jpeg":
            from drivers.idcard.demo_photo import demo_face_jpeg

            return demo_face_jpeg(card.number)
        return card.photo()
