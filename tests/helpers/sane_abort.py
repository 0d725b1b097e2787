"""A scan that ends early (a jam, an open cover), run in its own
process: SANE's test backend can be left stuck by an aborted scan (its reader thread is not
always joined), and a later scan in the same process then never returns. The result is printed
as JSON for the test.

    python -m tests.helpers.sane_abort SANE_CONFIG_DIR jam|cover|empty
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from drivers.scanner.sane import SaneScanner, SaneSettings
from kiosk.messages import message_for


def outcome(run: Any) -> dict[str, Any]:
    error = run.error
    message = message_for(error) if error is not None else None
    return {
        "pages": len(run.pages),
        "error": type(error).__name__ if error is not None else "",
        "code": getattr(error, "code", ""),
        "text": str(error) if error is not None else "",
        "zh": message.zh if message else "",
        "en": message.en if message else "",
    }


def main(config_dir: str, scenario: str) -> dict[str, Any]:
    adf = scenario == "jam"
    device = SaneScanner(
        SaneSettings(
            device="test:0",
            config_dir=config_dir,
            resolution=50,
            source="Automatic Document Feeder" if adf else "Flatbed",
            page_timeout_s=20.0,
        )
    )
    device.open()
    backend: Any = device._device
    result: dict[str, Any] = {}
    if scenario == "jam":

        def jam_after_two(count: int, _page: object) -> None:
            if count == 2:
                backend.read_return_value = "SANE_STATUS_JAMMED"

        result["run"] = outcome(device.scan_pages(on_page=jam_after_two))
    elif scenario == "cover":
        backend.read_return_value = "SANE_STATUS_COVER_OPEN"
        result["run"] = outcome(device.scan_pages())
    else:  # empty: in a process of its own too; a scan after an aborted one can hang
        backend.read_return_value = "SANE_STATUS_NO_DOCS"
        result["run"] = outcome(device.scan_pages())
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])), flush=True)
    os._exit(0)  # the backend's threads are not waited for
