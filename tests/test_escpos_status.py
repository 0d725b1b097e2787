"""The ESC/POS driver's real-time status against the loopback emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

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


def test_the_serial_transport_through_a_pty(tmp_path: Path) -> None:
    from drivers.receipt.ops import Cut, Text

    emulator = EscposEmulator(tmp_path, serial=True)
    endpoint = emulator.start()
    device = EscposPrinter(EscposSettings(**endpoint, timeout_s=1))  # type: ignore[arg-type]
    try:
        device.open()
        assert device.status().state is State.READY
        emulator.conditions.paper_low = True
        assert device.poll().details == {Detail.PAPER_LOW}
        device.print_ops([Text("串口打印 serial"), Cut()])
        deadline = time.monotonic() + 5
        while not emulator.receipts()[0].cuts and time.monotonic() < deadline:
            time.sleep(0.02)
        assert emulator.receipts()[0].lines[0].text == "串口打印 serial"
    finally:
        device.close()
        emulator.stop()


def test_a_logo_image_comes_out_as_an_image() -> None:
    from PIL import Image

    from drivers.receipt.encoder import EncoderModel, encode
    from drivers.receipt.escpos_decoder import decode
    from drivers.receipt.ops import Image as ImageOp

    logo = Image.new("1", (64, 24), 1)
    for x in range(0, 64, 2):
        logo.putpixel((x, 5), 0)
    receipt = decode(encode([ImageOp(logo)], EncoderModel()))[0]
    assert len(receipt.images) == 1 and receipt.images[0].size == (64, 24)
    assert receipt.images[0].convert("L").getpixel((0, 5)) == 0  # black dot where drawn
    assert receipt.images[0].convert("L").getpixel((1, 5)) == 255


def test_paper_low_is_published_as_an_event(sim_kiosk: object) -> None:
    from drivers.base import Role
    from kiosk.core import Kiosk

    assert isinstance(sim_kiosk, Kiosk)
    events: list[str] = []
    sim_kiosk.bus.subscribe("receipt:*", lambda name, _payload: events.append(name))
    printer = sim_kiosk.harness.emulators[Role.RECEIPT]  # type: ignore[union-attr]
    assert isinstance(printer, EscposEmulator)
    printer.conditions.paper_low = True
    assert sim_kiosk.device_manager.wait_until(
        lambda s: Detail.PAPER_LOW in s[Role.RECEIPT].details, 10
    )
    printer.conditions.paper_low = False
    assert sim_kiosk.device_manager.wait_until(
        lambda s: Detail.PAPER_LOW not in s[Role.RECEIPT].details, 10
    )
    assert "receipt:paper_low" in events and "receipt:paper_ok" in events
