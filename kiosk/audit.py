"""The audit log: append-only, chained with a keyed MAC, personal data masked before it is
written.

Each record carries the MAC of the one before it (HMAC-SHA256 under a per-kiosk key kept in a
file of its own, readable by the kiosk's user only), so an edited, deleted, reordered or forged
record breaks the chain where it happened, and a chain recomputed after an edit does not verify
without the key. The last record's place is written beside the log after every record (the
head file, MAC'd too), so records cut from the end, an emptied table or a dropped one are found;
the registry keeps the shipped chain and acknowledges its head.

:func:`verify_file` reads the files only (never writes, never creates) and reports the first
break in one line, whatever the file holds. Logs written before the key existed keep their
plain SHA-256 records up to ``keyed_from``; every record after is keyed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.redact import PERSONAL_KEYS, REDACTOR, mask_value
from kiosk.store import open_store

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
CREATE TABLE IF NOT EXISTS audit_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1), scheme TEXT NOT NULL, keyed_from INTEGER NOT NULL,
    key_id TEXT NOT NULL
);
"""
# how far the chain has been handed to the outbox for the registry (was made on first use)
SHIPPED = """
CREATE TABLE IF NOT EXISTS shipped (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
"""
MIGRATIONS = (SCHEMA, SHIPPED)
SCHEME = "hmac-sha256-v1"
COLUMNS = ("seq", "at", "actor", "action", "outcome", "fields", "prev", "hash")


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
    seq: int,
    at: str,
    actor: str,
    action: str,
    outcome: str,
    fields: str,
    prev: str,
    key: bytes | None = None,
) -> str:
    """The record's MAC under ``key`` (a plain SHA-256 for records before the key existed)."""
    material = json.dumps([seq, at, actor, action, outcome, fields, prev], ensure_ascii=False)
    if key is None:
        return hashlib.sha256(material.encode()).hexdigest()
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


def load_key(key_file: Path, create: bool = False) -> bytes:
    """The kiosk's audit key: 32 random bytes, hex, in a file readable by its owner only."""
    if create and not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(key_file.read_text().strip())


def key_id(key: bytes) -> str:
    """Which key made a chain (its fingerprint, not the key)."""
    return hashlib.sha256(b"dengji-audit-key-id" + key).hexdigest()[:16]


def _head_mac(key: bytes, seq: int, digest: str) -> str:
    return hmac.new(key, f"head:{seq}:{digest}".encode(), hashlib.sha256).hexdigest()


def head_path(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def default_key_path(path: Path) -> Path:
    return path.with_name("audit.key")


def _masked(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, str):
            out[key] = mask_value(key, value) if key in PERSONAL_KEYS else REDACTOR(value)
        else:
            out[key] = value
    return out


class AuditLog:
    def __init__(
        self,
        path: Path,
        clock: Callable[[], float] = time.time,
        key_file: Path | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.key_file = key_file or default_key_path(path)
        self._key = load_key(self.key_file, create=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._conn = open_store(path, "audit", MIGRATIONS)
        self._start_chain()
        # A break found at start (a head cut back, a record edited while the kiosk was off)
        # is itself recorded, so the next records cannot hide it, and the registry hears it.
        self.break_found = self.verify()
        if self.break_found:
            self.record("kiosk", "audit.break_found", "broken", problem=self.break_found)

    def _start_chain(self) -> None:
        """The chain's key record, made with a new log; a log from before keyed chains gets it
        (and its head file) now, and its older records stay plain SHA-256."""
        row = self._conn.execute("SELECT key_id FROM audit_meta").fetchone()
        if row is not None:
            if row[0] != key_id(self._key):
                raise AuditKeyError(f"{self.key_file} is not the key this log was written with")
            return
        last = self._conn.execute(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        keyed_from = last[0] + 1 if last else 1
        self._conn.execute(
            "INSERT INTO audit_meta VALUES (1, ?, ?, ?)", (SCHEME, keyed_from, key_id(self._key))
        )
        if last is not None:
            self._write_head(last[0], last[1])

    def _write_head(self, seq: int, digest: str) -> None:
        """Where the chain ends, MAC'd, replaced atomically: records cut from the end (or a
        table emptied) no longer match it."""
        head = head_path(self.path)
        tmp = head.with_name(head.name + ".tmp")
        text = json.dumps({"seq": seq, "hash": digest, "mac": _head_mac(self._key, seq, digest)})
        with open(tmp, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, head)

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
                digest = _digest(seq, at, actor, action, outcome, body, prev, self._key)
                self._conn.execute(
                    "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, at, actor, action, outcome, body, prev, digest),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._write_head(seq, digest)
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
        with self._lock:
            return _verify(self._conn, self._key, head_path(self.path)).problem

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

    def unshipped(self) -> int:
        """Records not yet handed to the outbox for the registry."""
        with self._lock:
            row = self._conn.execute(
                "SELECT (SELECT COALESCE(MAX(seq), 0) FROM audit) - "
                "COALESCE((SELECT seq FROM shipped WHERE id = 1), 0)"
            ).fetchone()
        return max(0, int(row[0]))

    def close(self) -> None:
        self._conn.close()


class AuditKeyError(Exception):
    """The audit key does not belong to the log (a swapped or lost key file)."""


@dataclass(frozen=True)
class Verdict:
    problem: str | None  # the first break, in one line; None when the chain is whole
    records: int


def verify_file(path: Path, key_file: Path | None = None) -> Verdict:
    """Check an audit log and its head without writing to either: the first break, in one line.
    Whatever the files hold (not a database, a dropped table, odd values), the answer is a
    verdict, not a traceback."""
    key_file = key_file or default_key_path(path)
    try:
        key = load_key(key_file)
    except (OSError, ValueError):
        return Verdict(f"the audit key {key_file} is missing or unreadable", 0)
    try:
        with _read_only(path) as conn:
            return _verify(conn, key, head_path(path))
    except sqlite3.DatabaseError as err:
        return Verdict(f"{path} is not a readable audit log ({err})", 0)


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """The log as it stands, opened so that nothing beside it changes: SQLite's read-only
    mode still writes the WAL index (-shm), so a log with a write-ahead log is read from a
    private copy of the two files; one without is opened "immutable" (no side files)."""
    if not path.is_file():
        raise sqlite3.DatabaseError("no such file")
    wal = Path(f"{path}-wal")
    if not wal.exists():
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)
        try:
            yield conn
        finally:
            conn.close()
        return
    with tempfile.TemporaryDirectory(prefix="audit-verify-") as folder:
        copy = Path(folder) / "audit.db"
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, Path(f"{copy}-wal"))
        conn = sqlite3.connect(copy)
        try:
            yield conn
        finally:
            conn.close()


def _verify(conn: sqlite3.Connection, key: bytes, head_file: Path) -> Verdict:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "audit" not in tables:
        return Verdict("the audit table is missing (dropped?)", 0)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(audit)")]
    if tuple(columns) != COLUMNS:
        return Verdict(f"the audit table has other columns: {', '.join(columns)}", 0)
    meta = (
        conn.execute("SELECT keyed_from, key_id FROM audit_meta").fetchone()
        if ("audit_meta" in tables)
        else None
    )
    count = conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    if meta is None:
        if count:
            return Verdict("the chain's key record is missing (audit_meta deleted?)", count)
        return Verdict(None, 0)
    keyed_from, chain_key = meta
    if chain_key != key_id(key):
        return Verdict("the audit key is not the one this log was written with", count)
    prev, expected_seq, last = GENESIS, 1, (0, GENESIS)
    for row in conn.execute("SELECT * FROM audit ORDER BY rowid"):
        seq, at, actor, action, outcome, fields, stored_prev, digest = row
        if not all(isinstance(v, str) for v in row[1:]) or not isinstance(seq, int):
            return Verdict(f"record {seq!r}: a value of the wrong type", count)
        if seq != expected_seq:
            return Verdict(
                f"record {seq}: expected record {expected_seq} here (deleted or moved)", count
            )
        if stored_prev != prev:
            return Verdict(
                f"record {seq}: does not follow record {seq - 1} (deleted or reordered)", count
            )
        record_key = key if seq >= keyed_from else None
        expected = _digest(seq, at, actor, action, outcome, fields, stored_prev, record_key)
        if not hmac.compare_digest(expected, digest):
            return Verdict(f"record {seq}: its content was changed (or forged)", count)
        prev, expected_seq, last = digest, seq + 1, (seq, digest)
    return Verdict(_check_head(head_file, key, last), count)


def _check_head(head_file: Path, key: bytes, last: tuple[int, str]) -> str | None:
    seq, digest = last
    try:
        head = json.loads(head_file.read_text())
        head_seq, head_hash, mac = int(head["seq"]), str(head["hash"]), str(head["mac"])
    except FileNotFoundError:
        return None if seq == 0 else f"the head file {head_file.name} is missing"
    except (OSError, ValueError, KeyError, TypeError):
        return f"the head file {head_file.name} is unreadable"
    if not hmac.compare_digest(mac, _head_mac(key, head_seq, head_hash)):
        return f"the head file {head_file.name} was changed (or forged)"
    if head_seq > seq:
        return (
            f"records {seq + 1}-{head_seq} were cut from the end (the log ends at record {seq})"
            if seq
            else f"the log is empty but held {head_seq} records (emptied)"
        )
    if (head_seq, head_hash) != (seq, digest):
        return f"record {seq}: the head file names record {head_seq}, not this chain's end"
    return None
