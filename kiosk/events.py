"""A small thread-safe publish/subscribe bus for events named ``"<source>:<event>"``.

Subscribers get a handle to unsubscribe: a kiosk runs for weeks, and a screen that goes away
must let go of its callbacks. Callbacks run on the publishing thread; a UI subscriber hops to
the UI thread itself (Kivy's clock).
"""

from __future__ import annotations

import fnmatch
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Callback = Callable[[str, Any], None]


@dataclass
class Subscription:
    pattern: str
    callback: Callback
    _bus: EventBus | None = field(default=None, repr=False)

    def cancel(self) -> None:
        if self._bus is not None:
            self._bus._remove(self)
            self._bus = None


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []

    def subscribe(self, pattern: str, callback: Callback) -> Subscription:
        """``pattern`` is a shell-style match on the event name, e.g. ``"receipt:*"``."""
        subscription = Subscription(pattern, callback, self)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def publish(self, name: str, payload: Any = None) -> None:
        with self._lock:
            targets = [s for s in self._subscriptions if fnmatch.fnmatchcase(name, s.pattern)]
        for subscription in targets:
            try:
                subscription.callback(name, payload)
            except Exception:
                log.exception("event subscriber failed", extra={"event": name})

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
