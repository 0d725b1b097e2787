"""Starts the emulators a profile asks for and hands their endpoints to the device manager.

In the ``sim`` profile every role names its emulator. ``emulate_all`` also stands an emulator
in for every real-hardware role, which is how the tests boot each shipped profile.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from drivers.base import Role
from drivers.registry import EMULATORS, Emulator, emulator_for_driver
from kiosk.profiles import Profile
from kiosk.sandbox.seed import (
    DEMO_AUTHORIZATION,
    DEMO_CONTRACT,
    DEMO_MORTGAGED_HOME,
    DEMO_NEW_HOME,
    DEMO_NOTICED_HOME,
    DEMO_OBJECTION_UNIT,
    DEMO_PROOF_CODE,
    DEMO_SHARED_UNIT,
)

__all__ = [  # the demo's data too
    "DEMO_AUTHORIZATION",
    "DEMO_CONTRACT",
    "DEMO_MORTGAGED_HOME",
    "DEMO_NEW_HOME",
    "DEMO_NOTICED_HOME",
    "DEMO_OBJECTION_UNIT",
    "DEMO_PARTIES",
    "DEMO_PROOF_CODE",
    "DEMO_SHARED_UNIT",
    "EmulatorHarness",
    "collect_outputs",
    "hand_card_to",
]
# the private mortgage demo's co-owner (the Hong Kong card) and lender (the 2023 permanent-
# residence card), as indexes of the reader emulator's demo cards; 0 is the demo holder
DEMO_PARTIES = (2, 4)

log = logging.getLogger(__name__)


class EmulatorHarness:
    def __init__(
        self, profile: Profile, runtime_dir: Path | None = None, *, emulate_all: bool = False
    ) -> None:
        self.profile = profile
        self._own_dir = runtime_dir is None
        self.runtime_dir = runtime_dir or Path(tempfile.mkdtemp(prefix="dengji-sim-"))
        self.emulators: dict[Role, Emulator] = {}
        self.endpoints: dict[Role, dict[str, object]] = {}
        self.errors: dict[Role, str] = {}
        self._emulate_all = emulate_all

    def start(self) -> dict[Role, dict[str, object]]:
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        for role, spec in self.profile.devices.items():
            name = spec.emulator
            if not name and self._emulate_all:
                name = emulator_for_driver(spec.driver)
            if not name:
                continue
            emulator = EMULATORS[name].create(self.runtime_dir)
            try:
                self.endpoints[role] = emulator.start()
            except Exception as err:  # the device will show OFFLINE with this reason
                self.errors[role] = f"emulator {name} did not start: {err}"
                log.error("emulator failed", extra={"role": str(role), "error": str(err)})
                continue
            self.emulators[role] = emulator
        return self.endpoints

    def stop(self) -> None:
        for emulator in self.emulators.values():
            try:
                emulator.stop()
            except Exception:
                log.exception("emulator stop failed")
            remove = getattr(emulator, "remove", None)
            if callable(remove):
                remove()
        self.emulators.clear()
        if self._own_dir:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)


def hand_card_to(harness: EmulatorHarness | None, card: int | None) -> None:
    """(``kiosk demo``) The person at the reader takes their card (``None``), or the demo
    card ``card`` lies on it."""
    from drivers.idcard.sam_emulator import DEMO_CARDS

    emulator: Any = harness.emulators.get(Role.IDCARD) if harness is not None else None
    if emulator is None:
        raise RuntimeError("the demo runs on the sim profile's card reader emulator")
    if card is None:
        emulator.remove_card()
    else:
        emulator.place_card(DEMO_CARDS[card])


def collect_outputs(harness: EmulatorHarness | None, out: Path) -> list[str]:
    """(``kiosk demo``) The receipts the printer emulator received (as PNG) and the PDFs
    the queue printed."""
    from drivers.receipt.escpos_decoder import render

    outputs: list[str] = []
    printer: Any = harness.emulators.get(Role.RECEIPT) if harness else None
    if printer is not None:
        printed = [r for r in printer.receipts() if r.lines or r.qr_codes or r.images]
        for index, receipt in enumerate(printed, 1):
            path = render(receipt, out / f"receipt-{index}.png")
            outputs.append(path.name)
    queue: Any = harness.emulators.get(Role.CERTIFICATE) if harness else None
    if queue is not None:
        for index, pdf in enumerate(sorted(queue.out.glob("*.pdf")), 1):
            target = out / f"document-{index}.pdf"
            shutil.copy2(pdf, target)
            outputs.append(target.name)
    return outputs
