"""Fleet health as Prometheus text on localhost: device states, counters, sessions, outbox.

Nothing personal: roles, states, detail codes, counts and durations only. Counters follow the
event bus (``idcard:inserted``, ``session:ended``, ``print:*``), so no part of the kiosk has
to know about metrics.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from drivers.base import Detail, Role, State
from kiosk.events import Subscription

if TYPE_CHECKING:
    from kiosk.core import Kiosk


class KioskMetrics:
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self._lock = threading.Lock()
        self.cards = 0
        self.sessions: Counter[str] = Counter()
        self.session_seconds = 0.0
        self.prints: Counter[tuple[str, str]] = Counter()
        self.pages: Counter[Role] = Counter()  # printed per printer
        self.faults: Counter[Role] = Counter()  # times a device went from usable to not
        # a device that never opened has not failed: start from what each device is now
        self._usable = {r.value: s.usable for r, s in kiosk.device_manager.statuses().items()}
        self._subscriptions: list[Subscription] = [
            kiosk.bus.subscribe("idcard:inserted", self._card),
            kiosk.bus.subscribe("session:ended", self._session),
            kiosk.bus.subscribe("print:*", self._print),
            kiosk.bus.subscribe("*:status", self._status),
        ]
        self._server: ThreadingHTTPServer | None = None

    def _card(self, _name: str, _payload: Any) -> None:
        with self._lock:
            self.cards += 1

    def _session(self, _name: str, payload: Any) -> None:
        with self._lock:
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

    def render(self) -> str:
        out: list[str] = []

        def metric(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
            out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(f"{name}{labels} {value:g}" for labels, value in samples)

        reports = self.kiosk.device_manager.reports()
        metric(
            "dengji_device_up",
            "gauge",
            "1 when the device can be used",
            [(f'{{role="{r.role}",driver="{r.driver}"}}', float(r.status.usable)) for r in reports],
        )
        metric(
            "dengji_device_state",
            "gauge",
            "1 for the device's current state",
            [
                (f'{{role="{r.role}",state="{s.value}"}}', float(r.status.state is s))
                for r in reports
                for s in State
            ],
        )
        metric(
            "dengji_device_detail",
            "gauge",
            "1 for each detail the device reports",
            [
                (f'{{role="{r.role}",detail="{d.value}"}}', 1.0)
                for r in reports
                for d in sorted(r.status.details, key=Detail)
            ],
        )
        metric(
            "dengji_device_open_attempts_total",
            "counter",
            "opens tried per device",
            [(f'{{role="{r.role}"}}', float(r.open_attempts)) for r in reports],
        )
        link = self.kiosk.backend
        metric(
            "dengji_backend_up",
            "gauge",
            "1 when the registry answers",
            [("", float(bool(link and link.up)))],
        )
        depth = link.outbox.depth() if link and link.outbox else 0
        metric(
            "dengji_outbox_depth", "gauge", "writes waiting for the registry", [("", float(depth))]
        )
        refused = link.outbox.needing_attention() if link and link.outbox else 0
        metric(
            "dengji_outbox_refused",
            "gauge",
            "writes the registry refused, kept for staff to finish",
            [("", float(refused))],
        )
        with self._lock:
            metric(
                "dengji_cards_read_total",
                "counter",
                "cards placed on the reader",
                [("", float(self.cards))],
            )
            metric(
                "dengji_sessions_total",
                "counter",
                "visits ended, by reason",
                [(f'{{reason="{r}"}}', float(n)) for r, n in sorted(self.sessions.items())],
            )
            metric(
                "dengji_session_seconds_total",
                "counter",
                "time spent in visits",
                [("", self.session_seconds)],
            )
            metric(
                "dengji_device_faults_total",
                "counter",
                "times a device stopped being usable",
                [(f'{{role="{r}"}}', float(n)) for r, n in sorted(self.faults.items())],
            )
            metric(
                "dengji_prints_total",
                "counter",
                "prints by kind and outcome",
                [
                    (f'{{kind="{k}",outcome="{o}"}}', float(n))
                    for (k, o), n in sorted(self.prints.items())
                ],
            )
        return "\n".join(out) + "\n"

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                body = metrics.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="metrics").start()
        return int(self._server.server_address[1])

    def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
