"""A4/A3 certificate printer through CUPS (pycups, the ``cups`` extra)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from drivers.base import (
    NOT_OPENED,
    CertificateCapabilities,
    Detail,
    Role,
    SelfTestResult,
    SelfTestStep,
    State,
    Status,
    unavailable_detail,
)
from drivers.errors import (
    ConfigurationError,
    DeviceTimeout,
    DeviceUnavailable,
    MediaError,
    ServiceUnavailable,
)

IPP_IDLE, IPP_PROCESSING, IPP_STOPPED = 3, 4, 5

# printer-state-reasons keywords (RFC 8011 / PWG 5100.9), without their -error/-warning suffix.
REASON_DETAILS = {
    "media-empty": Detail.PAPER_OUT,
    "media-needed": Detail.PAPER_OUT,
    "media-low": Detail.PAPER_LOW,
    "media-jam": Detail.JAMMED,
    "door-open": Detail.COVER_OPEN,
    "cover-open": Detail.COVER_OPEN,
    "toner-low": Detail.TONER_LOW,
    "marker-supply-low": Detail.TONER_LOW,
    "offline": Detail.DISCONNECTED,
    "connecting-to-device": Detail.DISCONNECTED,
}
BLOCKING = frozenset({Detail.PAPER_OUT, Detail.JAMMED, Detail.COVER_OPEN, Detail.DISCONNECTED})
MEDIA_CODES = {
    Detail.PAPER_OUT: "paper_out",
    Detail.JAMMED: "jammed",
    Detail.COVER_OPEN: "cover_open",
    Detail.DISCONNECTED: "printer_offline",
    Detail.PRINTER_STOPPED: "printer_stopped",
}
JOB_STOPPED, JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = 6, 7, 8, 9


@dataclass(frozen=True)
class CupsSettings:
    """Profile keys of a ``cups`` printer. ``server`` is a host[:port] or a socket path."""

    queue: str
    server: str = ""
    media: str = "A4"


def status_from_attributes(attributes: dict[str, Any]) -> Status:
    """Map a queue's IPP attributes to a status snapshot."""
    state_code = int(attributes.get("printer-state", 0))
    reasons = attributes.get("printer-state-reasons", [])
    if isinstance(reasons, str):
        reasons = [reasons]
    details: set[Detail] = set()
    for reason in reasons:
        keyword = str(reason)
        for suffix in ("-error", "-warning", "-report"):
            keyword = keyword.removesuffix(suffix)
        if keyword in REASON_DETAILS:
            details.add(REASON_DETAILS[keyword])
    if not attributes.get("printer-is-accepting-jobs", True):
        details.add(Detail.NOT_ACCEPTING)
    message = str(attributes.get("printer-state-message", ""))
    for keyword, detail in REASON_DETAILS.items():  # a stopped queue says why in its message
        if keyword in message:
            details.add(detail)
    if state_code == IPP_STOPPED:
        details.add(Detail.PRINTER_STOPPED)
        return Status(State.ERROR, frozenset(details), message)
    if details & BLOCKING or Detail.NOT_ACCEPTING in details:
        return Status(State.ERROR, frozenset(details), message)
    if state_code == IPP_PROCESSING:
        return Status(State.BUSY, frozenset(details), message)
    if state_code == IPP_IDLE:
        return Status(State.READY, frozenset(details), message)
    return Status(State.UNKNOWN, frozenset(details | {Detail.STATUS_UNKNOWN}), message)


class CupsPrinter:
    role = Role.CERTIFICATE
    settings_type = CupsSettings
    ATTRIBUTES = (
        "printer-state",
        "printer-state-reasons",
        "printer-state-message",
        "printer-is-accepting-jobs",
        "printer-make-and-model",
    )

    def __init__(self, settings: CupsSettings) -> None:
        self.settings = settings
        self._connection: Any = None
        self._status = NOT_OPENED
        self._model = ""

    @property
    def capabilities(self) -> CertificateCapabilities:
        return CertificateCapabilities(
            model=self._model, queue=self.settings.queue, media=self.settings.media
        )

    def open(self) -> None:
        self.close()
        try:
            import cups
        except ImportError as err:
            raise ConfigurationError("pycups is not installed (the 'cups' extra)") from err
        try:
            if self.settings.server:
                connection = cups.Connection(host=self.settings.server)
            else:
                connection = cups.Connection()
        except RuntimeError as err:
            raise ServiceUnavailable("cupsd", f"CUPS is not reachable: {err}") from err
        self._connection = connection
        try:
            attributes = self._attributes()
        except DeviceUnavailable:
            self.close()
            raise
        self._model = str(attributes.get("printer-make-and-model", ""))
        self._status = status_from_attributes(attributes)

    def close(self) -> None:
        self._connection = None
        self._status = NOT_OPENED

    def status(self) -> Status:
        return self._status

    def poll(self) -> Status:
        try:
            self._status = status_from_attributes(self._attributes())
        except DeviceUnavailable as err:
            self._status = Status(State.OFFLINE, frozenset({unavailable_detail(err)}), str(err))
            raise
        return self._status

    def self_test(self) -> SelfTestResult:
        try:
            status = self.poll()
        except DeviceUnavailable as err:
            return SelfTestResult((SelfTestStep("queue", False, str(err)),))
        return SelfTestResult(
            (SelfTestStep("queue", status.state is State.READY, status.state.value),)
        )

    def print_pdf(self, path: str, title: str) -> int:
        connection = self._require_open()
        status = self.poll()
        if status.state is State.ERROR:
            blocking = sorted(status.details & BLOCKING) or [Detail.PRINTER_STOPPED]
            raise MediaError(
                f"printer cannot print now: {status.message or blocking[0].value}",
                code=MEDIA_CODES.get(blocking[0], "printer_error"),
            )
        try:
            # the profile's paper, whatever the server's default size (often US Letter)
            options = {"media": self.settings.media, "PageSize": self.settings.media}
            return int(connection.printFile(self.settings.queue, path, title, options))
        except Exception as err:  # cups.IPPError carries (status, message)
            raise DeviceUnavailable(f"CUPS refused the job: {err}") from err

    def wait_job(self, job_id: int, timeout_s: float = 120.0, poll_s: float = 0.2) -> None:
        """Follow a job to the end. Paper out, a jam or an open door while it waits or prints
        end it with ``MediaError`` (the job is cancelled so it cannot surprise anyone later)."""
        connection = self._require_open()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                job = connection.getJobAttributes(
                    job_id,
                    requested_attributes=[
                        "job-state",
                        "job-state-reasons",
                        "job-printer-state-message",
                    ],
                )
            except Exception as err:
                raise DeviceUnavailable(f"cannot follow job {job_id}: {err}") from err
            state = int(job.get("job-state", 0))
            if state == JOB_COMPLETED:
                return
            if state in (JOB_CANCELED, JOB_ABORTED, JOB_STOPPED):
                if state == JOB_STOPPED:  # halted by an error (a filter failed): give it up
                    self.cancel_job(job_id)
                why = job.get("job-printer-state-message", "") or state
                raise MediaError(f"job {job_id} ended without printing ({why})", code="job_aborted")
            status = self.poll()
            blocking = status.details & BLOCKING
            if blocking or status.state is State.ERROR:
                self.cancel_job(job_id)
                detail = sorted(blocking)[0] if blocking else Detail.PRINTER_STOPPED
                raise MediaError(
                    f"the printer stopped: {status.message or detail.value}",
                    code=MEDIA_CODES.get(detail, "printer_error"),
                )
            if time.monotonic() > deadline:
                self.cancel_job(job_id)
                raise DeviceTimeout(f"job {job_id} did not finish in {timeout_s:.0f}s")
            time.sleep(poll_s)

    def cancel_job(self, job_id: int) -> None:
        connection = self._require_open()
        try:
            connection.cancelJob(job_id, purge_job=False)
        except Exception:  # already finished or gone: nothing left to cancel
            pass

    def _require_open(self) -> Any:
        if self._connection is None:
            raise DeviceUnavailable("printer is not open")
        return self._connection

    def _attributes(self) -> dict[str, Any]:
        connection = self._require_open()
        try:
            return dict(
                connection.getPrinterAttributes(
                    self.settings.queue, requested_attributes=list(self.ATTRIBUTES)
                )
            )
        except Exception as err:  # cups.IPPError, RuntimeError on a lost connection
            if _cupsd_gone(err):
                raise ServiceUnavailable("cupsd", f"CUPS is not reachable: {err}") from err
            raise DeviceUnavailable(f"queue {self.settings.queue!r}: {err}") from err


def _cupsd_gone(err: Exception) -> bool:
    """Whether pycups failed to talk to cupsd at all (rather than about the queue)."""
    text = str(err).lower()
    return any(word in text for word in ("connect", "refused", "no such file", "broken pipe"))
