"""The ESC/POS driver's real-time status against the loopback emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drivers.base import Detail, State
from drivers.errors import DeviceUnavailable
from drivers.receipt.escpos import EscposPrinter, EscposSettings
from drivers.receipt.escpos_emulator import EscposEmulator


@pytest.fixture
def emulator() -> Iterator[EscposEmulator]:
    emu = EscposEmulator()
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def printer(emulator: EscposEmulator) -> Iterator[EscposPrinter]:
    device = EscposPrinter(
        EscposSettings(transport="network", host="127.0.0.1", port=emulator.port, timeout_s=1)
    )
    device.open()
    try:
        yield device
    finally:
        device.close()


@pytest.mark.parametrize(
    ("condition", "state", "details"),
    [
        ({}, State.READY, set()),
        ({"paper_low": True}, State.READY, {Detail.PAPER_LOW}),
        ({"paper_out": True}, State.ERROR, {Detail.PAPER_OUT}),
        ({"cover_open": True}, State.ERROR, {Detail.COVER_OPEN}),
        ({"cutter_error": True}, State.ERROR, {Detail.CUTTER_ERROR}),
    ],
)
def test_status_follows_the_printer(
    printer: EscposPrinter,
    emulator: EscposEmulator,
    condition: dict[str, bool],
    state: State,
    details: set[Detail],
) -> None:
    for key, value in condition.items():
        setattr(emulator.conditions, key, value)
    status = printer.poll()
    assert status.state is state
    assert status.details == details


def test_a_garbled_answer_is_unknown_not_paper_out(
    printer: EscposPrinter, emulator: EscposEmulator
) -> None:
    emulator.conditions.garbage_status = True
    status = printer.poll()
    assert status.state is State.UNKNOWN
    assert status.details == {Detail.STATUS_UNKNOWN}
    assert Detail.PAPER_OUT not in status.details


def test_status_requests_are_not_printed(printer: EscposPrinter, emulator: EscposEmulator) -> None:
    printer.poll()
    printer.write(b"\x1b@hello\n")
    deadline = time.monotonic() + 5
    while len(emulator.printed()) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)  # the bytes cross a socket to the emulator's thread
    printer.poll()
    assert emulator.printed() == b"\x1b@hello\n"


def test_a_printer_switched_off_is_unavailable(
    printer: EscposPrinter, emulator: EscposEmulator
) -> None:
    emulator.stop()
    with pytest.raises(DeviceUnavailable):
        printer.poll()
    assert printer.status().state is State.OFFLINE
