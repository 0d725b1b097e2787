"""Maintenance technicians: each has an id and a PIN kept as a slow, salted scrypt hash in a
file only the kiosk user may read. A SHA-256 of a six-digit PIN falls to a laptop in a
second; scrypt at these costs takes tens of milliseconds per guess, and the keypad locks after
five wrong ones. The audit names the technician, not just "maintenance".

The file has one technician per line, ``id:$scrypt$ln=14,r=8,p=1$<salt>$<hash>`` (base64),
written by ``kiosk technician add ID``; blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path

from kiosk.strict import StrictConfigError

LOG2_N, R, P = 14, 8, 1  # about 16 MiB and tens of milliseconds per guess
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
PIN_PATTERN = re.compile(r"^[0-9]{6,12}$")


def hash_pin(pin: str, log2_n: int = LOG2_N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**log2_n, r=R, p=P, dklen=32)
    encode = base64.b64encode
    return f"$scrypt$ln={log2_n},r={R},p={P}${encode(salt).decode()}${encode(digest).decode()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Whether ``pin`` is the one hashed in ``stored`` (False for anything malformed)."""
    try:
        _, scheme, params, salt, digest = stored.split("$")
        costs = dict(item.split("=") for item in params.split(","))
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        given = hashlib.scrypt(
            pin.encode(),
            salt=base64.b64decode(salt, validate=True),
            n=2 ** int(costs["ln"]),
            r=int(costs["r"]),
            p=int(costs["p"]),
            dklen=len(expected),
        )
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(given, expected)


def load(path: Path) -> dict[str, str]:
    """The technicians and their PIN hashes. A file others can read, or a line that is not a
    technician, stops the kiosk with the file and the line."""
    source = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise StrictConfigError(source, "technicians_file", "no such file") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StrictConfigError(
            source, "technicians_file", "readable by others: chmod 600 (the kiosk user only)"
        )
    technicians: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        who, _, stored = line.partition(":")
        if not ID_PATTERN.match(who) or not stored.startswith("$scrypt$"):
            raise StrictConfigError(source, f"line {number}", "expected id:$scrypt$...")
        technicians[who] = stored
    return technicians


def add(path: Path, who: str, pin: str) -> None:
    """Add or replace ``who`` (the file is created readable by its owner only)."""
    if not ID_PATTERN.match(who):
        raise ValueError("an id is 1-32 letters, digits, '.', '_' or '-'")
    if not PIN_PATTERN.match(pin):
        raise ValueError("a PIN is 6 to 12 digits")
    lines = []
    if path.exists():
        lines = [
            line
            for line in path.read_text().splitlines()
            if line.strip() and line.partition(":")[0] != who
        ]
    lines.append(f"{who}:{hash_pin(pin)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
