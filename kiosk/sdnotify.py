"""systemd's notify protocol (``sd_notify``), with no library: one datagram to $NOTIFY_SOCKET.

The UI sends READY=1 once its first screen is up and WATCHDOG=1 from its own loop, so a
frozen UI stops the pings and systemd restarts the kiosk. Without $NOTIFY_SOCKET it does
nothing (a developer's shell, the tests).
"""

from __future__ import annotations

import os
import socket


def notify(state: str) -> bool:
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError:
            return False
    return True


def watchdog_interval_s() -> float | None:
    """Half the watchdog timeout systemd set for us, or None when there is no watchdog."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000
