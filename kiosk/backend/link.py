"""The kiosk's link to the registry: the embedded sandbox when configured, the client, the
outbox, and a heartbeat thread that registers the kiosk, reports its health and tells the rest
of the kiosk whether the registry is reachable (``backend:up`` / ``backend:down``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from drivers.base import Role, Status
from kiosk import __version__
from kiosk.audit import AuditLog
from kiosk.backend import models as m
from kiosk.backend.client import ClientSettings, RegistryClient
from kiosk.backend.errors import BackendError
from kiosk.config import SiteConfig
from kiosk.events import EventBus
from kiosk.outbox import Outbox
from kiosk.sealing import Sealer

if TYPE_CHECKING:
    from kiosk.sandbox.server import Sandbox

log = logging.getLogger(__name__)


class BackendLink:
    def __init__(
        self, config: SiteConfig, bus: EventBus, statuses: Callable[[], dict[Role, Status]]
    ) -> None:
        self.config = config
        self.bus = bus
        self._statuses = statuses
        self.sandbox: Sandbox | None = None
        self.client: RegistryClient | None = None
        self.outbox: Outbox | None = None
        self.audit: AuditLog | None = None  # shipped with each heartbeat when set
        self.up = False
        self.last_error = "not started"
        self.last_ok_at = 0.0  # when the registry last answered a heartbeat (Unix time)
        self.clock_offset_s = 0.0  # the registry's clock minus ours, at that heartbeat
        self._stop = threading.Event()
        self.checked = threading.Event()  # set once the first round has an answer
        self._thread: threading.Thread | None = None
        self._token_file = config.data_dir / "backend.token"

    def start(self) -> None:
        backend = self.config.backend
        data_dir = self.config.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        if backend.url == "embedded":
            from kiosk.sandbox.handlers import ENROLMENT_CODE
            from kiosk.sandbox.server import Sandbox

            # in its test mode: the training demo pays with its payer's phone simulator
            self.sandbox = Sandbox(
                data_dir / "sandbox.db", test_token=secrets.token_urlsafe(24)
            ).start()
            base_url, enrolment = self.sandbox.url, ENROLMENT_CODE
        else:
            base_url, enrolment = backend.url, backend.enrolment_code
        cert = (backend.client_cert, backend.client_key) if backend.client_cert else None
        self.client = RegistryClient(
            ClientSettings(
                base_url,
                read_timeout_s=backend.timeout_s,
                client_cert=cert,
                ca_bundle=backend.ca_bundle or None,
            ),
            token=self._saved_token() if backend.url != "embedded" else "",
        )
        self._enrolment = enrolment
        self.outbox = Outbox(
            data_dir / "outbox.db", self.client, Sealer(data_dir / "outbox.key"), self.bus
        )
        self.outbox.start()
        self._thread = threading.Thread(target=self._run, name="backend-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.outbox is not None:
            self.outbox.stop()
        if self.client is not None:
            self.client.close()
        if self.sandbox is not None:
            self.sandbox.stop()

    def check_now(self) -> bool:
        """One registration/heartbeat round (also what the thread does periodically)."""
        assert self.client is not None
        try:
            if not self.client.token:
                token = self.client.register(self.config.kiosk.id, self._enrolment).token
                self._save_token(token)
            devices = [
                m.DeviceState(
                    role.value, status.state.value, sorted(d.value for d in status.details)
                )
                for role, status in self._statuses().items()
            ]
            depth = self.outbox.depth() if self.outbox else 0
            sent = time.time()
            ack = self.client.heartbeat(
                m.Heartbeat(__version__, self.config.kiosk.site_mode.value, devices, depth)
            )
            answered = time.time()
            self.last_ok_at = answered
            self.clock_offset_s = _offset(ack.server_time, (sent + answered) / 2)
        except BackendError as err:
            self._set(False, str(err))
            return False
        self._set(True, "")
        if self.audit is not None and self.outbox is not None:
            self.audit.ship(self.outbox)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check_now()
            self.checked.set()
            self._stop.wait(self.config.backend.heartbeat_s if self.up else 5.0)

    def _set(self, up: bool, error: str) -> None:
        changed = up != self.up
        self.up, self.last_error = up, error
        if changed:
            log.info("registry link changed", extra={"up": up, "error": error})
            self.bus.publish("backend:status", up)
            self.bus.publish("backend:up" if up else "backend:down", error)

    def _saved_token(self) -> str:
        try:
            return self._token_file.read_text().strip()
        except FileNotFoundError:
            return ""

    def _save_token(self, token: str) -> None:
        if self.config.backend.url == "embedded":
            return
        fd = os.open(self._token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token)


def _offset(server_time: str, local: float) -> float:
    """The registry's clock minus ours (the midpoint of the call): 0 when it cannot tell."""
    try:
        server = dt.datetime.fromisoformat(server_time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
    return server - local
