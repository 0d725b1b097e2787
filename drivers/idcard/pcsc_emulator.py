"""pcscd with the vpcd virtual reader driver: a real PC/SC stack with no reader attached.

pcscd serves one well-known socket per machine, so when one is already running it is used as
it is; otherwise this starts ``pcscd -f`` and stops it again. Virtual cards connect to vpcd on
TCP 35963 ("Virtual PCD 00 00").
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_READER = "Virtual PCD 00 00"
VPCD_PORT = 35963
VPCD_BIND_S = 75.0  # a port in TIME_WAIT is free again after a minute


class PcscEmulatorError(RuntimeError):
    pass


class PcscEmulator:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, object]:
        pcscd = shutil.which("pcscd") or "/usr/sbin/pcscd"
        if not Path(pcscd).exists():
            raise PcscEmulatorError(
                "pcscd is not installed (Debian packages pcscd, vsmartcard-vpcd)"
            )
        if _alive() and not _vpcd_listens(VPCD_PORT, 5.0):
            # a pcscd an earlier emulator left running, its virtual reader no longer taking
            # cards: only a daemon started like ours ("pcscd -f") is stopped, never the system's
            _stop_leftover_daemons(pcscd)
        deadline = time.monotonic() + VPCD_BIND_S
        while True:
            if not _alive():
                self._start_daemon(pcscd)
            if _vpcd_listens(VPCD_PORT, 10.0):
                return {"reader": VPCD_READER}
            if time.monotonic() > deadline:
                self.stop()
                raise PcscEmulatorError(f"vpcd does not listen on port {VPCD_PORT}")
            if self._process is not None:
                # ours runs but its vpcd could not take the port: a connection the last daemon
                # closed first holds it (TIME_WAIT, up to a minute); start it again
                self.stop()
            else:  # another's, on its way out: once it is gone, ours is started
                _stop_leftover_daemons(pcscd)

    def _start_daemon(self, pcscd: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "pcscd.log").open("ab")
        self._process = subprocess.Popen([pcscd, "-f"], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 10
        while not _alive():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise PcscEmulatorError("pcscd did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _vpcd_listens(port: int, timeout_s: float) -> bool:
    try:
        _wait_for_vpcd(port, timeout_s)
    except PcscEmulatorError:
        return False
    return True


def _stop_leftover_daemons(pcscd: str) -> None:
    """Stop the pcscd processes started as this emulator starts them, and wait for its socket
    to go (Linux: the command lines are read from /proc)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if [a.decode(errors="replace") for a in argv if a] == [pcscd, "-f"]:
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except OSError:
                continue
    deadline = time.monotonic() + 10
    while PCSCD_SOCKET.exists() and _alive() and time.monotonic() < deadline:
        time.sleep(0.1)


def _wait_for_vpcd(port: int, timeout_s: float) -> None:
    """pcscd lists the virtual reader before vpcd listens for cards (on a loaded machine,
    seconds before): wait until a card could connect. The probe connects and leaves at once,
    which vpcd takes for a card put down and taken away."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise PcscEmulatorError(f"vpcd does not listen on port {port}") from None
            time.sleep(0.1)


def _alive() -> bool:
    if not PCSCD_SOCKET.exists():
        return False
    try:
        from drivers.idcard.pcsc import list_readers

        return VPCD_READER in list_readers()
    except Exception:
        return False
