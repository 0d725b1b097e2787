"""Typed errors of the registry gateway client. The UI maps them to messages at one place."""

from __future__ import annotations


class BackendError(Exception):
    """Base of every client error. ``retryable``: trying again later may succeed."""

    retryable = False

    def __init__(self, message: str, *, status: int = 0, error: str = "", field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.field = field


class BackendUnreachable(BackendError):
    """No connection (refused, DNS, TLS), or the connection broke before an answer."""

    retryable = True


class BackendTimeout(BackendError):
    retryable = True


class BackendServerError(BackendError):
    """The gateway answered 5xx."""

    retryable = True


class BackendRejected(BackendError):
    """400/413: the request is wrong; ``field`` and the message say what."""


class BackendUnauthorized(BackendError):
    """401/403: no valid kiosk token, or an operator locked out."""


class BackendNotFound(BackendError):
    pass


class BackendConflict(BackendError):
    """409: a business rule refused it, or an idempotency key was reused with other content."""
