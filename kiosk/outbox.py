"""The durable outbox: writes that must not be lost reach the registry exactly once.

Applications, payment reports, paper reports and audit uploads are put here first (SQLite,
WAL, synchronous=FULL), each with its idempotency key, then a sender thread delivers them, in
order within a group (a case), across restarts. The gateway keeps each key's first answer, so a
crash between its commit and ours only makes the retry return that same answer: nothing is
lost, nothing is done twice. Bodies are sealed at rest and dropped once acknowledged.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.backend import models as m
from kiosk.backend.client import RegistryClient, new_key
from kiosk.backend.errors import BackendError
from kiosk.events import EventBus
from kiosk.sealing import Sealer
from kiosk.store import open_store

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    grp TEXT NOT NULL,
    route TEXT NOT NULL,
    path TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    result TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, grp, seq);
"""
# when the registry acknowledged an item: what was sent is purged after SENT_RETENTION_S
ADD_SENT_AT = """
ALTER TABLE outbox ADD COLUMN sent_at REAL NOT NULL DEFAULT 0;
UPDATE outbox SET sent_at = created WHERE state = 'sent';
CREATE INDEX IF NOT EXISTS outbox_sent ON outbox (state, sent_at);
"""
MIGRATIONS = (SCHEMA, ADD_SENT_AT)
# An acknowledged item is kept a week (a journey or the counter may still look it up; the
# registry keeps each idempotency key's answer longer than that), then purged: the outbox
# holds what is in flight, not the kiosk's history (that is the audit log).
SENT_RETENTION_S = 7 * 86400
PURGE_EVERY_S = 3600.0


# an operator's writes (their drafts) need their session: held until they log in again
HELD_PREFIX = "operator:"


def held_group(operator: str) -> str:
    """The outbox group of what waits for ``operator`` ("BANK/operator_id")."""
    return HELD_PREFIX + operator


class ItemState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # refused by the registry: kept for staff, never resent


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    key: str
    group: str
    route: str
    state: ItemState
    attempts: int
    result: dict[str, Any]
    error: str


class Outbox:
    def __init__(
        self,
        path: Path,
        client: RegistryClient,
        sealer: Sealer,
        bus: EventBus | None = None,
        *,
        backoff_s: float = 1.0,
        backoff_max_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.client = client
        self.sealer = sealer
        self.bus = bus
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.clock = clock
        self._conn = open_store(path, "outbox", MIGRATIONS, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._purged_at = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- putting --------------------------------------------------------------------------

    def put(
        self,
        route: str,
        body: Any,
        *,
        group: str,
        key: str | None = None,
        path: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> str:
        """Keep a write for delivery. With a ``key`` already present, nothing changes."""
        key = key or new_key()
        raw = (
            body
            if isinstance(body, bytes)
            else json.dumps(m.dump(body), ensure_ascii=False).encode()
        )
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO outbox (key, grp, route, path, content_type, body, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    group,
                    route,
                    json.dumps(path or {}),
                    content_type,
                    self.sealer.seal(raw),
                    self.clock(),
                ),
            )
        self._wake.set()
        return key

    # -- reading --------------------------------------------------------------------------

    def item(self, key: str) -> OutboxItem | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM outbox WHERE key = ?", (key,)).fetchone()
        return _item(row) if row else None

    def items(self) -> list[OutboxItem]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM outbox ORDER BY seq").fetchall()
        return [_item(r) for r in rows]

    def needing_attention(self) -> int:
        """Writes the registry refused: kept (sealed) for staff to finish at the counter."""
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'failed'")
            return int(row.fetchone()[0])

    def pending_keys(self, group: str) -> list[str]:
        """The keys of a group's items still waiting for the registry."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key FROM outbox WHERE grp = ? AND state = 'pending' ORDER BY seq",
                (group,),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def depth(self) -> int:
        with self._lock:
            count: int = self._conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = 'pending'"
            ).fetchone()[0]
        return count

    # -- delivering -----------------------------------------------------------------------

    def deliver_due(self) -> int:
        """Send the first due pending item of each group once. Returns how many were sent.
        Items held for an operator wait for them (:meth:`deliver_held`)."""
        now = self.clock()
        with self._lock:
            heads = self._conn.execute(
                "SELECT * FROM outbox WHERE seq IN (SELECT MIN(seq) FROM outbox "
                "WHERE state = 'pending' AND grp NOT LIKE ? GROUP BY grp) AND next_at <= ? "
                "ORDER BY seq",
                (HELD_PREFIX + "%", now),
            ).fetchall()
        sent = 0
        for row in heads:
            if self._stop.is_set():
                break
            sent += self._deliver(row)
        return sent

    def deliver_held(self, operator: str, token: str) -> int:
        """Send what is held for ``operator`` (see :func:`held_group`), in order, with their
        new session's ``token``; stops at the first that must wait. Returns how many went."""
        group = held_group(operator)
        sent = 0
        while True:
            with self._lock:
                row = self._conn.execute(
                    "SELECT * FROM outbox WHERE grp = ? AND state = 'pending' ORDER BY seq LIMIT 1",
                    (group,),
                ).fetchone()
            if row is None:
                return sent
            if self._deliver(row, operator_token=token):
                sent += 1
                continue
            item = self.item(row["key"])
            if item is not None and item.state is ItemState.PENDING:
                return sent  # the registry is still away: it waits for the next login

    def _deliver(self, row: sqlite3.Row, operator_token: str = "") -> int:
        body_raw = self.sealer.open(bytes(row["body"]))
        if row["content_type"] == "application/json":
            body: Any = self._resolve(json.loads(body_raw))
            if body is None:  # an attachment it refers to was refused: so is this
                self._fail(row, "an attachment this refers to was refused")
                return 0
        else:
            body = body_raw
        try:
            result = self.client.call(
                row["route"],
                body,
                path=json.loads(row["path"]),
                key=row["key"],
                content_type=row["content_type"],
                operator=operator_token,
            )
        except BackendError as err:
            attempts = row["attempts"] + 1
            if err.retryable:
                delay = min(self.backoff_s * 2 ** (attempts - 1), self.backoff_max_s)
                with self._lock:
                    self._conn.execute(
                        "UPDATE outbox SET attempts = ?, next_at = ?, error = ? WHERE seq = ?",
                        (attempts, self.clock() + delay, str(err), row["seq"]),
                    )
                log.warning(
                    "outbox delivery will be retried",
                    extra={"route": row["route"], "attempt": attempts},
                )
                return 0
            with self._lock:
                self._conn.execute(
                    # the body stays (sealed): a refused filing needs a person, not a bin
                    "UPDATE outbox SET state = 'failed', attempts = ?, error = ? WHERE seq = ?",
                    (attempts, str(err), row["seq"]),
                )
            log.error(
                "outbox item refused by the registry",
                extra={"route": row["route"], "error": str(err)},
            )
            self._publish("outbox:failed", row["key"])
            return 0
        with self._lock:
            self._conn.execute(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, body = NULL, "
                "result = ?, error = '', sent_at = ? WHERE seq = ?",
                (json.dumps(m.dump(result), ensure_ascii=False), self.clock(), row["seq"]),
            )
        self._publish("outbox:sent", row["key"])
        return 1

    def purge_sent(self, retention_s: float = SENT_RETENTION_S) -> int:
        """Drop items the registry acknowledged more than ``retention_s`` ago, unless their
        group still has an item in flight or refused (it may refer to them). Returns how
        many went."""
        cutoff = self.clock() - retention_s
        with self._lock:
            purged = self._conn.execute(
                "DELETE FROM outbox WHERE state = 'sent' AND sent_at < ? AND grp NOT IN ("
                "SELECT grp FROM outbox WHERE state IN ('pending', 'failed'))",
                (cutoff,),
            ).rowcount
        if purged:
            log.info("outbox purged", extra={"items": purged})
        return purged

    def _resolve(self, body: Any) -> Any:
        """Replace ``outbox:<key>`` attachment references with the registry's attachment ids
        (the uploads went first: same group, earlier in order)."""
        if not isinstance(body, dict) or not isinstance(body.get("attachments"), list):
            return body
        resolved = []
        for reference in body["attachments"]:
            if isinstance(reference, str) and reference.startswith("outbox:"):
                item = self.item(reference.removeprefix("outbox:"))
                if item is None or item.state is ItemState.FAILED:
                    return None
                resolved.append(item.result.get("attachment_id", reference))
            else:
                resolved.append(reference)
        return {**body, "attachments": resolved}

    def _fail(self, row: sqlite3.Row, reason: str) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE outbox SET state = 'failed', error = ? WHERE seq = ?",
                (reason, row["seq"]),
            )
        self._publish("outbox:failed", row["key"])

    def start(self, interval_s: float = 1.0) -> None:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.deliver_due()
                    if self.clock() - self._purged_at >= PURGE_EVERY_S:
                        self._purged_at = self.clock()
                        self.purge_sent()
                except Exception:
                    log.exception("outbox sender failed")
                self._wake.wait(interval_s)
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._conn.close()

    def _publish(self, name: str, key: str) -> None:
        if self.bus is not None:
            self.bus.publish(name, key)


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        row["seq"],
        row["key"],
        row["grp"],
        row["route"],
        ItemState(row["state"]),
        row["attempts"],
        json.loads(row["result"]) if row["result"] else {},
        row["error"],
    )
