"""kill -9 in the middle of a visit and a certificate print: at the next start the visit is
recorded as closed and wiped, the sheet is accounted as spoiled (and reported), the print is
uncertain rather than repeated, and every database is intact."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.core import Kiosk
from kiosk.printing import PrintState
from tests.backend_fixtures import verify
from tests.conftest import REPO, fast_config

pytestmark = pytest.mark.stack


@pytest.mark.timeout(240)
def test_a_crash_mid_visit_and_mid_print_is_recovered(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.crashing_kiosk", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    session_id = child.stdout.readline().strip()
    assert len(session_id) == 32, session_id
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    subprocess.run(["pkill", "-f", str(tmp_path / "run" / "cups")], check=False)  # its cupsd
    time.sleep(0.5)

    data = tmp_path / "data"
    for name in ("audit.db", "outbox.db", "prints.db", "paper.db", "sandbox.db"):
        with sqlite3.connect(data / name) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", name

    kiosk = Kiosk.from_config(fast_config(tmp_path), runtime_dir=tmp_path / "run2")
    with kiosk:
        kiosk.wait_started()
        assert kiosk.audit is not None and kiosk.printing is not None
        assert kiosk.audit.verify() is None
        purge = [
            r for r in kiosk.audit.records("session.purge") if r.fields.get("session") == session_id
        ]
        assert len(purge) == 1 and purge[0].fields["reason"] == "interrupted"
        assert kiosk.printing.journal.state("cert:crash") is PrintState.UNCERTAIN
        ledger = kiosk.printing.ledger
        assert ledger is not None and ledger.states()["C0000001"] == "spoiled"
        assert ledger.next_serial() == "C0000002"
        outbox = kiosk.backend_link.outbox
        assert outbox is not None
        report = outbox.item("paper-C0000001")
        assert report is not None
        client = kiosk.backend_link.client
        assert client is not None
        retry = kiosk.printing.certificate(
            "cert:crash",
            client.certificate_data("YW20261101000002", verify(client).verification_id),
        )
        assert retry.state is PrintState.UNCERTAIN  # no silent second print...
        assert ledger.states()["C0000002"] == "loaded"  # ...and no sheet taken for it
        assert "张建国" not in (data / "audit.db").read_bytes().decode("utf-8", "ignore")


def test_a_start_that_fails_part_way_stops_what_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kiosk whose start fails after its emulators came up (here: the registry link) stops
    them before the error goes on: a restart loop must not leave a scheduler per attempt."""
    import kiosk.core

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the registry link cannot start")

    monkeypatch.setattr(kiosk.core, "BackendLink", broken)
    machine = Kiosk.from_config(fast_config(tmp_path), runtime_dir=tmp_path / "run")
    with pytest.raises(RuntimeError, match="registry link"):
        machine.start()
    harness = machine.harness
    assert harness is not None and harness.endpoints  # the emulators had come up
    assert harness.emulators == {}  # and were stopped
    assert machine.devices is not None  # and every device's supervisor thread was joined
    assert all(d._thread is None for d in machine.devices.devices.values())
