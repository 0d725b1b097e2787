"""The kiosk's SQLite stores open through one helper: WAL, full sync, and a schema version.

Each store (audit, outbox, print journal, paper ledger) lists its migrations in order; the
file's ``PRAGMA user_version`` says how many have run. Migration 1 is each store's first
schema with ``CREATE … IF NOT EXISTS``: on a new file it creates the tables, on a file from
before versions existed (version 0, tables already there) it changes nothing, so both end at
version 1 and the later migrations run from there. Each migration and its version bump commit
together; a crash between two leaves a file that the next start carries on from.

A file of a newer version than this kiosk knows (written by a newer release, then rolled back)
is refused with a clear error instead of being written by code that does not know its shape.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

Migration = str | Callable[[sqlite3.Connection], None]


class StoreTooNew(RuntimeError):
    """The file was written by a newer kiosk; this one must not touch it."""


def version_of(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: sqlite3.Connection, name: str, migrations: Sequence[Migration]) -> int:
    """Run the migrations the file has not had; returns the version it is at now."""
    _refuse_newer(conn, name, migrations)
    version = version_of(conn)
    for index in range(version, len(migrations)):
        step = migrations[index]
        conn.execute("BEGIN IMMEDIATE")
        try:
            if isinstance(step, str):
                for statement in _statements(step):
                    conn.execute(statement)
            else:
                step(conn)
            conn.execute(f"PRAGMA user_version = {index + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(migrations)


def _refuse_newer(conn: sqlite3.Connection, name: str, migrations: Sequence[Migration]) -> None:
    version = version_of(conn)
    if version > len(migrations):
        raise StoreTooNew(
            f"the {name} store is at schema version {version}, this kiosk knows up to "
            f"{len(migrations)}: it was written by a newer release; upgrade again or restore "
            "the file from before the upgrade"
        )


def _statements(script: str) -> list[str]:
    """A migration's statements, one by one (``executescript`` would commit between them)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"an incomplete statement in a migration: {current.strip()[:60]}")
    return statements


def open_store(
    path: Path,
    name: str,
    migrations: Sequence[Migration],
    *,
    timeout: float = 5.0,
) -> sqlite3.Connection:
    """The store's connection (autocommit; WAL; synchronous FULL), migrated to this release."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        _refuse_newer(conn, name, migrations)  # before anything is written, even WAL mode
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        migrate(conn, name, migrations)
    except BaseException:
        conn.close()
        raise
    return conn
