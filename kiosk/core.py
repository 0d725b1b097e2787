"""The composition root: configuration, profile, emulators, devices and the event bus.

Everything the kiosk is made of is built here, once, and injected; screens and commands get a
``Kiosk`` and never build parts themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from kiosk import profile_fit, technicians
from kiosk.audit import AuditLog
from kiosk.backend.link import BackendLink
from kiosk.card_reader import CardReader
from kiosk.config import SiteConfig
from kiosk.devices import DeviceManager
from kiosk.documents import fonts
from kiosk.events import EventBus
from kiosk.maintenance import (
    MaintenanceAccess,
    ServiceSwitch,
    calibration_path,
    load_calibration,
)
from kiosk.metrics import KioskMetrics
from kiosk.paper_ledger import PaperLedger
from kiosk.printing import PrintJournal, PrintService
from kiosk.profiles import Profile, load_profile
from kiosk.simulation import EmulatorHarness

log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    config: SiteConfig
    profile: Profile
    bus: EventBus = field(default_factory=EventBus)
    runtime_dir: Path | None = None
    emulate_all: bool = False
    harness: EmulatorHarness | None = None
    devices: DeviceManager | None = None
    card: CardReader | None = None
    backend: BackendLink | None = None
    audit: AuditLog | None = None
    printing: PrintService | None = None
    metrics: KioskMetrics | None = None
    maintenance: MaintenanceAccess | None = None
    service_switch: ServiceSwitch | None = None

    @classmethod
    def from_config(
        cls,
        config: SiteConfig,
        profile_name: str | None = None,
        *,
        runtime_dir: Path | None = None,
        emulate_all: bool = False,
    ) -> Kiosk:
        profile = load_profile(profile_name or config.kiosk.profile, config.kiosk.profile_dirs)
        return cls(config, profile, runtime_dir=runtime_dir, emulate_all=emulate_all)

    def start(self) -> None:
        """Start everything; a start that fails part-way stops what it started (emulators'
        schedulers, device threads, the registry link) before the error goes on."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.harness = EmulatorHarness(self.profile, self.runtime_dir, emulate_all=self.emulate_all)
        endpoints = self.harness.start()
        self.devices = DeviceManager(self.profile, self.bus, self.config.devices, endpoints)
        self.card = CardReader(self.devices, self.bus)
        for role, error in self.harness.errors.items():
            self.devices.devices[role].last_error = error
        self.devices.start()
        fonts.warm_up()
        self.backend = BackendLink(self.config, self.bus, self.devices.statuses)
        self.backend.start()
        data = self.config.data_dir
        self.audit = AuditLog(data / "audit.db", key_file=self.config.audit_key_file)
        interrupted = self.audit.close_interrupted_sessions()
        if interrupted:
            log.warning(
                "visits cut short by a restart were closed", extra={"sessions": len(interrupted)}
            )
        self.backend.audit = self.audit
        self.printing = PrintService(
            PrintJournal(data / "prints.db"),
            self.devices,
            self.audit,
            self.backend.outbox,
            bus=self.bus,
            ledger=PaperLedger(data / "paper.db", self.audit),
            calibration=load_calibration(calibration_path(self.config.source, data)),
        )
        pins = self.config.maintenance.technicians_file
        self.maintenance = MaintenanceAccess(
            technicians.load(Path(pins)) if pins else {}, self.audit, self.config.maintenance.idle_s
        )
        self.service_switch = ServiceSwitch(data / "service_state.json", self.audit)
        self.metrics = KioskMetrics(self)
        if self.config.metrics.port:
            try:
                port = self.metrics.serve(self.config.metrics.port, self.config.metrics.host)
                log.info("metrics served", extra={"port": port})
            except OSError as err:  # another kiosk process has the port: metrics stay off
                log.warning("metrics not served", extra={"error": str(err)})
        mode = self.config.kiosk.site_mode.value
        for problem in profile_fit.problems(self.profile, modes=(mode,)):
            log.error("the device profile cannot run a journey", extra={"problem": problem})
        log.info(
            "kiosk started",
            extra={"kiosk": self.config.kiosk.id, "profile": self.profile.name},
        )

    def wait_started(self, timeout: float = 10.0) -> None:
        """Give each device its first open attempt and the registry its first heartbeat, so
        the first screen shows the truth rather than a false alarm (CLI and tests only)."""
        self.device_manager.wait_first_attempts(timeout)
        self.backend_link.checked.wait(timeout)

    def stop(self) -> None:
        """Stop in the reverse order of use: the threads that write (registry link, devices)
        before the databases they write to."""
        if self.metrics is not None:
            self.metrics.stop()
        if self.backend is not None:
            self.backend.stop()
        if self.card is not None:
            self.card.close()
        if self.devices is not None:
            self.devices.stop()
        if self.printing is not None:
            self.printing.journal.close()
            if self.printing.ledger is not None:
                self.printing.ledger.close()
        if self.audit is not None:
            self.audit.close()
        if self.harness is not None:
            self.harness.stop()
        log.info("kiosk stopped", extra={"kiosk": self.config.kiosk.id})

    def __enter__(self) -> Kiosk:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def backend_link(self) -> BackendLink:
        if self.backend is None:
            raise RuntimeError("kiosk not started")
        return self.backend

    @property
    def audit_log(self) -> AuditLog:
        if self.audit is None:
            raise RuntimeError("kiosk not started")
        return self.audit

    @property
    def print_service(self) -> PrintService:
        if self.printing is None:
            raise RuntimeError("kiosk not started")
        return self.printing

    @property
    def card_reader(self) -> CardReader:
        if self.card is None:
            raise RuntimeError("kiosk not started")
        return self.card

    @property
    def device_manager(self) -> DeviceManager:
        if self.devices is None:
            raise RuntimeError("kiosk not started")
        return self.devices
