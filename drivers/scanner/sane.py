"""Flatbed and ADF scanners through SANE (python-sane, the ``sane`` extra)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from drivers.base import (
    NOT_OPENED,
    Detail,
    Role,
    ScannerCapabilities,
    SelfTestResult,
    SelfTestStep,
    State,
    Status,
)
from drivers.errors import ConfigurationError, DeviceUnavailable

_init_lock = threading.Lock()
_initialised = False


@dataclass(frozen=True)
class SaneSettings:
    """Profile keys of a ``sane`` scanner."""

    device: str
    resolution: int = 300
    mode: str = "Color"
    source: str = ""  # "" keeps the device's default; e.g. "Flatbed", "Automatic Document Feeder"
    config_dir: str = ""  # a private SANE config folder (SANE_CONFIG_DIR), for emulators


def _sane_module(config_dir: str) -> Any:
    global _initialised  # noqa: PLW0603 - sane_init is process-wide by design of SANE
    try:
        import sane
    except ImportError as err:
        raise ConfigurationError("python-sane is not installed (the 'sane' extra)") from err
    with _init_lock:
        if not _initialised:
            if config_dir:
                os.environ["SANE_CONFIG_DIR"] = config_dir
            sane.init()
            _initialised = True
    return sane


class SaneScanner:
    role = Role.SCANNER
    settings_type = SaneSettings

    def __init__(self, settings: SaneSettings) -> None:
        self.settings = settings
        self._device: Any = None
        self._status = NOT_OPENED
        self._sources: frozenset[str] = frozenset()

    @property
    def capabilities(self) -> ScannerCapabilities:
        return ScannerCapabilities(
            model=f"SANE {self.settings.device}",
            sources=self._sources,
            resolutions=(self.settings.resolution,),
            color=self.settings.mode.lower() == "color",
        )

    def open(self) -> None:
        self.close()
        sane = _sane_module(self.settings.config_dir)
        try:
            device = sane.open(self.settings.device)
        except Exception as err:  # python-sane raises _sane.error and RuntimeError
            raise DeviceUnavailable(f"cannot open scanner {self.settings.device}: {err}") from err
        try:
            device.resolution = self.settings.resolution
            device.mode = self.settings.mode
            if self.settings.source:
                device.source = self.settings.source
            options = getattr(device, "opt", {})
            source_option = options.get("source")
            constraint = getattr(source_option, "constraint", None)
            if isinstance(constraint, list):
                self._sources = frozenset(str(c) for c in constraint)
        except Exception as err:  # python-sane raises _sane.error, AttributeError, ValueError
            device.close()
            raise ConfigurationError(f"scanner rejected the profile's settings: {err}") from err
        self._device = device
        self._status = Status(State.READY)

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            try:
                device.close()
            except Exception:  # a vanished scanner must not mask why we are closing
                pass
        self._status = NOT_OPENED

    def status(self) -> Status:
        return self._status

    def poll(self) -> Status:
        device = self._require_open()
        try:
            device.get_parameters()
        except Exception as err:
            self._status = Status(State.OFFLINE, frozenset({Detail.DISCONNECTED}), str(err))
            raise DeviceUnavailable(f"scanner lost: {err}") from err
        self._status = Status(State.READY)
        return self._status

    def self_test(self) -> SelfTestResult:
        try:
            self.poll()
            return SelfTestResult((SelfTestStep("parameters", True),))
        except DeviceUnavailable as err:
            return SelfTestResult((SelfTestStep("parameters", False, str(err)),))

    def scan_page(self) -> Any:
        device = self._require_open()
        try:
            return device.scan()
        except Exception as err:
            raise DeviceUnavailable(f"scan failed: {err}") from err

    def _require_open(self) -> Any:
        if self._device is None:
            raise DeviceUnavailable("scanner is not open")
        return self._device
