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


VERIFY = (sys.executable, "-m", "kiosk", "audit", "verify")


def verify_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VERIFY, "--db", str(path)],
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


# -- a keyed chain, a head, a verifier that only reads ----------------------------------------


def rows_of(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute("SELECT * FROM audit ORDER BY seq"))


def broken(path: Path) -> str:
    result = verify_cli(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    line: str = result.stdout.strip()
    assert "\n" not in line  # the first break, in one line
    return line


def test_a_chain_recomputed_after_an_edit_is_found(tmp_path: Path) -> None:
    """Whoever edits record 3 and recomputes every hash after it (as one could with plain
    SHA-256) still lacks the kiosk's key."""
    import hashlib
    import json

    path = tmp_path / "audit.db"
    filled(path).close()
    rows = rows_of(path)
    prev = rows[1][7]
    with sqlite3.connect(path) as conn:
        for seq, at, actor, action, outcome, fields, _prev, _hash in rows[2:]:
            told = "failed" if seq == 3 else outcome
            material = json.dumps([seq, at, actor, action, told, fields, prev])
            digest = hashlib.sha256(material.encode()).hexdigest()
            conn.execute(
                "UPDATE audit SET outcome = ?, prev = ?, hash = ? WHERE seq = ?",
                (told, prev, digest, seq),
            )
            prev = digest
    assert "record 3: its content was changed (or forged)" in broken(path)


def test_a_forged_record_at_the_end_is_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    filled(path).close()
    last = rows_of(path)[-1]
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO audit VALUES (6, ?, 'op01', 'print.receipt', 'printed', '{}', ?, ?)",
            (last[1], last[7], "f" * 64),
        )
    assert "record 6: its content was changed (or forged)" in broken(path)


def test_records_cut_from_the_end_are_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    filled(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM audit WHERE seq > 3")
    assert "records 4-5 were cut from the end" in broken(path)


def test_an_emptied_or_dropped_table_is_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    filled(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM audit")
    assert "the log is empty but held 5 records (emptied)" in broken(path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE audit")
    assert "the audit table is missing" in broken(path)


def test_a_removed_or_edited_head_or_key_record_is_found(tmp_path: Path) -> None:
    import json

    path = tmp_path / "audit.db"
    filled(path).close()
    head = path.with_name("audit.db.head")
    saved = head.read_text()
    data = json.loads(saved)
    head.write_text(json.dumps({**data, "seq": 3}))  # moved back to match a cut chain
    assert "the head file audit.db.head was changed (or forged)" in broken(path)
    head.unlink()
    assert "the head file audit.db.head is missing" in broken(path)
    head.write_text(saved)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM audit_meta")
    assert "key record is missing" in broken(path)


def test_any_bad_file_gets_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    filled(path).close()
    (tmp_path / "other.key").write_text("ab" * 32)
    result = subprocess.run(
        [*VERIFY, "--db", str(path), "--key", str(tmp_path / "other.key")],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 1 and "not the one this log was written with" in result.stdout
    garbage = tmp_path / "garbage.db"
    for content in (b"not a database at all", b"SQLite format 3\x00" + b"\xff" * 200):
        garbage.write_bytes(content)
        assert "not a readable audit log" in broken(garbage)
    garbage.write_bytes(b"")  # SQLite takes an empty file for an empty database
    assert "the audit table is missing" in broken(garbage)
    with sqlite3.connect(path) as conn:  # a value of another type where text belongs
        conn.execute("UPDATE audit SET fields = x'00ff' WHERE seq = 2")
    assert "record 2" in broken(path)


def test_verify_never_writes_to_what_it_checks(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    filled(path).close()
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert verify_cli(path).returncode == 0
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before
    with sqlite3.connect(path) as conn:  # an edit (the log's WAL files come back with it)
        conn.execute("UPDATE audit SET outcome = 'x' WHERE seq = 1")
    edited = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    broken(path)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == edited  # not a byte or a timestamp changed


def test_the_key_is_the_kiosks_own_and_a_break_found_at_start_is_recorded(
    tmp_path: Path,
) -> None:
    import stat

    path = tmp_path / "audit.db"
    filled(path).close()
    assert stat.S_IMODE((tmp_path / "audit.key").stat().st_mode) == 0o600
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM audit WHERE seq > 3")
    log = AuditLog(path)  # the kiosk starts on a log cut back while it was off
    assert log.break_found and "cut from the end" in log.break_found
    found = log.records("audit.break_found")
    assert [r.seq for r in found] == [4] and "cut from the end" in found[0].fields["problem"]
    log.close()
    assert verify_cli(path).returncode == 0  # whole again, with the break on record


def test_a_log_from_before_keyed_chains_carries_on_keyed(tmp_path: Path) -> None:
    import hashlib
    import json

    path = tmp_path / "audit.db"
    with sqlite3.connect(path) as conn:  # as the kiosk wrote it before: plain SHA-256
        conn.execute(
            "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,"
            " action TEXT NOT NULL, outcome TEXT NOT NULL, fields TEXT NOT NULL,"
            " prev TEXT NOT NULL, hash TEXT NOT NULL)"
        )
        prev = "0" * 64
        for seq in (1, 2):
            values = [seq, "2026-11-01T00:00:00Z", "kiosk", "boot", "ok", "{}", prev]
            digest = hashlib.sha256(json.dumps(values).encode()).hexdigest()
            conn.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*values, digest))
            prev = digest
    log = AuditLog(path)
    assert not log.break_found
    third = log.record("kiosk", "boot", "ok")
    assert third.seq == 3 and third.prev == prev
    log.close()
    assert "3 records" in verify_cli(path).stdout


def test_the_key_can_live_apart_from_the_data(tmp_path: Path) -> None:
    from kiosk.config import load_config

    site = tmp_path / "site.toml"
    keys = tmp_path / "credentials"
    site.write_text(
        f'[kiosk]\ntraining = true\nprofile = "sim"\ndata_dir = "{tmp_path / "data"}"\n'
        f'audit_key = "{keys / "audit.key"}"\n[backend]\nurl = "embedded"\n'
    )
    config = load_config(site)
    log = AuditLog(config.data_dir / "audit.db", key_file=config.audit_key_file)
    log.record("kiosk", "boot", "ok")
    log.close()
    assert (keys / "audit.key").exists() and not (tmp_path / "data" / "audit.key").exists()
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(site), "audit", "verify"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0 and "1 records" in result.stdout, result.stdout
