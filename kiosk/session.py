"""One person's visit, from the first touch to the end, with its idle countdown and its wipe.

Personal data of the visit lives only in the session's memory; ``end()`` clears it and forgets
the names registered for log redaction. The clock is injected so the idle logic is tested
without waiting, and the UI only calls ``touch()`` and ``tick()``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from kiosk.config import SessionSection
from kiosk.events import EventBus
from kiosk.redact import REDACTOR

log = logging.getLogger(__name__)


class Phase(StrEnum):
    ACTIVE = "active"
    WARNING = "warning"  # the countdown is on screen
    ENDED = "ended"


class Session:
    def __init__(
        self,
        timing: SessionSection,
        bus: EventBus,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = uuid.uuid4().hex
        self._timing = timing
        self._bus = bus
        self._clock = clock
        self._last_touch = clock()
        self.started = self._last_touch
        self.phase = Phase.ACTIVE
        self.end_reason = ""
        self.elder = False
        self.data: dict[str, Any] = {}
        self.wiped: list[str] = []

    @property
    def idle_timeout_s(self) -> float:
        factor = self._timing.elder_timeout_factor if self.elder else 1.0
        return self._timing.idle_timeout_s * factor

    @property
    def warning_s(self) -> float:
        factor = self._timing.elder_timeout_factor if self.elder else 1.0
        return self._timing.warning_s * factor

    def touch(self) -> None:
        """The person did something: the idle clock starts again, the countdown goes away."""
        if self.phase is Phase.ENDED:
            return
        self._last_touch = self._clock()
        if self.phase is Phase.WARNING:
            self.phase = Phase.ACTIVE
            self._bus.publish("session:resumed", self.id)

    def seconds_left(self) -> float:
        """Seconds until the session ends by itself if nobody touches the screen."""
        idle = self._clock() - self._last_touch
        return max(0.0, self.idle_timeout_s + self.warning_s - idle)

    def tick(self) -> Phase:
        if self.phase is Phase.ENDED:
            return self.phase
        idle = self._clock() - self._last_touch
        if idle >= self.idle_timeout_s + self.warning_s:
            self.end("idle")
        elif idle >= self.idle_timeout_s and self.phase is Phase.ACTIVE:
            self.phase = Phase.WARNING
            self._bus.publish("session:warning", self.id)
        return self.phase

    def remember_person(self, key: str, value: Any, name: str = "") -> None:
        """Keep a personal value for this visit only; a name is also masked in every log."""
        self.data[key] = value
        if name:
            REDACTOR.register_name(name)

    def end(self, reason: str) -> None:
        if self.phase is Phase.ENDED:
            return
        wiped = sorted(self.data)
        self.wiped = wiped  # for the purge record, whoever ended the visit
        self.data.clear()
        REDACTOR.forget_names()
        self.phase = Phase.ENDED
        self.end_reason = reason
        log.info(
            "session ended",
            extra={"session": self.id, "reason": reason, "wiped": ",".join(wiped)},
        )
        duration = self._clock() - self.started
        self._bus.publish(
            "session:ended",
            {"id": self.id, "reason": reason, "wiped": wiped, "duration_s": duration},
        )
