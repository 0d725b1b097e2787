"""A kiosk that gets killed: it starts a visit and a slow certificate print, says so, and
waits for the SIGKILL that the crash-safety test sends."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from drivers.base import Role
from drivers.certificate.cups_emulator import CupsEmulator
from kiosk.core import Kiosk
from kiosk.shell import Shell
from tests.backend_fixtures import verify
from tests.conftest import fast_config


def main() -> int:
    folder = Path(sys.argv[1])
    kiosk = Kiosk.from_config(fast_config(folder), runtime_dir=folder / "run")
    kiosk.start()
    kiosk.wait_started()
    assert kiosk.device_manager.wait_until(lambda s: all(x.usable for x in s.values()), 30)
    shell = Shell(kiosk)
    session = shell.begin_session()
    session.remember_person("identity", {"number": "11010519491231002X"}, name="张建国")
    assert kiosk.printing is not None and kiosk.printing.ledger is not None
    kiosk.printing.ledger.load_batch("C0000001", "C0000005", "staff01")
    client = kiosk.backend_link.client
    assert client is not None
    data = client.certificate_data("YW20261101000002", verify(client).verification_id)
    cupsd = kiosk.harness.emulators[Role.CERTIFICATE]  # type: ignore[union-attr]
    assert isinstance(cupsd, CupsEmulator)
    cupsd.set_print_delay(30)  # the sheet is in the printer when the power goes
    threading.Thread(
        target=kiosk.printing.certificate, args=("cert:crash", data), daemon=True
    ).start()
    time.sleep(1.0)
    print(session.id, flush=True)
    time.sleep(120)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
