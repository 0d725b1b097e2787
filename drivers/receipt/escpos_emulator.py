"""An ESC/POS printer listening on loopback: answers real-time status and keeps what it prints.

Conditions (paper low/out, cover open, offline, cutter error) are set by the test or the demo.
``stop()`` closes the listener and every connection, like a printer switched off; ``start()``
listens again on the same port, so the driver's reconnect finds it.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import tty
from dataclasses import dataclass
from pathlib import Path

from drivers.receipt import escpos_status as st
from drivers.receipt.escpos_decoder import Receipt, decode

GS_R = b"\x1dr"


@dataclass
class PrinterConditions:
    paper_low: bool = False
    paper_out: bool = False
    cover_open: bool = False
    offline: bool = False
    cutter_error: bool = False
    garbage_status: bool = False  # fault injection: answer status requests with a non-status byte


def status_answer(conditions: PrinterConditions, request: int) -> int:
    """The byte a real printer answers to ``DLE EOT request`` under these conditions."""
    value = st.FIXED_BITS
    offline = (
        conditions.offline
        or conditions.cover_open
        or conditions.paper_out
        or conditions.cutter_error
    )
    if request == st.REQUEST_PRINTER and offline:
        value |= st.PRINTER_OFFLINE
    elif request == st.REQUEST_OFFLINE_CAUSE:
        if conditions.cover_open:
            value |= st.OFFLINE_COVER_OPEN
        if conditions.paper_out:
            value |= st.OFFLINE_PAPER_END_STOP
        if conditions.cutter_error:
            value |= st.OFFLINE_ERROR
    elif request == st.REQUEST_ERROR_CAUSE and conditions.cutter_error:
        value |= st.ERROR_CUTTER
    elif request == st.REQUEST_PAPER:
        if conditions.paper_out:
            value |= st.PAPER_END
        if conditions.paper_low or conditions.paper_out:
            value |= st.PAPER_NEAR_END
    return value


class _PtySink:
    """The master end of the serial line, with a socket's ``sendall``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def sendall(self, data: bytes) -> None:
        os.write(self.fd, data)


def gs_r_answer(conditions: PrinterConditions) -> int:
    """``GS r 1`` (transmit paper sensor status): bits 0-1 near end, bits 2-3 paper end."""
    value = 0
    if conditions.paper_low or conditions.paper_out:
        value |= 0x03
    if conditions.paper_out:
        value |= 0x0C
    return value


class EscposEmulator:
    def __init__(
        self,
        folder: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        serial: bool = False,
    ) -> None:
        self.folder = folder  # a serial emulator puts its port link here
        self.serial = serial  # behind a pseudo-terminal instead of a TCP port
        self._pty = (-1, -1)
        self.host = host
        self.port = port
        self.conditions = PrinterConditions()
        self.received = bytearray()
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> dict[str, object]:
        if self.serial:
            return self._start_serial()
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, self.port))
        server.listen(4)
        server.settimeout(0.1)
        self.port = server.getsockname()[1]
        self._server = server
        self._stop.clear()
        thread = threading.Thread(target=self._accept, name="escpos-emulator", daemon=True)
        thread.start()
        self._threads = [thread]
        return {"transport": "network", "host": self.host, "port": self.port}

    def _start_serial(self) -> dict[str, object]:
        if self.folder is None:
            raise ValueError("a serial emulator needs a folder for its port link")
        self.folder.mkdir(parents=True, exist_ok=True)
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._pty = (master, slave)
        link = self.folder / "escpos.tty"
        tmp = link.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(link)
        self._stop.clear()
        thread = threading.Thread(target=self._serve_pty, name="escpos-serial", daemon=True)
        thread.start()
        self._threads = [thread]
        return {"transport": "serial", "device": str(link)}

    def _serve_pty(self) -> None:
        master = self._pty[0]
        sink = _PtySink(master)
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            pending = self._consume(sink, pending + chunk)  # type: ignore[arg-type]

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads = []
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._pty[0] >= 0 and self.folder is not None:  # unplugged: no link to a reused pty
            (self.folder / "escpos.tty").unlink(missing_ok=True)
        for fd in self._pty:
            if fd >= 0:
                os.close(fd)
        self._pty = (-1, -1)

    def printed(self) -> bytes:
        with self._lock:
            return bytes(self.received)

    def receipts(self, kanji_required: bool = True) -> list[Receipt]:
        """What came out of the printer so far, one receipt per cut."""
        return decode(self.printed(), kanji_required)

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.1)
            with self._lock:
                self._connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        pending = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            pending = self._consume(conn, pending + chunk)

    def _consume(self, conn: socket.socket, data: bytes) -> bytes:
        """Answer real-time requests, keep the rest; return a tail that may be a split request."""
        out = bytearray()
        i = 0
        while i < len(data):
            if data.startswith(st.DLE_EOT, i) or data.startswith(GS_R, i):
                if i + 2 >= len(data):
                    break
                if self.conditions.garbage_status:
                    answer = 0x00
                elif data.startswith(GS_R, i):
                    answer = gs_r_answer(self.conditions)
                else:
                    answer = status_answer(self.conditions, data[i + 2])
                try:
                    conn.sendall(bytes([answer]))
                except OSError:
                    return b""
                i += 3
                continue
            out.append(data[i])
            i += 1
        with self._lock:
            self.received.extend(out)
        return bytes(data[i:])
