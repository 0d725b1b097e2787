"""The outbox: durable, ordered per group, sealed at rest, exactly once across kill -9."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.backend import models as m
from kiosk.backend.client import ClientSettings, RegistryClient
from kiosk.outbox import ItemState, Outbox, held_group
from kiosk.sandbox import db
from kiosk.sandbox.seed import SANDBOX_PASSWORD
from kiosk.sealing import Sealer
from tests.backend_fixtures import DEMO, Registry, face_jpeg
from tests.conftest import REPO


def make_outbox(folder: Path, client: RegistryClient) -> Outbox:
    return Outbox(
        folder / "outbox.db",
        client,
        Sealer(folder / "outbox.key"),
        backoff_s=0.01,
        backoff_max_s=0.05,
    )


def ticket(service: str) -> m.TicketRequest:
    return m.TicketRequest(service)


def test_items_are_delivered_once_and_their_bodies_dropped(
    registry: Registry, tmp_path: Path
) -> None:
    outbox = make_outbox(tmp_path, registry.client)
    key = outbox.put("create_ticket", ticket("pay_fee"), group="g1")
    assert outbox.put("create_ticket", ticket("pay_fee"), group="g1", key=key) == key
    assert outbox.depth() == 1
    assert outbox.deliver_due() == 1
    item = outbox.item(key)
    assert item is not None and item.state is ItemState.SENT
    assert item.result["service"] == "pay_fee"
    assert outbox.depth() == 0 and outbox.deliver_due() == 0
    outbox.stop()
    raw = sqlite3.connect(tmp_path / "outbox.db").execute("SELECT body FROM outbox").fetchall()
    assert raw == [(None,)]


def test_bodies_are_sealed_at_rest(registry: Registry, tmp_path: Path) -> None:
    outbox = make_outbox(tmp_path, RegistryClient(ClientSettings("http://127.0.0.1:9")))
    outbox.put("create_ticket", ticket("address_change"), group="g")
    outbox.stop()
    files = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.db*"))
    assert b"address_change" not in files
    assert (tmp_path / "outbox.key").stat().st_mode & 0o777 == 0o600


def test_a_dead_network_keeps_items_and_order_per_group(registry: Registry, tmp_path: Path) -> None:
    offline = RegistryClient(ClientSettings("http://127.0.0.1:9", attempts=1))
    outbox = make_outbox(tmp_path, offline)
    first = outbox.put("create_ticket", ticket("pay_fee"), group="case-1")
    second = outbox.put("create_ticket", ticket("query_certificate"), group="case-1")
    other = outbox.put("create_ticket", ticket("counter"), group="case-2")
    assert outbox.deliver_due() == 0
    assert outbox.item(first).attempts == 1  # type: ignore[union-attr]
    assert outbox.item(second).attempts == 0  # type: ignore[union-attr]  # waits its turn
    outbox.client = registry.client  # the network is back
    time.sleep(0.06)
    assert outbox.deliver_due() == 2  # the head of each group
    assert outbox.deliver_due() == 1
    sent = [outbox.item(k) for k in (first, second, other)]
    assert all(i is not None and i.state is ItemState.SENT for i in sent)
    numbers = [i.result["ticket_number"] for i in sent if i is not None]
    assert numbers[0][0] == "B" and numbers[1][0] == "A"
    outbox.stop()


def test_a_refusal_is_kept_as_failed_and_not_resent(registry: Registry, tmp_path: Path) -> None:
    outbox = make_outbox(tmp_path, registry.client)
    bad = outbox.put("create_ticket", ticket("lottery"), group="g")
    good = outbox.put("create_ticket", ticket("pay_fee"), group="g")
    outbox.deliver_due()
    outbox.deliver_due()
    failed = outbox.item(bad)
    assert failed is not None and failed.state is ItemState.FAILED and "400" in failed.error
    assert outbox.item(good).state is ItemState.SENT  # type: ignore[union-attr]
    outbox.stop()


def cases_with_crash_addresses(db_path: Path) -> list[str]:
    conn = db.connect(db_path)
    rows = conn.execute("SELECT body FROM cases WHERE body LIKE '%crash-test address%'").fetchall()
    conn.close()
    import json

    return sorted(
        next(f["value"] for f in json.loads(r["body"])["fields"] if f["name"] == "new_address")
        for r in rows
    )


@pytest.mark.timeout(300)
def test_kill_9_at_any_point_loses_nothing_and_sends_nothing_twice(
    registry: Registry, tmp_path: Path
) -> None:
    count = 24
    verification = registry.verify().verification_id
    unit = registry.client.list_records(m.RecordsQuery(verification)).properties[-1].unit_code
    assert face_jpeg() and DEMO.number
    args = [
        sys.executable,
        "-m",
        "tests.helpers.outbox_child",
        str(tmp_path),
        registry.sandbox.url,
        registry.client.token,
        verification,
        unit,
        str(count),
    ]
    registry.control.faults(m.Faults(delay_s=0.01, count=10_000))  # widen the windows
    rng = random.Random(7)
    kills = 0
    try:
        for _ in range(12):
            child = subprocess.Popen(
                args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
            time.sleep(rng.uniform(0.0, 0.35))
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                kills += 1
            child.wait()
        final = subprocess.run(
            args, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        registry.control.faults(m.Faults(count=0))
    assert final.returncode == 0 and "done" in final.stdout, final.stderr
    assert kills >= 6
    addresses = cases_with_crash_addresses(registry.sandbox.db_path)
    assert addresses == [f"crash-test address {i:03d}" for i in range(count)]
    conn = sqlite3.connect(tmp_path / "outbox.db")
    states = conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
    assert states == [("sent", 2 * count)]  # each application and its signature's image


def test_an_operators_drafts_wait_for_their_next_login_and_go_once(
    registry: Registry, tmp_path: Path
) -> None:
    """A draft kept while the registry was away needs the operator's session: the sender
    leaves it alone; their next login sends it (same key: kept once)."""
    client = registry.client
    outbox = make_outbox(tmp_path, client)
    body = m.SaveDraft(
        m.ApplicationType.MORTGAGE_CANCELLATION, m.DraftStatus.OPEN, "抵押注销 张*", 3
    )
    first = outbox.put(
        "save_draft",
        body,
        group=held_group("BOC-JN/op01"),
        key="held-draft-1",
        path={"draft_id": "D0000000000000001"},
    )
    assert outbox.deliver_due() == 0  # no session for it: it waits
    assert outbox.item(first).state is ItemState.PENDING  # type: ignore[union-attr]
    # the registry still away at the login: it keeps waiting, nothing lost
    away = make_outbox(tmp_path / "away", RegistryClient(ClientSettings("http://127.0.0.1:9")))
    away.put("save_draft", body, group=held_group("BOC-JN/op01"), key="k", path={"draft_id": "D1"})
    assert away.deliver_held("BOC-JN/op01", "token") == 0
    assert away.item("k").state is ItemState.PENDING  # type: ignore[union-attr]
    away.stop()
    session = client.operator_login(m.OperatorLogin("BOC-JN", "op01", SANDBOX_PASSWORD))
    assert outbox.deliver_held("BOC-JN/op02", session.operator_token) == 0  # not theirs
    assert outbox.deliver_held("BOC-JN/op01", session.operator_token) == 1
    assert outbox.item(first).state is ItemState.SENT  # type: ignore[union-attr]
    assert outbox.deliver_held("BOC-JN/op01", session.operator_token) == 0  # once
    drafts = client.list_drafts(operator=session.operator_token).drafts
    assert [d.draft_id for d in drafts if d.draft_id == "D0000000000000001"] == [
        "D0000000000000001"
    ]
    outbox.stop()
