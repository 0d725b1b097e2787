"""``kiosk print test``: a test page on the receipt or the certificate printer."""

from __future__ import annotations

import argparse
import tempfile
import urllib.parse
from pathlib import Path

from drivers.base import Role
from drivers.errors import DeviceError
from drivers.registry import DRIVERS, EMULATORS, Emulator
from kiosk.config import SiteConfig
from kiosk.documents.test_page import a4_test_page, receipt_test_page
from kiosk.messages import message_for
from kiosk.profiles import load_profile


def cmd_print_test(args: argparse.Namespace, config: SiteConfig) -> int:
    emulator: Emulator | None = None
    if args.driver == "escpos":
        url = urllib.parse.urlsplit(args.url or "")
        if url.scheme != "tcp" or not url.hostname:
            print("kiosk: --driver escpos needs --url tcp://HOST:PORT")
            return 2
        role = Role.RECEIPT
        settings = DRIVERS["escpos"].settings_type()(
            transport="network", host=url.hostname, port=url.port or 9100
        )
        driver = "escpos"
    elif args.driver == "cups":
        if not args.queue:
            print("kiosk: --driver cups needs --queue NAME")
            return 2
        role = Role.CERTIFICATE
        settings = DRIVERS["cups"].settings_type()(queue=args.queue)
        driver = "cups"
    else:
        role = Role(args.role)
        profile = load_profile(args.profile or config.kiosk.profile, config.kiosk.profile_dirs)
        spec = profile.devices[role]
        endpoint: dict[str, object] = {}
        if spec.emulator:
            emulator = EMULATORS[spec.emulator].create(Path(tempfile.mkdtemp(prefix="dengji-")))
            endpoint = emulator.start()
        settings, driver = spec.settings_with(endpoint), spec.driver
    device = DRIVERS[driver].create(settings)
    try:
        device.open()
        if role is Role.RECEIPT:
            columns = getattr(settings, "chars_per_line", 48)
            device.print_ops(receipt_test_page(columns, config.kiosk.id))  # type: ignore[attr-defined]
        else:
            with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
                handle.write(a4_test_page(config.kiosk.id))
                handle.flush()
                job = device.print_pdf(handle.name, "test page")  # type: ignore[attr-defined]
                device.wait_job(job, 60)  # type: ignore[attr-defined]
    except DeviceError as err:
        message = message_for(err)
        print(f"test print failed: {err.code}: {err}\n{message.zh}\n{message.en}")
        return 1
    finally:
        device.close()
        if emulator is not None:
            emulator.stop()
            remove = getattr(emulator, "remove", None)
            if callable(remove):
                remove()
    print(f"test page printed on the {role.value} printer ({driver})")
    return 0
