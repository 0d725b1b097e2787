"""The audit log: append-only, hash-chained, personal data masked before it is written.

Each record carries the hash of the one before it, so an edited, deleted or reordered record
breaks the chain where it happened, and ``verify()`` says where. Shipping to the registry and
the maintenance command build on this.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.redact import PERSONAL_KEYS, REDACTOR, mask_value

if TYPE_CHECKING:
    from kiosk.outbox import Outbox

GENESIS = "0" * 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    fields TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    outcome: str
    fields: dict[str, Any]
    prev: str
    hash: str


def _digest(
    seq: int, at: str, actor: str, action: str, outcome: str, fields: str, prev: str
) -> str:
    material = json.dumps([seq, at, actor, action, outcome, fields, prev], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


def _masked(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, str):
            out[key] = mask_value(key, value) if key in PERSONAL_KEYS else REDACTOR(value)
        else:
            out[key] = value
    return out


class AuditLog:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)

    def record(self, actor: str, action: str, outcome: str, **fields: Any) -> AuditRecord:
        body = json.dumps(_masked(fields), ensure_ascii=False, sort_keys=True)
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock()))
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                last = self._conn.execute(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                digest = _digest(seq, at, actor, action, outcome, body, prev)
                self._conn.execute(
                    "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, at, actor, action, outcome, body, prev, digest),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return AuditRecord(seq, at, actor, action, outcome, json.loads(body), prev, digest)

    def records(self, action: str | None = None) -> list[AuditRecord]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
        out = [
            AuditRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7]) for r in rows
        ]
        return [r for r in out if action is None or r.action == action]

    def verify(self) -> str | None:
        """None when the chain is whole; else where and how it breaks."""
        prev, expected_seq = GENESIS, 1
        with self._lock:
            rows = self._conn.execute("SELECT * FROM audit ORDER BY rowid").fetchall()
        for seq, at, actor, action, outcome, fields, stored_prev, digest in rows:
            if seq != expected_seq:
                return f"record {seq}: expected record {expected_seq} here (deleted or moved)"
            if stored_prev != prev:
                return f"record {seq}: does not follow record {seq - 1} (deleted or reordered)"
            if _digest(seq, at, actor, action, outcome, fields, stored_prev) != digest:
                return f"record {seq}: its content was changed"
            prev, expected_seq = digest, seq + 1
        return None

    def close_interrupted_sessions(self) -> list[str]:
        """Visits that started but never ended (a crash, a power cut): their data died with
        the process; this records that they are closed and wiped."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT json_extract(fields, '$.session') FROM audit "
                "WHERE action = 'session.start' AND json_extract(fields, '$.session') NOT IN ("
                "SELECT json_extract(fields, '$.session') FROM audit "
                "WHERE action = 'session.purge')"
            ).fetchall()
        sessions = [str(r[0]) for r in rows if r[0]]
        for session in sessions:
            self.record(
                "kiosk",
                "session.purge",
                "wiped",
                session=session,
                reason="interrupted",
                wiped="all (process ended)",
            )
        return sessions

    def ship(self, outbox: Outbox, batch: int = 500) -> int:
        """Put the records not yet shipped into the outbox (masked already); returns how many.
        Each batch's key is its range, so a repeat after a crash is the same delivery."""
        with self._lock:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS shipped (id INTEGER PRIMARY KEY CHECK (id = 1), "
                "seq INTEGER NOT NULL)"
            )
            row = self._conn.execute("SELECT seq FROM shipped WHERE id = 1").fetchone()
            after = int(row[0]) if row else 0
            rows = self._conn.execute(
                "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (after, batch)
            ).fetchall()
        if not rows:
            return 0
        from kiosk.backend import models as m

        entries = [m.AuditEntry(*row) for row in rows]
        outbox.put(
            "upload_audit",
            m.AuditBatch(entries),
            group="audit",
            key=f"audit-{entries[0].seq}-{entries[-1].seq}",
        )
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO shipped VALUES (1, ?)", (entries[-1].seq,))
        return len(entries)

    def close(self) -> None:
        self._conn.close()
