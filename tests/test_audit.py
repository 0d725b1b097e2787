"""The audit chain: masked, append-only, and any edit, deletion or reordering is found."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
from pathlib import Path

from kiosk.audit import AuditLog
from kiosk.core import Kiosk
from kiosk.shell import Shell
from tests.conftest import REPO


def filled(path: Path) -> AuditLog:
    log = AuditLog(path)
    for i in range(5):
        log.record("kiosk", "print.receipt", "printed", action_id=f"a{i}")
    return log


def test_personal_fields_are_masked(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    record = log.record(
        "op01",
        "identity.verify",
        "verified",
        applicant="张建国",
        id_number="11010519491231002X",
        note="card 11010519491231002X",
    )
    assert record.fields == {
        "applicant": "张**",
        "id_number": "110***********002X",
        "note": "card 110***********002X",
    }
    raw = (tmp_path / "audit.db").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("audit.db-*")
    )
    assert b"11010519491231002X" not in raw and "张建国".encode() not in raw


def verify_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "audit", "verify", "--db", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )


def test_an_intact_chain_verifies(tmp_path: Path) -> None:
    filled(tmp_path / "audit.db").close()
    result = verify_cli(tmp_path / "audit.db")
    assert result.returncode == 0 and "5 records" in result.stdout


def test_an_edited_record_is_found(tmp_path: Path) -> None:
    filled(tmp_path / "audit.db").close()
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("UPDATE audit SET outcome = 'failed' WHERE seq = 3")
    result = verify_cli(tmp_path / "audit.db")
    assert result.returncode == 1 and "record 3: its content was changed" in result.stdout


def test_a_deleted_record_is_found(tmp_path: Path) -> None:
    filled(tmp_path / "audit.db").close()
    with sqlite3.connect(tmp_path / "audit.db") as conn:
        conn.execute("DELETE FROM audit WHERE seq = 2")
    result = verify_cli(tmp_path / "audit.db")
    assert result.returncode == 1 and "record 3: expected record 2" in result.stdout


def test_reordered_records_are_found(tmp_path: Path) -> None:
    filled(tmp_path / "audit.db").close()
    with sqlite3.connect(tmp_path / "audit.db") as conn:  # records 2 and 3 change places
        rows = {r[0]: r[1:] for r in conn.execute("SELECT * FROM audit")}
        conn.execute("DELETE FROM audit WHERE seq IN (2, 3)")
        conn.execute("INSERT INTO audit VALUES (2, ?, ?, ?, ?, ?, ?, ?)", rows[3])
        conn.execute("INSERT INTO audit VALUES (3, ?, ?, ?, ?, ?, ?, ?)", rows[2])
    result = verify_cli(tmp_path / "audit.db")
    assert result.returncode == 1
    assert "record 2: does not follow record 1" in result.stdout


def test_every_ended_session_leaves_a_purge_record(sim_kiosk: Kiosk) -> None:
    shell = Shell(sim_kiosk)
    session = shell.begin_session()
    session.remember_person("identity", {"number": "11010519491231002X"}, name="张建国")
    shell.end_session("idle")
    assert sim_kiosk.audit is not None
    purge = sim_kiosk.audit.records("session.purge")[-1]
    assert purge.fields == {"session": session.id, "reason": "idle", "wiped": "identity"}
    assert sim_kiosk.audit.verify() is None


def test_audit_records_reach_the_registry_once_and_masked(sim_kiosk: Kiosk) -> None:
    import time

    link = sim_kiosk.backend_link
    assert sim_kiosk.audit is not None and link.outbox is not None and link.sandbox is not None
    sim_kiosk.audit.record("kiosk", "identity.verify", "verified", id_number="11010519491231002X")
    assert link.check_now()
    assert sim_kiosk.audit.ship(link.outbox) == 0  # nothing new: nothing queued twice
    sim_kiosk.audit.record("kiosk", "print.receipt", "printed", action_id="t1")
    link.check_now()
    conn = link.sandbox.connection()
    deadline = time.monotonic() + 10
    rows: list[tuple[int, str, str, str]] = []
    while time.monotonic() < deadline:
        link.outbox.deliver_due()
        rows = conn.execute(
            "SELECT seq, prev, hash, fields FROM audit_records WHERE kiosk_id = ? ORDER BY seq",
            (sim_kiosk.config.kiosk.id,),
        ).fetchall()
        if len(rows) == len(sim_kiosk.audit.records()):
            break
        time.sleep(0.05)
    local = sim_kiosk.audit.records()
    assert [r[0] for r in rows] == [r.seq for r in local]
    assert [r[2] for r in rows] == [r.hash for r in local]  # the same chain, end to end
    assert all(a[2] == b[1] for a, b in itertools.pairwise(rows))
    assert "11010519491231002X" not in "".join(r[3] for r in rows)
