"""Fleet health as Prometheus metrics on localhost, through ``prometheus_client``.

Nothing personal: roles, states, detail codes, counts, times and durations only. Counters
follow the event bus (``idcard:inserted``, ``session:ended``, ``print:*``, ``outbox:sent``),
so no part of the kiosk has to know about metrics; gauges are read from the kiosk at scrape
time. ``dengji_kiosk_info`` carries the kiosk id, site, version and profile, for the fleet's
dashboards to join on (the agent on each kiosk also sets them as target labels).

The alerting rules that read these are in ``deploy/prometheus/`` (tested by promtool).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from drivers.base import Detail, Role, State
from kiosk import __version__
from kiosk.events import Subscription
from kiosk.services import availability

if TYPE_CHECKING:
    from kiosk.core import Kiosk

PRINTERS = (Role.RECEIPT, Role.CERTIFICATE)


def paper_state(details: frozenset[Detail]) -> float:
    """2 paper fine, 1 low, 0 out (a printer that reports neither counts as fine)."""
    if Detail.PAPER_OUT in details:
        return 0.0
    return 1.0 if Detail.PAPER_LOW in details else 2.0


class KioskMetrics(Collector):
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self._lock = threading.Lock()
        self.cards = 0
        self.sessions: Counter[str] = Counter()
        self.session_seconds = 0.0
        self.open_visits: set[str] = set()  # started, not yet ended (an update waits for none)
        self.prints: Counter[tuple[str, str]] = Counter()
        self.pages: Counter[Role] = Counter()  # printed per printer
        self.faults: Counter[Role] = Counter()  # times a device went from usable to not
        self.audit_acked_at = 0.0  # when the registry last took a batch of the audit chain
        # a device that never opened has not failed: start from what each device is now
        self._usable = {r.value: s.usable for r, s in kiosk.device_manager.statuses().items()}
        self._subscriptions: list[Subscription] = [
            kiosk.bus.subscribe("idcard:inserted", self._card),
            kiosk.bus.subscribe("session:started", self._visit_started),
            kiosk.bus.subscribe("session:ended", self._session),
            kiosk.bus.subscribe("print:*", self._print),
            kiosk.bus.subscribe("*:status", self._status),
            kiosk.bus.subscribe("outbox:sent", self._sent),
        ]
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        self._server: Any = None

    # -- what the bus says ----------------------------------------------------------------

    def _card(self, _name: str, _payload: Any) -> None:
        with self._lock:
            self.cards += 1

    def _visit_started(self, _name: str, payload: Any) -> None:
        with self._lock:
            self.open_visits.add(str(payload))

    def _session(self, _name: str, payload: Any) -> None:
        with self._lock:
            self.open_visits.discard(str(payload.get("id", "")))
            self.sessions[str(payload.get("reason", "unknown"))] += 1
            self.session_seconds += float(payload.get("duration_s", 0.0))

    def _print(self, name: str, payload: Any) -> None:
        with self._lock:
            self.prints[(str(payload.get("kind", "")), name.split(":", 1)[1])] += 1
            if name == "print:printed" and payload.get("role"):
                self.pages[Role(payload["role"])] += 1

    def _status(self, name: str, status: Any) -> None:
        role = name.split(":", 1)[0]
        usable = bool(getattr(status, "usable", True))
        if role not in {r.value for r in Role}:
            return  # the registry link's status is not a device
        with self._lock:
            if self._usable.get(role, False) and not usable:
                self.faults[Role(role)] += 1
            self._usable[role] = usable

    def _sent(self, _name: str, key: Any) -> None:
        if str(key).startswith("audit-"):
            with self._lock:
                self.audit_acked_at = time.time()

    # -- what a scrape reads --------------------------------------------------------------

    def describe(self) -> list[Any]:
        return []  # read at scrape time only (the registry does not call collect to describe)

    def collect(self) -> Iterator[Any]:
        kiosk = self.kiosk
        config = kiosk.config
        info = InfoMetricFamily("dengji_kiosk", "which kiosk this is (join on kiosk_id)")
        info.add_metric(
            [],
            {
                "kiosk_id": config.kiosk.id,
                "site": config.kiosk.site,
                "version": __version__,
                "profile": kiosk.profile.name,
                "site_mode": config.kiosk.site_mode.value,
                "training": str(config.training).lower(),
            },
        )
        yield info
        yield from self._devices()
        yield from self._registry_link()
        yield from self._service()
        yield from self._counters()

    def _devices(self) -> Iterator[Any]:
        reports = self.kiosk.device_manager.reports()
        up = GaugeMetricFamily(
            "dengji_device_up",
            "1 when the device can be used",
            labels=["role", "driver", "required"],
        )
        state = GaugeMetricFamily(
            "dengji_device_state", "1 for the device's current state", labels=["role", "state"]
        )
        detail = GaugeMetricFamily(
            "dengji_device_detail",
            "1 for each detail the device reports",
            labels=["role", "detail"],
        )
        opens = CounterMetricFamily(
            "dengji_device_open_attempts", "opens tried per device", labels=["role"]
        )
        paper = GaugeMetricFamily(
            "dengji_paper_state", "paper in the printer: 2 fine, 1 low, 0 out", labels=["role"]
        )
        for report in reports:
            role = report.role.value
            required = str(report.required).lower()
            up.add_metric([role, report.driver, required], float(report.status.usable))
            for value in State:
                state.add_metric([role, value.value], float(report.status.state is value))
            for code in sorted(report.status.details, key=Detail):
                detail.add_metric([role, code.value], 1.0)
            opens.add_metric([role], float(report.open_attempts))
            if report.role in PRINTERS:
                paper.add_metric([role], paper_state(report.status.details))
        yield from (up, state, detail, opens, paper)
        ledger = self.kiosk.printing.ledger if self.kiosk.printing is not None else None
        if ledger is not None:
            left = GaugeMetricFamily(
                "dengji_security_paper_sheets_left",
                "numbered certificate sheets loaded and not used",
            )
            left.add_metric([], float(sum(1 for s in ledger.states().values() if s == "loaded")))
            blocked = GaugeMetricFamily(
                "dengji_security_paper_blocked",
                "sheets the ledger could not reconcile (certificate printing paused)",
            )
            blocked.add_metric([], float(len(ledger.blocked())))
            yield from (left, blocked)

    def _registry_link(self) -> Iterator[Any]:
        link = self.kiosk.backend
        outbox = link.outbox if link is not None else None
        for name, text, value in (
            ("dengji_backend_up", "1 when the registry answers", float(bool(link and link.up))),
            (
                "dengji_backend_last_success_timestamp_seconds",
                "when the registry last answered a heartbeat (0: never)",
                link.last_ok_at if link is not None else 0.0,
            ),
            (
                "dengji_clock_offset_seconds",
                "the registry's clock minus the kiosk's, at the last heartbeat",
                link.clock_offset_s if link is not None else 0.0,
            ),
            (
                "dengji_outbox_depth",
                "writes waiting for the registry",
                float(outbox.depth() if outbox else 0),
            ),
            (
                "dengji_outbox_refused",
                "writes the registry refused, kept for staff to finish (needing attention)",
                float(outbox.needing_attention() if outbox else 0),
            ),
            (
                "dengji_audit_last_acknowledged_timestamp_seconds",
                "when the registry last took a batch of the audit chain (0: not since start)",
                self.audit_acked_at,
            ),
            (
                "dengji_audit_pending_records",
                "audit records the registry has not acknowledged (not handed over, or in flight)",
                float(self._audit_pending()),
            ),
        ):
            gauge = GaugeMetricFamily(name, text)
            gauge.add_metric([], value)
            yield gauge

    def _audit_pending(self) -> int:
        audit, link = self.kiosk.audit, self.kiosk.backend
        pending = audit.unshipped() if audit is not None else 0
        if link is not None and link.outbox is not None:
            for key in link.outbox.pending_keys("audit"):  # "audit-<first>-<last>"
                _, first, last = key.split("-")
                pending += int(last) - int(first) + 1
        return pending

    def _service(self) -> Iterator[Any]:
        """Each home-screen service available or not (the home screen's own view), and
        whether the kiosk is out of service altogether."""
        kiosk = self.kiosk
        statuses = kiosk.device_manager.statuses()
        link_up = kiosk.backend is not None and kiosk.backend.up
        gauge = GaugeMetricFamily(
            "dengji_service_available", "1 when the service is offered now", labels=["service"]
        )
        for service in availability(kiosk.config.services.enabled, dict(statuses), link_up):
            gauge.add_metric([service.service.name], float(service.available))
        yield gauge
        switch = kiosk.service_switch
        out = bool(kiosk.device_manager.required_down()) or (
            switch is not None and switch.state()[0]
        )
        down = GaugeMetricFamily(
            "dengji_out_of_service", "1 when the kiosk shows its out-of-service screen"
        )
        down.add_metric([], float(out))
        yield down
        with self._lock:
            visits = len(self.open_visits)
        visit = GaugeMetricFamily(
            "dengji_visit_open",
            "1 while a visit (or a bank operator's session) is open: an update waits for 0",
        )
        visit.add_metric([], float(visits > 0))
        yield visit

    def _counters(self) -> Iterator[Any]:
        with self._lock:
            cards = CounterMetricFamily("dengji_cards_read", "cards placed on the reader")
            cards.add_metric([], float(self.cards))
            sessions = CounterMetricFamily(
                "dengji_sessions", "visits ended, by reason", labels=["reason"]
            )
            for reason, count in sorted(self.sessions.items()):
                sessions.add_metric([reason], float(count))
            seconds = CounterMetricFamily("dengji_session_seconds", "time spent in visits")
            seconds.add_metric([], self.session_seconds)
            faults = CounterMetricFamily(
                "dengji_device_faults", "times a device stopped being usable", labels=["role"]
            )
            for role, count in sorted(self.faults.items()):
                faults.add_metric([role.value], float(count))
            prints = CounterMetricFamily(
                "dengji_prints", "prints by kind and outcome", labels=["kind", "outcome"]
            )
            for (kind, outcome), count in sorted(self.prints.items()):
                prints.add_metric([kind, outcome], float(count))
        yield from (cards, sessions, seconds, faults, prints)

    # -- serving --------------------------------------------------------------------------

    def render(self) -> str:
        return generate_latest(self.registry).decode()

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve /metrics on loopback (the kiosk's agent scrapes it); returns the port."""
        self._server, _thread = start_http_server(port, host, self.registry)
        return int(self._server.server_address[1])

    def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
