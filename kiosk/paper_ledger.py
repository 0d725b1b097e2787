"""The security-paper ledger: every numbered sheet of certificate paper is accounted for.

Staff load a batch (its serial range) as a maintenance action. Sheets are fed in order, so
the next sheet is the lowest loaded serial; each ends printed, spoiled or jammed. A loaded
sheet below one already used has gone missing. ``reconcile()`` compares the ledger with what
the registry recorded; any mismatch blocks certificate printing until staff resolve it.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.audit import AuditLog
from kiosk.store import open_store

SERIAL = re.compile(r"^([A-Z]*)(\d+)$")
USED = ("printed", "spoiled", "jammed")
SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY, first_serial TEXT NOT NULL, last_serial TEXT NOT NULL,
    loaded_by TEXT NOT NULL, loaded_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sheets (
    serial TEXT PRIMARY KEY, batch_id INTEGER NOT NULL REFERENCES batches,
    position INTEGER NOT NULL, state TEXT NOT NULL, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
    serial TEXT PRIMARY KEY, reason TEXT NOT NULL, found REAL NOT NULL
);
"""
MIGRATIONS = (SCHEMA,)


class LedgerError(ValueError):
    pass


@dataclass(frozen=True)
class Mismatch:
    serial: str
    reason: str


def serial_range(first: str, last: str) -> list[str]:
    a, b = SERIAL.match(first), SERIAL.match(last)
    if not a or not b or a.group(1) != b.group(1) or len(a.group(2)) != len(b.group(2)):
        raise LedgerError("a batch runs from one serial to another of the same form (A0000101)")
    start, end = int(a.group(2)), int(b.group(2))
    if end < start or end - start > 5000:
        raise LedgerError("the last serial must follow the first (at most 5000 sheets)")
    width = len(a.group(2))
    return [f"{a.group(1)}{n:0{width}d}" for n in range(start, end + 1)]


class PaperLedger:
    def __init__(self, path: Path, audit: AuditLog) -> None:
        self.audit = audit
        self._lock = threading.Lock()
        self._conn = open_store(path, "paper ledger", MIGRATIONS)

    def load_batch(self, first: str, last: str, operator: str) -> int:
        serials = serial_range(first, last)
        with self._lock:
            clash = self._conn.execute(
                f"SELECT serial FROM sheets WHERE serial IN ({','.join('?' * len(serials))})",
                serials,
            ).fetchone()
            if clash:
                raise LedgerError(f"sheet {clash[0]} is already in the ledger")
            self._conn.execute("BEGIN IMMEDIATE")
            cursor = self._conn.execute(
                "INSERT INTO batches (first_serial, last_serial, loaded_by, loaded_at) "
                "VALUES (?, ?, ?, ?)",
                (first, last, operator, time.time()),
            )
            batch = int(cursor.lastrowid or 0)
            self._conn.executemany(
                "INSERT INTO sheets VALUES (?, ?, ?, 'loaded', ?)",
                [(s, batch, i, time.time()) for i, s in enumerate(serials)],
            )
            self._conn.execute("COMMIT")
        self.audit.record(
            operator, "paper.load", "loaded", first=first, last=last, sheets=len(serials)
        )
        return len(serials)

    def next_serial(self) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT serial FROM sheets WHERE state = 'loaded' "
                "ORDER BY batch_id, position LIMIT 1"
            ).fetchone()
        return str(row[0]) if row else None

    def record(self, serial: str, outcome: str) -> None:
        if outcome not in (*USED, "loaded"):
            raise LedgerError(f"unknown outcome {outcome!r}")
        with self._lock:
            updated = self._conn.execute(
                "UPDATE sheets SET state = ?, updated = ? WHERE serial = ?",
                (outcome, time.time(), serial),
            ).rowcount
        if not updated:
            self._block(serial, "a sheet that was never loaded was used")

    def states(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT serial, state FROM sheets").fetchall())

    def missing(self) -> list[str]:
        """Loaded sheets below a used one in the same batch: they left the tray unrecorded."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT s.serial FROM sheets s WHERE s.state = 'loaded' AND EXISTS ("
                "SELECT 1 FROM sheets u WHERE u.batch_id = s.batch_id AND "
                "u.position > s.position AND u.state IN ('printed', 'spoiled', 'jammed')) "
                "ORDER BY s.serial"
            ).fetchall()
        return [str(r[0]) for r in rows]

    def reconcile(self, registry: dict[str, str]) -> list[Mismatch]:
        """Compare with the registry's record (serial → outcome); block on any mismatch."""
        mismatches = [Mismatch(s, "missing from the tray and unrecorded") for s in self.missing()]
        ours = self.states()
        for serial, state in sorted(ours.items()):
            if state in USED and registry.get(serial) != state:
                mismatches.append(
                    Mismatch(serial, f"ledger {state}, registry {registry.get(serial, 'nothing')}")
                )
        for serial, outcome in sorted(registry.items()):
            if ours.get(serial, "loaded") == "loaded":
                mismatches.append(Mismatch(serial, f"registry {outcome}, ledger unused"))
        for mismatch in mismatches:
            self._block(mismatch.serial, mismatch.reason)
        self.audit.record(
            "kiosk",
            "paper.reconcile",
            "mismatch" if mismatches else "match",
            mismatches=len(mismatches),
        )
        return mismatches

    def blocked(self) -> list[Mismatch]:
        with self._lock:
            rows = self._conn.execute("SELECT serial, reason FROM blocks ORDER BY serial")
            return [Mismatch(str(s), str(r)) for s, r in rows.fetchall()]

    def resolve(self, serial: str, outcome: str, operator: str, note: str) -> None:
        """Staff say what became of a sheet; the block on it lifts."""
        self.record(serial, outcome)
        with self._lock:
            self._conn.execute("DELETE FROM blocks WHERE serial = ?", (serial,))
        self.audit.record(operator, "paper.resolve", outcome, serial=serial, note=note)

    def _block(self, serial: str, reason: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)", (serial, reason, time.time())
            )

    def close(self) -> None:
        self._conn.close()
