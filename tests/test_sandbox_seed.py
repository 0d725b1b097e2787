from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.identifiers import id_number_problem, unit_code_problem, uscc_problem
from kiosk.sandbox import db, seed


def seeded(path: Path) -> tuple[sqlite3.Connection, str]:
    conn = db.connect(path)
    db.create(conn)
    seed.seed(conn)
    digest = hashlib.sha256()
    for table in ("people", "properties", "holders", "mortgages", "banks", "cases"):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
            digest.update(repr(tuple(row)).encode())
    return conn, digest.hexdigest()


def test_seed_is_deterministic_and_well_formed(tmp_path: Path) -> None:
    conn, first = seeded(tmp_path / "a.db")
    _, second = seeded(tmp_path / "b.db")
    assert first == second
    c = conn

    def count(sql: str) -> int:
        value: int = c.execute(sql).fetchone()[0]
        return value

    assert count("SELECT COUNT(*) FROM people") >= 200
    # the seeded ones and the co-owned demo flat (the private mortgage's)
    assert count("SELECT COUNT(*) FROM properties") == seed.PROPERTIES + 1
    assert count("SELECT COUNT(DISTINCT bank_code) FROM mortgages WHERE status = 'active'") >= 3
    assert count("SELECT COUNT(*) FROM seizures") > 0 and count("SELECT COUNT(*) FROM objections")
    assert count("SELECT COUNT(*) FROM cases WHERE status = 'awaiting_payment' AND fee_fen > 0")
    numbers = [r[0] for r in c.execute("SELECT id_number FROM people")]
    foreign_2017 = [n for n in numbers if n[:3].isalpha()]  # 15-character permits
    assert foreign_2017 == ["USA310080101238"]
    assert all(id_number_problem(n) is None for n in numbers if n not in foreign_2017)
    assert all(
        unit_code_problem(r[0]) is None for r in c.execute("SELECT unit_code FROM properties")
    )
    assert all(uscc_problem(r[0]) is None for r in c.execute("SELECT uscc FROM banks"))
    assert all("不动产权第" in r[0] for r in c.execute("SELECT certificate_number FROM properties"))
    owners = count("SELECT COUNT(DISTINCT id_number) FROM holders")
    assert 100 < owners < count("SELECT COUNT(*) FROM people")  # some own nothing


def test_the_demo_cards_are_people_with_property(tmp_path: Path) -> None:
    conn, _ = seeded(tmp_path / "a.db")
    for card in DEMO_CARDS:
        row = conn.execute("SELECT name FROM people WHERE id_number = ?", (card.number,)).fetchone()
        assert row["name"] == card.name
        units = conn.execute(
            "SELECT COUNT(*) FROM holders WHERE id_number = ?", (card.number,)
        ).fetchone()[0]
        assert units >= 2


def test_seeding_twice_changes_nothing(tmp_path: Path) -> None:
    conn, first = seeded(tmp_path / "a.db")
    seed.seed(conn)
    _, again = seeded(tmp_path / "a.db")
    assert first == again
