"""Every kiosk store has a schema version and migrates forward from each earlier version,
keeping what it holds; a file from a newer release is refused, untouched; the outbox keeps
what is in flight and purges what the registry acknowledged long ago."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kiosk import audit, outbox, paper_ledger, printing
from kiosk.audit import AuditLog
from kiosk.backend import models as m
from kiosk.backend.client import ClientSettings, RegistryClient
from kiosk.outbox import SENT_RETENTION_S, ItemState, Outbox
from kiosk.paper_ledger import PaperLedger
from kiosk.printing import PrintJournal
from kiosk.sealing import Sealer
from kiosk.store import StoreTooNew, migrate, version_of
from tests.backend_fixtures import Registry


def _open_audit(path: Path) -> Any:
    return AuditLog(path)


def _open_outbox(path: Path) -> Any:
    return Outbox(
        path, RegistryClient(ClientSettings("http://127.0.0.1:9")), Sealer(path.with_suffix(".key"))
    )


def _open_paper(path: Path) -> Any:
    return PaperLedger(path, AuditLog(path.with_name("paper-audit.db")))


def _open_prints(path: Path) -> Any:
    return PrintJournal(path)


# store → (its migrations, how the kiosk opens it, a row a file of version 0 already held)
STORES: dict[str, tuple[tuple[Any, ...], Callable[[Path], Any], str]] = {
    "audit": (
        audit.MIGRATIONS,
        _open_audit,
        "INSERT INTO audit VALUES (1, '2026-11-01T00:00:00Z', 'kiosk', 'kiosk.start', 'ok', "
        "'{}', '" + "0" * 64 + "', 'x')",
    ),
    "outbox": (
        outbox.MIGRATIONS,
        _open_outbox,
        "INSERT INTO outbox (key, grp, route, path, content_type, body, state, created) "
        "VALUES ('k1', 'g', 'create_ticket', '{}', 'application/json', NULL, 'sent', 1.0)",
    ),
    "paper": (
        paper_ledger.MIGRATIONS,
        _open_paper,
        "INSERT INTO batches VALUES (1, 'A0000001', 'A0000002', 'staff01', 1.0)",
    ),
    "prints": (
        printing.MIGRATIONS,
        _open_prints,
        "INSERT INTO prints VALUES ('a1', 'ticket', 'printed', '', 1, 1.0)",
    ),
}


def _file_at(path: Path, migrations: tuple[Any, ...], version: int, row: str) -> None:
    """A store as an earlier release left it: version 0 is the first schema, unversioned."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(migrations[0])
    conn.execute(row)
    if version:
        migrate(conn, "test", migrations[:version])
    conn.close()


@pytest.mark.parametrize("name", sorted(STORES))
def test_a_new_store_is_at_the_latest_version(name: str, tmp_path: Path) -> None:
    migrations, open_, _row = STORES[name]
    store = open_(tmp_path / f"{name}.db")
    conn = sqlite3.connect(tmp_path / f"{name}.db")
    assert version_of(conn) == len(migrations)
    conn.close()
    _close(store)


@pytest.mark.parametrize(
    ("name", "version"),
    [(name, version) for name in sorted(STORES) for version in range(len(STORES[name][0]))],
)
def test_each_earlier_version_migrates_forward_and_keeps_its_rows(
    name: str, version: int, tmp_path: Path
) -> None:
    migrations, open_, row = STORES[name]
    path = tmp_path / f"{name}.db"
    _file_at(path, migrations, version, row)
    table = row.split()[2]
    store = open_(path)
    _close(store)
    conn = sqlite3.connect(path)
    assert version_of(conn) == len(migrations)
    assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] >= 1  # kept
    conn.close()


@pytest.mark.parametrize("name", sorted(STORES))
def test_a_store_from_a_newer_release_is_refused_untouched(name: str, tmp_path: Path) -> None:
    migrations, open_, row = STORES[name]
    path = tmp_path / f"{name}.db"
    _file_at(path, migrations, len(migrations), row)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {len(migrations) + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreTooNew, match="written by a newer release"):
        open_(path)
    assert path.read_bytes() == before


def test_a_migration_that_fails_leaves_the_file_at_its_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    steps = (
        "CREATE TABLE a (x INTEGER);",
        "CREATE TABLE b (y INTEGER);\nINSERT INTO nope VALUES (1);",
    )
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, "x", steps)
    assert version_of(conn) == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"a"}  # the failed step's first statement was rolled back with it


def test_an_outbox_from_before_sent_times_purges_from_its_creation_times(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.db"
    _file_at(path, outbox.MIGRATIONS, 1, STORES["outbox"][2])
    box = _open_outbox(path)
    assert box.purge_sent() == 1  # acknowledged in 1970: long past the week
    box.stop()


def test_acknowledged_items_are_purged_after_a_week_unless_their_group_is_in_flight(
    registry: Registry, tmp_path: Path
) -> None:
    now = [1_800_000_000.0]
    box = Outbox(
        tmp_path / "outbox.db",
        registry.client,
        Sealer(tmp_path / "outbox.key"),
        clock=lambda: now[0],
    )
    for index in range(50):
        box.put("create_ticket", m.TicketRequest("counter"), group=f"old-{index}")
    box.put("create_ticket", m.TicketRequest("counter"), group="busy")
    assert box.deliver_due() == 51
    # the busy group has an item waiting for an upload that the registry has not had yet
    box.put("create_ticket", m.TicketRequest("counter"), group="busy")
    with sqlite3.connect(tmp_path / "outbox.db") as conn:
        conn.execute("UPDATE outbox SET next_at = 9e18 WHERE state = 'pending'")
    now[0] += SENT_RETENTION_S - 60
    assert box.purge_sent() == 0  # not a week yet
    now[0] += 120
    assert box.purge_sent() == 50
    left = box.items()
    assert [i.group for i in left] == ["busy", "busy"]
    assert {i.state for i in left} == {ItemState.SENT, ItemState.PENDING}
    box.stop()


def _close(store: Any) -> None:
    for name in ("stop", "close"):
        method = getattr(store, name, None)
        if callable(method):
            method()
            return
