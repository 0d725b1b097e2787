"""The evidence of a face check: one record per attempt, in the audit chain, without images.

The card number is kept as a keyed hash (HMAC-SHA256 with this kiosk's secret): a plain hash
of an 18-character ID number could be reversed by trying every plausible number, the keyed
one cannot without the kiosk's key; the registry, which has the same number, can match it
when asked. The best frame is kept as the SHA-256 of the exact JPEG sent to the verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from kiosk.audit import AuditLog


def evidence_key(data_dir: Path) -> bytes:
    """This kiosk's secret for keyed hashes: made once, readable by the kiosk user only."""
    path = data_dir / "evidence.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key


def card_hash(key: bytes, number: str) -> str:
    return hmac.new(key, number.upper().encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Evidence:
    kiosk: str
    attempt: int
    card_hash: str
    frame_sha256: str  # "" when no frame reached the verifier
    challenge: str
    liveness_passed: bool
    verifiers: str  # "registry:0.93" or "sface:0.52,registry:0.91"
    decision: str  # match, no_match, liveness_failed, retry, unavailable
    verification_id: str = ""
    at: float = 0.0

    def record(self, audit: AuditLog, session: str = "") -> None:
        fields = asdict(self)
        fields.pop("decision")
        audit.record("kiosk", "identity.check", self.decision, session=session, **fields)
