"""The one small exception family every driver raises.

The kiosk translates these into user-facing messages at one boundary; a driver never logs an
error and returns an empty value instead.
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every driver error. ``code`` is a stable machine-readable reason."""

    code = "device_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class DeviceUnavailable(DeviceError):
    """The device is absent, unplugged, powered off, or its daemon is not reachable."""

    code = "unavailable"


class ServiceUnavailable(DeviceUnavailable):
    """The system service the driver talks through (pcscd, cupsd) does not answer: the
    device itself may be fine, and power or cables are not the remedy."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service


class NetworkUnreachable(DeviceUnavailable):
    """A device on the network (a receipt printer on the LAN) does not answer at its
    address: its network link, address or switch, not a cable to the kiosk."""

    def __init__(self, address: str, message: str) -> None:
        super().__init__(message)
        self.address = address


class DeviceTimeout(DeviceError):
    """The device did not answer within the time the protocol allows."""

    code = "timeout"


class ProtocolError(DeviceError):
    """The device answered, but not in a way the protocol allows (bad frame, bad checksum)."""

    code = "protocol"


class NotSupported(DeviceError):
    """The device or driver cannot do what was asked. Never a silent no-op."""

    code = "not_supported"


class MediaError(DeviceError):
    """Paper, card or document trouble: paper out, jam, cover open, no card."""

    code = "media"


class ConfigurationError(DeviceError):
    """The settings given to a driver cannot work (a bad port name, a missing library)."""

    code = "configuration"
