"""PC/SC smart-card readers (pyscard, the ``pcsc`` extra), for ICAO 9303 travel documents.

This module holds the reader side: finding the configured reader through pcscd and noticing
when pcscd or the reader goes away. The eMRTD chip protocol (BAC, secure messaging) builds on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.base import (
    NOT_OPENED,
    Detail,
    IdCardCapabilities,
    Role,
    SelfTestResult,
    SelfTestStep,
    State,
    Status,
)
from drivers.errors import ConfigurationError, DeviceUnavailable


@dataclass(frozen=True)
class PcscSettings:
    """Profile keys of a ``pcsc`` reader. ``reader`` is a name prefix; "" takes the first."""

    reader: str = ""


def list_readers() -> list[str]:
    try:
        from smartcard.Exceptions import SmartcardException
        from smartcard.System import readers
    except ImportError as err:
        raise ConfigurationError("pyscard is not installed (the 'pcsc' extra)") from err
    try:
        return [str(r) for r in readers()]
    except SmartcardException as err:
        raise DeviceUnavailable(f"pcscd is not reachable: {err}") from err


class PcscReader:
    role = Role.IDCARD
    settings_type = PcscSettings

    def __init__(self, settings: PcscSettings) -> None:
        self.settings = settings
        self._reader = ""
        self._status = NOT_OPENED

    @property
    def capabilities(self) -> IdCardCapabilities:
        return IdCardCapabilities(
            model=f"PC/SC {self._reader}".strip(),
            card_types=frozenset({"passport"}),
            photo=True,
        )

    def open(self) -> None:
        self.close()
        self._reader = self._find()
        self._status = Status(State.READY)

    def close(self) -> None:
        self._reader = ""
        self._status = NOT_OPENED

    def status(self) -> Status:
        return self._status

    def poll(self) -> Status:
        try:
            self._find()
        except DeviceUnavailable as err:
            self._status = Status(State.OFFLINE, frozenset({Detail.DISCONNECTED}), str(err))
            raise
        self._status = Status(State.READY)
        return self._status

    def self_test(self) -> SelfTestResult:
        try:
            name = self._find()
        except DeviceUnavailable as err:
            return SelfTestResult((SelfTestStep("reader", False, str(err)),))
        return SelfTestResult((SelfTestStep("reader", True, name),))

    def card_present(self) -> bool:
        raise NotImplementedError  # the eMRTD path brings card monitoring

    def _find(self) -> str:
        names = list_readers()
        for name in names:
            if name.startswith(self.settings.reader):
                return name
        wanted = self.settings.reader or "any reader"
        raise DeviceUnavailable(f"{wanted!r} not found among {names}")
