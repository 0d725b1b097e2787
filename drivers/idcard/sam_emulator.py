"""A GA 467 SAM reader answering on a pseudo-terminal, for the ``sim`` profile and the tests.

The driver under test opens the pty's slave end through a stable symlink, exactly as it would
open ``/dev/ttyUSB0``; this emulator answers on the master end. ``stop()`` closes the master, so
the driver sees the port vanish (EIO), and ``start()`` brings a new pty behind the same symlink.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from dataclasses import dataclass
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
    """A resident ID card as the reader's text block would carry it."""

    name: str
    sex: str  # GB/T 2261.1 code
    nation: str  # GB 3304 code
    birth: str
    address: str
    number: str
    issuer: str
    valid_from: str
    valid_to: str

    def text_block(self) -> bytes:
        block = (
            _ucs2(self.name, 30)
            + _ucs2(self.sex, 2)
            + _ucs2(self.nation, 4)
            + _ucs2(self.birth, 16)
            + _ucs2(self.address, 70)
            + _ucs2(self.number, 36)
            + _ucs2(self.issuer, 30)
            + _ucs2(self.valid_from, 16)
            + _ucs2(self.valid_to, 16)
            + _ucs2("", 36)
        )
        assert len(block) == 256
        return block


DEMO_CARDS = (
    DemoCard(
        name="张建国",
        sex="1",
        nation="01",
        birth="19491231",
        address="北京市东城区东长安街1号",
        number="11010519491231002X",
        issuer="北京市公安局东城分局",
        valid_from="20150101",
        valid_to="长期",
    ),
)

SAM_ID = bytes.fromhex("0501000000000000000000000000A1B2")


class SamEmulator:
    """Answers the SAM protocol on a pty. Thread-safe controls: place/remove a card, stop/start."""

    def __init__(self, link: Path, cards: tuple[DemoCard, ...] = DEMO_CARDS) -> None:
        self.link = link
        self.cards = cards
        self.card: DemoCard | None = cards[0] if cards else None
        self.received: list[tuple[int, int]] = []
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
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
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

    # -- protocol -------------------------------------------------------------------------

    def _serve(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                return
            buffer += chunk
            while True:
                payload, consumed = split_frame(buffer)
                buffer = buffer[consumed:]
                if payload is None:
                    break
                frame = parse_host_payload(payload)
                self.received.append((frame.cmd, frame.para))
                answer = self._answer(frame.cmd, frame.para)
                try:
                    os.write(self._master, answer)
                except OSError:
                    return

    def _answer(self, cmd: int, para: int) -> bytes:
        with self._lock:
            card = self.card
        key = (cmd, para)
        if key in (Command.RESET_SAM.value, Command.SAM_STATUS.value, (0x01, 0xFF)):
            return encode_response(Outcome.SUCCESS.value)
        if key == Command.SAM_ID.value:
            return encode_response(Outcome.SUCCESS.value, SAM_ID)
        if key == Command.FIND_CARD.value:
            if card is None:
                return encode_response(Outcome.NO_CARD.value)
            return encode_response(Outcome.FIND_SUCCESS.value, bytes(4))
        if key == Command.SELECT_CARD.value:
            if card is None:
                return encode_response(Outcome.SELECT_FAILED.value)
            return encode_response(Outcome.SUCCESS.value, bytes(8))
        if key in (Command.READ_TEXT_PHOTO.value, Command.READ_TEXT_PHOTO_FINGERPRINT.value):
            if card is None:
                return encode_response(Outcome.READ_FAILED.value)
            text, photo = card.text_block(), bytes(1024)
            if key == Command.READ_TEXT_PHOTO.value:
                header = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
                return encode_response(Outcome.SUCCESS.value, header + text + photo)
            finger = bytes(1024)
            header = b"".join(len(x).to_bytes(2, "big") for x in (text, photo, finger))
            return encode_response(Outcome.SUCCESS.value, header + text + photo + finger)
        return encode_response(Outcome.BAD_COMMAND.value)
