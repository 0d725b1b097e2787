"""The home shell's view-model: language, large text, the session, what the home screen shows.

UI-free: the Kivy screens read it and call it; tests drive it without a window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.base import Role
from kiosk.config import SiteMode
from kiosk.core import Kiosk
from kiosk.flows.spec import load_flows
from kiosk.services import ServiceAvailability, availability, devices_text
from kiosk.session import Phase, Session
from kiosk.voice import VoicePrompts


@dataclass(frozen=True)
class OutOfService:
    """Why the kiosk serves no one now, what still holds, and the device list: Chinese first."""

    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    detail_zh: str = ""
    detail_en: str = ""


MAINTENANCE = ("设备维护中，暂停服务", "Out of service for maintenance")
DEVICES_DOWN = ("设备故障，暂停服务", "Out of service: a device is not working")
REGISTRY_DOWN = ("暂时无法连接登记系统", "The registry cannot be reached just now")
COUNTER = (
    "请到人工窗口办理，给您带来不便，敬请谅解",
    "Please go to a service counter. We apologise for the inconvenience",
)
REGISTRY_BODY = (
    "网络恢复后本机自动恢复服务；已在本机提交的申请均已保存，将自动发送，无需重新办理。急办请到人工窗口",
    "The kiosk comes back by itself when the link does; applications filed here are kept and "
    "sent then, nothing to do again. For urgent matters please go to a counter",
)


class Shell:
    def __init__(self, kiosk: Kiosk, clock: Callable[[], float] = time.monotonic) -> None:
        self.kiosk = kiosk
        self._clock = clock
        self.default_language = kiosk.config.kiosk.languages[0]
        self.language = self.default_language
        self.large_text = False
        self.session: Session | None = None
        self.timing = kiosk.config.session  # the idle timeouts of the next visit
        self.flows = load_flows()  # the journeys, checked once at start
        self.voice = VoicePrompts(kiosk.config.data_dir / "voice", kiosk.config.ui.voice)

    # -- session --------------------------------------------------------------------------

    def begin_session(self) -> Session:
        if self.session is not None:
            self.session.end("replaced")
        self.session = Session(self.timing, self.kiosk.bus, self._clock)
        if self.kiosk.audit is not None:  # so a visit cut short by a crash is closed at start
            self.kiosk.audit.record("kiosk", "session.start", "started", session=self.session.id)
        self.kiosk.bus.publish("session:started", self.session.id)
        return self.session

    def end_session(self, reason: str) -> None:
        """End the visit: wipe it, and give the next person the default language and text."""
        if self.session is not None:
            self.session.end(reason)  # no-op when it ended by itself (idle)
            wiped = self.session.wiped
            if self.kiosk.audit is not None:  # what was wiped, and when: for the evidence chain
                self.kiosk.audit.record(
                    "kiosk",
                    "session.purge",
                    "wiped",
                    session=self.session.id,
                    reason=reason,
                    wiped=",".join(wiped),
                )
            self.session = None
        self.language = self.default_language
        self.large_text = False
        self.voice.reset()

    def touch(self) -> None:
        if self.session is not None:
            self.session.touch()

    def tick(self) -> Phase | None:
        """Advance the idle clock; when the session times out it is ended here."""
        if self.session is None:
            return None
        phase = self.session.tick()
        if phase is Phase.ENDED:
            self.end_session("idle")
        return phase

    # -- settings -------------------------------------------------------------------------

    def toggle_language(self) -> str:
        languages = self.kiosk.config.kiosk.languages
        index = languages.index(self.language) if self.language in languages else -1
        self.language = languages[(index + 1) % len(languages)]
        return self.language

    def toggle_large_text(self) -> bool:
        self.large_text = not self.large_text
        return self.large_text

    # -- what the home screen shows -------------------------------------------------------

    def services(self) -> list[ServiceAvailability]:
        return self._availability(self.kiosk.config.services.enabled)

    def bank_services(self) -> list[ServiceAvailability]:
        """The bank service point's applications, as the operator's workbench offers them."""
        return self._availability(self.kiosk.config.bank.services)

    def _availability(self, names: tuple[str, ...]) -> list[ServiceAvailability]:
        statuses = self.kiosk.device_manager.statuses()
        backend_up = self.kiosk.backend is not None and self.kiosk.backend.up
        return availability(
            names,
            dict(statuses),
            backend_up,
            # a service with a journey needs what the journey's steps need
            {name: flow.needs for name, flow in self.flows.items()},
        )

    def devices_down(self) -> list[Role]:
        """Required devices that are down: the kiosk shows its out-of-service screen."""
        return self.kiosk.device_manager.required_down()

    def devices_unusable(self) -> list[Role]:
        return [r for r, s in self.kiosk.device_manager.statuses().items() if not s.usable]

    def out_of_service(self) -> bool:
        switch = self.kiosk.service_switch
        if switch is not None and switch.state()[0]:  # staff took it out of service
            return True
        if self.devices_down():
            return True
        # nothing left to offer: at a bank, none of the workbench's applications
        bank = self.kiosk.config.kiosk.site_mode is SiteMode.BANK
        return not any(s.available for s in (self.bank_services() if bank else self.services()))

    def out_of_service_notice(self) -> OutOfService:
        """What the out-of-service screen says: staff's message, the devices down, or the
        registry out of reach — not "maintenance" for a network fault."""
        switch = self.kiosk.service_switch
        out, message = switch.state() if switch is not None else (False, "")
        if out:
            return OutOfService(*MAINTENANCE, *COUNTER, message, "")
        down = self.devices_down()
        if down:
            return OutOfService(*DEVICES_DOWN, *COUNTER, *devices_text(down))
        backend = self.kiosk.backend
        if backend is None or not backend.up:
            return OutOfService(*REGISTRY_DOWN, *REGISTRY_BODY)
        return OutOfService(*DEVICES_DOWN, *COUNTER, *devices_text(self.devices_unusable()))
