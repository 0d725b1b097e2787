"""The composition root for hardware: profile → registry → drivers, supervised.

Each device gets one worker thread that owns the driver: it opens it, polls it, runs the work
submitted for it, and when the device fails or drops it closes it and reopens it with
exponential backoff. Status changes are published as ``"<role>:status"`` plus
``"<role>:<state>"`` (``receipt:offline``, ``receipt:ready``). The kiosk starts even when a
device is missing: that device is simply OFFLINE with the reason.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from drivers.base import (
    Detail,
    Device,
    Role,
    SelfTestResult,
    SelfTestStep,
    State,
    Status,
    unavailable_detail,
)
from drivers.errors import DeviceError
from drivers.registry import DRIVERS
from kiosk.config import DevicesSection
from kiosk.events import EventBus
from kiosk.profiles import DeviceSpec, Profile

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class DeviceReport:
    """What the manager knows of one device, for diagnostics and the home screen."""

    role: Role
    driver: str
    required: bool
    status: Status
    capabilities: dict[str, object]
    open_attempts: int
    last_error: str


class SupervisedDevice:
    def __init__(
        self,
        spec: DeviceSpec,
        device: Device | None,
        bus: EventBus,
        timing: DevicesSection,
        build_error: str = "",
    ) -> None:
        self.spec = spec
        self.device = device
        self._bus = bus
        self._timing = timing
        self._jobs: queue.Queue[tuple[Callable[[Device], Any], Future[Any]] | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._open = False
        self.open_attempts = 0
        self.last_error = build_error
        initial = Detail.NOT_OPENED if device is not None else Detail.STATUS_UNKNOWN
        self._status = Status(State.OFFLINE, frozenset({initial}), build_error or "starting")

    @property
    def status(self) -> Status:
        with self._lock:
            return self._status

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"device-{self.spec.role}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def submit(self, job: Callable[[Device], T]) -> Future[T]:
        """Run ``job(driver)`` on this device's worker thread; fails fast when it is down."""
        future: Future[T] = Future()
        if self._stop.is_set():
            future.set_exception(DeviceError("device manager is stopped"))
        else:
            self._jobs.put((job, future))
        return future

    # -- worker ---------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self._timing.reopen_backoff_min_s
        device = self.device
        if device is None:
            return  # could not even be built: the status says why
        while not self._stop.is_set():
            if not self._open:
                if self._try_open(device):
                    backoff = self._timing.reopen_backoff_min_s
                else:
                    self._wait_failing_jobs(backoff)
                    backoff = min(backoff * 2, self._timing.reopen_backoff_max_s)
                    continue
            try:
                item = self._jobs.get(timeout=self._poll_interval(device))
            except queue.Empty:
                self._poll(device)
                continue
            if item is None:
                continue
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job(device))
            except DeviceError as err:
                future.set_exception(err)
                self._poll(device)
            except Exception as err:
                future.set_exception(err)
        self._close(device)

    def _poll_interval(self, device: Device) -> float:
        """A driver may ask for its own pace (a card reader polls for the card faster)."""
        own = getattr(device, "poll_interval_s", None)
        return (
            float(own)
            if isinstance(own, int | float) and own > 0
            else (self._timing.poll_interval_s)
        )

    def _try_open(self, device: Device) -> bool:
        self.open_attempts += 1
        try:
            device.open()
        except Exception as err:
            self.last_error = str(err)
            reason = _detail_for(err)
            self._set(Status(State.OFFLINE, frozenset({reason}), str(err)))
            log.warning(
                "device open failed",
                extra={"role": str(self.spec.role), "driver": self.spec.driver, "error": str(err)},
            )
            return False
        self._open = True
        self.last_error = ""
        self._set(device.status())
        log.info("device opened", extra={"role": str(self.spec.role), "driver": self.spec.driver})
        return True

    def _poll(self, device: Device) -> None:
        try:
            self._set(device.poll())
        except Exception as err:
            self.last_error = str(err)
            log.warning("device lost", extra={"role": str(self.spec.role), "error": str(err)})
            self._close(device)
            self._set(Status(State.OFFLINE, frozenset({_detail_for(err)}), str(err)))

    def _close(self, device: Device) -> None:
        if self._open:
            try:
                device.close()
            except Exception:
                log.exception("device close failed", extra={"role": str(self.spec.role)})
        self._open = False

    def _wait_failing_jobs(self, delay: float) -> None:
        """Sleep until the next open attempt, failing any job that arrives meanwhile."""
        deadline = time.monotonic() + delay
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                item = self._jobs.get(timeout=remaining)
            except queue.Empty:
                return
            if item is not None:
                _, future = item
                future.set_exception(DeviceError(f"{self.spec.role} is offline: {self.last_error}"))

    def _set(self, status: Status) -> None:
        with self._lock:
            previous, self._status = self._status, status
        if not previous.same_condition(status):
            role = self.spec.role.value
            self._bus.publish(f"{role}:status", status)
            if previous.state is not status.state:
                self._bus.publish(f"{role}:{status.state.value}", status)
            for detail in sorted(status.details - previous.details):
                self._bus.publish(f"{role}:{DETAIL_EVENTS.get(detail, detail.value)}", status)
            for detail in sorted(previous.details - status.details):
                if detail in CLEARED_EVENTS:
                    self._bus.publish(f"{role}:{CLEARED_EVENTS[detail]}", status)


# A detail that appears is published as "<role>:<name>" (``receipt:paper_low``); these have
# names of their own, and these also announce when they go away.
DETAIL_EVENTS = {Detail.CARD_PRESENT: "inserted"}
CLEARED_EVENTS = {
    Detail.CARD_PRESENT: "removed",
    Detail.PAPER_LOW: "paper_ok",
    Detail.PAPER_OUT: "paper_loaded",
}


def _detail_for(err: Exception) -> Detail:
    from drivers.errors import DeviceTimeout, ProtocolError

    if isinstance(err, DeviceTimeout):
        return Detail.NO_RESPONSE
    if isinstance(err, ProtocolError):
        return Detail.PROTOCOL_ERROR
    return unavailable_detail(err)


class DeviceManager:
    """Builds, supervises and reports every device of a profile."""

    def __init__(
        self,
        profile: Profile,
        bus: EventBus,
        timing: DevicesSection,
        endpoints: dict[Role, dict[str, object]] | None = None,
    ) -> None:
        self.profile = profile
        self.bus = bus
        self.devices: dict[Role, SupervisedDevice] = {}
        endpoints = endpoints or {}
        for role, spec in profile.devices.items():
            device: Device | None = None
            error = ""
            try:
                settings = spec.settings_with(endpoints.get(role, {}))
                device = DRIVERS[spec.driver].create(settings)
            except Exception as err:  # a bad setting or a missing extra: that device only
                error = f"cannot build {spec.driver}: {err}"
                log.error("device not built", extra={"role": str(role), "error": error})
            self.devices[role] = SupervisedDevice(spec, device, bus, timing, error)

    def start(self) -> None:
        for device in self.devices.values():
            device.start()

    def stop(self) -> None:
        for device in self.devices.values():
            device.stop()

    def statuses(self) -> dict[Role, Status]:
        return {role: device.status for role, device in self.devices.items()}

    def submit(self, role: Role, job: Callable[[Device], T]) -> Future[T]:
        device = self.devices.get(role)
        if device is None:
            future: Future[T] = Future()
            future.set_exception(DeviceError(f"this kiosk has no {role} device"))
            return future
        return device.submit(job)

    def required_down(self) -> list[Role]:
        return [
            role
            for role, device in self.devices.items()
            if device.spec.required and not device.status.usable
        ]

    def wait_first_attempts(self, timeout: float) -> bool:
        """Block until every buildable device has tried to open once (CLI and tests only)."""
        return self.wait_until(
            lambda _: all(d.open_attempts > 0 or d.device is None for d in self.devices.values()),
            timeout,
        )

    def wait_until(self, predicate: Callable[[dict[Role, Status]], bool], timeout: float) -> bool:
        """Block until ``predicate(statuses)`` holds (for the CLI and tests, never the UI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.statuses()):
                return True
            time.sleep(0.02)
        return predicate(self.statuses())

    def reports(self) -> list[DeviceReport]:
        out = []
        for role, supervised in self.devices.items():
            device = supervised.device
            capabilities = device.capabilities.as_dict() if device is not None else {}
            out.append(
                DeviceReport(
                    role,
                    supervised.spec.driver,
                    supervised.spec.required,
                    supervised.status,
                    capabilities,
                    supervised.open_attempts,
                    supervised.last_error,
                )
            )
        return out

    def self_test(self, role: Role, timeout: float = 30.0) -> SelfTestResult:
        supervised = self.devices[role]
        if not supervised.status.usable:
            reason = supervised.last_error or supervised.status.message
            return SelfTestResult((SelfTestStep("open", False, reason),))
        try:
            return supervised.submit(lambda device: device.self_test()).result(timeout)
        except Exception as err:
            return SelfTestResult((SelfTestStep("self_test", False, str(err)),))
