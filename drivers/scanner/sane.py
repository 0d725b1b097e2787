"""Flatbed and ADF scanners through SANE (python-sane, the ``sane`` extra)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
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
from drivers.errors import (
    ConfigurationError,
    DeviceError,
    DeviceTimeout,
    DeviceUnavailable,
    MediaError,
    ProtocolError,
)

_init_lock = threading.Lock()

# sane_strstatus() texts, as python-sane raises them.
STATUS_ERRORS: tuple[tuple[str, type[DeviceError], str], ...] = (
    ("jammed", MediaError, "jammed"),
    ("cover is open", MediaError, "cover_open"),
    ("busy", DeviceTimeout, "busy"),
    ("i/o", DeviceUnavailable, "unavailable"),
    ("access", DeviceUnavailable, "unavailable"),
    ("invalid argument", ConfigurationError, "configuration"),
)


class NoMoreDocuments(MediaError):
    code = "no_documents"


@dataclass(frozen=True)
class ScanRun:
    """The pages scanned, and why the run stopped early (None: it did not)."""

    pages: list[Any]
    error: DeviceError | None
    cause: Exception | None = None


def scan_error(err: Exception) -> DeviceError:
    text = str(err).lower()
    if "out of documents" in text or "no docs" in text:
        return NoMoreDocuments("the document feeder is empty")
    for needle, kind, code in STATUS_ERRORS:
        if needle in text:
            message = {
                "jammed": "paper jam in the document feeder",
                "cover_open": "the scanner cover is open",
                "busy": "the scanner is busy",
            }.get(code, f"scanner error: {err}")
            return kind(message, code=code)
    return ProtocolError(f"scanner error: {err}", code="scanner")


_initialised = False


@dataclass(frozen=True)
class SaneSettings:
    """Profile keys of a ``sane`` scanner."""

    device: str
    resolution: int = 300
    mode: str = "Color"
    source: str = ""  # "" keeps the device's default; e.g. "Flatbed", "Automatic Document Feeder"
    config_dir: str = ""  # a private SANE config folder (SANE_CONFIG_DIR), for emulators
    page_timeout_s: float = 90.0  # a page not read by then is cancelled: "not responding"


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
        """One page from the current source; ``NoMoreDocuments`` when the feeder is empty."""
        device = self._require_open()
        # a backend that stops answering mid-page would hold the scanner's worker for good:
        # SANE lets another thread cancel a blocking read (python-sane lets go of the GIL)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            device.cancel()

        watchdog = threading.Timer(self.settings.page_timeout_s, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            return device.scan()
        except Exception as err:
            if expired.is_set():
                timeout = self.settings.page_timeout_s
                raise DeviceTimeout(f"the scanner did not finish a page in {timeout:g} s") from err
            raise scan_error(err) from err
        finally:
            watchdog.cancel()

    def scan_pages(
        self, max_pages: int = 50, on_page: Callable[[int, Any], None] | None = None
    ) -> ScanRun:
        """Every sheet in the feeder (or one flatbed page). A jam or an open cover mid-way ends
        the run with its error *and* the pages already scanned, so nothing is lost."""
        pages: list[Any] = []
        adf = "feeder" in self.settings.source.lower() or "adf" in self.settings.source.lower()
        while len(pages) < (max_pages if adf else 1):
            try:
                page = self.scan_page()
            except NoMoreDocuments as err:
                if pages:
                    break
                return ScanRun(
                    pages,
                    MediaError("the feeder is empty: put the pages in it", code="no_paper"),
                    err,
                )
            except DeviceError as err:
                return ScanRun(pages, err)
            pages.append(page)
            if on_page is not None:
                on_page(len(pages), page)
        return ScanRun(pages, None)

    def _require_open(self) -> Any:
        if self._device is None:
            raise DeviceUnavailable("scanner is not open")
        return self._device
