"""Encryption at rest for what the kiosk must keep for a while (outbox bodies).

Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``; the key is created once per machine
beside the data, readable by the kiosk's user only. A stolen database alone reveals nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SealError(Exception):
    pass


class Sealer:
    def __init__(self, key_file: Path) -> None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        self._fernet = Fernet(key_file.read_bytes().strip())

    def seal(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def open(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as err:
            raise SealError("sealed data does not match this machine's key") from err
