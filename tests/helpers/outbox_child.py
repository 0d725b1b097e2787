"""A child process for the crash test: put N applications in the outbox, deliver them.

Run again and again and killed with SIGKILL at any moment; every run puts the same N items
(same keys: a second put is a no-op) and delivers what is pending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path

from kiosk.backend import models as m
from kiosk.backend.client import ClientSettings, RegistryClient
from kiosk.outbox import Outbox
from kiosk.sealing import Sealer
from tests.backend_fixtures import signature_jpeg


def main() -> int:
    folder, url, token, verification, unit, count = sys.argv[1:7]
    client = RegistryClient(ClientSettings(url, attempts=1), token=token)
    outbox = Outbox(
        Path(folder) / "outbox.db",
        client,
        Sealer(Path(folder) / "outbox.key"),
        backoff_s=0.01,
        backoff_max_s=0.05,
    )
    image = signature_jpeg()
    for i in range(int(count)):
        group = f"case-{i % 3}"
        # the signature's image goes first, in the same group, as a journey sends it
        outbox.put(
            "upload_attachment",
            image,
            group=group,
            key=f"crash-sign-{i:04d}",
            content_type="image/jpeg",
        )
        application = m.Application(
            m.ApplicationType.ADDRESS_CHANGE,
            unit,
            verification,
            [m.FieldValue("new_address", f"crash-test address {i:03d}")],
            [f"outbox:crash-sign-{i:04d}"],
            [
                m.Signature(
                    "applicant",
                    hashlib.sha256(image).hexdigest(),
                    dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                )
            ],
        )
        outbox.put("submit_application", application, group=group, key=f"crash-{i:04d}")
    print("queued", flush=True)
    while outbox.depth():
        outbox.deliver_due()
    print("done", flush=True)
    outbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
