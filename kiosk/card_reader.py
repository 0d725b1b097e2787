"""The ID card reader during a visit: one owner, events instead of pollers.

Only the reader's supervisor (``kiosk.devices``) asks the reader whether a card is on it: its
find-card poll, at the reader's own pace. Every change it sees is published as
``"idcard:status"``; this turns those into what a journey needs: wait until a card is placed
(bound to the visit, so a visit that ends stops the wait), read it (one job on the reader's
worker), and hear when it is taken away. Before this, the journey's read loop, the screen's
removal watch and the supervisor each sent their own find-card frames down one serial line.

A reader that fails is not a removed card: a removal is the reader, working, saying no card.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from drivers.base import Detail, Role, State, Status
from drivers.idcard.identity import IdentityDocument
from kiosk.events import EventBus
from kiosk.flows.deps import DeviceJobs

WAKE_S = 0.25  # how soon a wait notices the visit ended (a status change wakes it at once)


class VisitOver(Exception):
    """The visit ended while its work was under way: the result belongs to nobody."""


def card_on(status: Status | None) -> bool:
    """Whether the reader, working, last saw a card on it."""
    return (
        status is not None and status.state is State.READY and Detail.CARD_PRESENT in status.details
    )


def card_off(status: Status) -> bool:
    """Whether the reader, working, last saw no card (a fault says nothing about the card)."""
    return status.state is State.READY and Detail.NO_CARD in status.details


def card_off_now(status: Status | None) -> bool:
    """``card_off`` for a status that may not be known yet."""
    return status is not None and card_off(status)


class CardReader:
    """The reader as the journeys see it; one per kiosk (it listens on the kiosk's bus)."""

    def __init__(self, devices: DeviceJobs, bus: EventBus) -> None:
        self._devices = devices
        self._changed = threading.Condition()
        self._removed: list[Callable[[], None]] = []
        self._subscription = bus.subscribe("idcard:status", self._on_status)

    def present(self) -> bool:
        return card_on(self._devices.statuses().get(Role.IDCARD))

    def wait_placed(self, over: threading.Event, timeout_s: float) -> bool:
        """Until a card is on the reader (True), the time is up (False), or the visit ended
        (``VisitOver``). Woken by the supervisor's status events, not by asking the reader."""
        return self._wait(self.present, over, timeout_s, "before a card was placed")

    def wait_removed(self, over: threading.Event, timeout_s: float) -> bool:
        """Until no card is on the reader (True), the time is up (False), or the visit ended
        (``VisitOver``): the person before takes their card before the next one places
        theirs. A reader fault is not a removal: the wait goes on until it works again."""

        def taken() -> bool:
            return card_off_now(self._devices.statuses().get(Role.IDCARD))

        return self._wait(taken, over, timeout_s, "before the card was taken away")

    def _wait(
        self, done: Callable[[], bool], over: threading.Event, timeout_s: float, what: str
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not done():
                if over.is_set():
                    raise VisitOver(f"the visit ended {what}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, WAKE_S))
        return True

    def read(self, timeout_s: float = 20.0) -> IdentityDocument:
        """Read the card on the reader: one job on the reader's worker."""
        document: IdentityDocument = self._devices.submit(
            Role.IDCARD, lambda reader: reader.read_identity()
        ).result(timeout_s)
        return document

    def on_removed(self, callback: Callable[[], None]) -> Callable[[], None]:
        """``callback`` (on the supervisor's thread) each time the card is taken away; returns
        what stops it."""
        with self._changed:
            self._removed.append(callback)

        def stop() -> None:
            with self._changed:
                if callback in self._removed:
                    self._removed.remove(callback)

        return stop

    def close(self) -> None:
        self._subscription.cancel()

    def _on_status(self, _name: str, status: Status) -> None:
        with self._changed:
            self._changed.notify_all()
            listeners = list(self._removed) if card_off(status) else []
        for listener in listeners:
            listener()
