"""The explicit map from the names used in device profiles to drivers and emulators.

Entries name their class as ``"module:Class"`` and are imported only when used, so listing
profiles does not load OpenCV or CUPS, and a missing optional extra fails only the device that
needs it. Nothing registers itself by being imported.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from drivers.base import Device, Role


@dataclass(frozen=True)
class DriverEntry:
    role: Role
    target: str  # "module:Class"; the class has ``settings_type`` and takes one settings object
    summary: str
    reads: frozenset[str] = frozenset()  # an ID reader: the documents it can read (card_types)

    def load(self) -> Any:
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)

    def settings_type(self) -> type[Any]:
        settings_type: type[Any] = self.load().settings_type
        return settings_type

    def create(self, settings: Any) -> Device:
        device: Device = self.load()(settings)
        return device


DRIVERS: dict[str, DriverEntry] = {
    "sam_serial": DriverEntry(
        Role.IDCARD,
        "drivers.idcard.sam_serial:SamSerialReader",
        "GA 467 SAM reader, serial",
        frozenset({"resident", "hmt_permit", "foreign_permanent"}),
    ),
    "pcsc": DriverEntry(
        Role.IDCARD,
        "drivers.idcard.pcsc:PcscReader",
        "PC/SC reader (pyscard): passports",
        frozenset({"passport"}),
    ),
    "opencv": DriverEntry(Role.CAMERA, "drivers.camera.opencv:OpenCvCamera", "OpenCV capture"),
    "sane": DriverEntry(Role.SCANNER, "drivers.scanner.sane:SaneScanner", "SANE scanner"),
    "document_camera": DriverEntry(
        Role.SCANNER, "drivers.scanner.document_camera:DocumentCamera", "document camera (高拍仪)"
    ),
    "escpos": DriverEntry(Role.RECEIPT, "drivers.receipt.escpos:EscposPrinter", "ESC/POS printer"),
    "cups": DriverEntry(Role.CERTIFICATE, "drivers.certificate.cups:CupsPrinter", "CUPS queue"),
}


class Emulator(Protocol):
    """A device at its wire. ``start()`` returns the settings that point a driver at it."""

    def start(self) -> dict[str, object]: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class EmulatorEntry:
    target: str  # "module:Class", constructed with one Path: its working file or folder
    file_name: str  # the name of that file or folder inside the runtime folder
    drivers: frozenset[str]  # the drivers it can stand in for

    def create(self, runtime_dir: Path) -> Emulator:
        module_name, _, class_name = self.target.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        emulator: Emulator = cls(runtime_dir / self.file_name)
        return emulator


EMULATORS: dict[str, EmulatorEntry] = {
    "sam": EmulatorEntry(
        "drivers.idcard.sam_emulator:SamEmulator", "idcard.tty", frozenset({"sam_serial"})
    ),
    "pcscd": EmulatorEntry(
        "drivers.idcard.pcsc_emulator:PcscEmulator", "pcscd", frozenset({"pcsc"})
    ),
    "camera": EmulatorEntry(
        "drivers.camera.emulator:CameraEmulator", "camera.avi", frozenset({"opencv"})
    ),
    "document_page": EmulatorEntry(
        "drivers.camera.emulator:PageCameraEmulator", "page.avi", frozenset({"document_camera"})
    ),
    "sane": EmulatorEntry(
        "drivers.scanner.sane_emulator:SaneEmulator", "sane", frozenset({"sane"})
    ),
    "escpos": EmulatorEntry(
        "drivers.receipt.escpos_emulator:EscposEmulator", "escpos", frozenset({"escpos"})
    ),
    "cups_pdf": EmulatorEntry(
        "drivers.certificate.cups_emulator:CupsEmulator", "cups", frozenset({"cups"})
    ),
}


def emulator_for_driver(driver: str) -> str:
    """The emulator that can stand in for ``driver`` (used to boot any profile in tests)."""
    for name, entry in EMULATORS.items():
        if driver in entry.drivers:
            return name
    raise KeyError(driver)
