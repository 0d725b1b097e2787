"""The Kivy application: thin. It wires the shell view-model to the screens and the clock.

Device and session events arrive on worker threads; they only pull a Kivy trigger, and the
screens are refreshed on the UI thread.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.config import Config
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.bank import OperatorDesk
from kiosk.config import SessionSection, SiteMode
from kiosk.core import Kiosk
from kiosk.events import Subscription
from kiosk.sdnotify import notify, watchdog_interval_s
from kiosk.session import Phase
from kiosk.shell import Shell
from screens.registry import ScreenRegistry, load_kv
from screens.theme import Theme

log = logging.getLogger(__name__)
TICK_S = 0.25
RESTART_EXIT = 75  # staff asked for a restart: systemd (Restart=always) starts us again
MAINTENANCE_SCREENS = ("maintenance_pin", "maintenance")
PIN_PAD_IDLE_S = 60.0


def open_window(width: int, height: int, fullscreen: bool) -> Any:
    """Create Kivy's window with the configured size.

    Kivy creates its window when ``kivy.core.window`` is first imported and reads the size from
    its config then; resizing an offscreen window later leaves a stale viewport.
    """
    if "kivy.core.window" not in sys.modules:
        Config.set("graphics", "width", str(width))
        Config.set("graphics", "height", str(height))
        Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
        Config.set("kivy", "exit_on_escape", "0")
    from kivy.core.window import Window

    return Window


class KioskApp(App):  # type: ignore[misc]
    title = "Dengji Kiosk"
    voice_on = BooleanProperty(False)  # for the mute button's label
    training = BooleanProperty(False)  # the training banner (home and attract screens)

    def __init__(
        self,
        kiosk: Kiosk,
        *,
        exit_after: float | None = None,
        screenshot: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.training = kiosk.config.training
        self.shell = Shell(kiosk)
        self.desk = OperatorDesk(kiosk)  # the bank service point's operator (bank mode)
        self.logout_job: Any = None  # the last worker keeping a draft (and logging out)
        self._exit_after = exit_after
        self._screenshot = screenshot
        self._subscriptions: list[Subscription] = []
        self.countdown: Any = None
        self.scanned: Any = None
        self.face_result: Any = None
        self.flow: Any = None
        self.notice: Any = None
        self.exit_code = 0
        self._sound: Any = None
        self._staff_touch = 0.0
        self._stopped = False
        ui = kiosk.config.ui
        window = open_window(ui.width, ui.height, ui.fullscreen)
        self.theme = Theme(ui, int(window.size[0]))
        self.theme.language = self.shell.language

    # -- building -------------------------------------------------------------------------

    def build(self) -> ScreenManager:
        self.manager = ScreenManager(transition=NoTransition())
        self.screens = ScreenRegistry(self.manager)
        load_kv("screens.widgets")
        load_kv("screens.idle")
        self._refresh_trigger = Clock.create_trigger(lambda _dt: self.refresh(), 0)
        bus = self.kiosk.bus
        self._subscriptions = [
            # devices' "<role>:status" and the registry link's "backend:status"
            bus.subscribe("*:status", lambda _name, _payload: self._refresh_trigger()),
        ]
        self.window = open_window(0, 0, False)
        self.window.bind(on_touch_down=self._on_any_touch)
        self._ticker = Clock.schedule_interval(self._tick, TICK_S)
        self.show(self.start_screen())
        self.refresh()
        # Timers start on the first frame: scheduled from build() they would fire at once,
        # because the clock's first tick also counts the time the window took to open.
        Clock.schedule_once(self._on_first_frame, 0)
        return self.manager

    def _on_first_frame(self, _dt: float) -> None:
        notify("READY=1\nSTATUS=kiosk screen up")
        interval = watchdog_interval_s()
        if interval:  # pinged from the UI loop: a frozen UI stops pinging and is restarted
            Clock.schedule_interval(lambda _dt: notify("WATCHDOG=1"), interval)
        if self._screenshot:
            Clock.schedule_once(lambda _dt: self.save_screenshot(self._screenshot or ""), 0.8)
        if self._exit_after is not None:
            Clock.schedule_once(lambda _dt: self.stop(), self._exit_after)

    def on_stop(self) -> None:
        notify("STOPPING=1")
        self._ticker.cancel()
        for name in ("scan", "face"):  # cameras off, frames wiped
            if self.manager.has_screen(name):
                self.manager.get_screen(name).stop()
        self._refresh_trigger.cancel()
        self._stopped = True
        for subscription in self._subscriptions:
            subscription.cancel()
        self._subscriptions.clear()
        self.window.unbind(on_touch_down=self._on_any_touch)
        self.shell.end_session("shutdown")

    # -- navigation -----------------------------------------------------------------------

    def show(self, name: str) -> None:
        if self.manager.current != name or not self.manager.has_screen(name):
            self.screens.show(name)
            log.info("screen shown", extra={"screen": name})

    @property
    def bank_mode(self) -> bool:
        return self.kiosk.config.kiosk.site_mode is SiteMode.BANK

    def start_screen(self) -> str:
        """Where the public screens begin: the attract loop, or at a bank the operator's
        workbench (the login while nobody is logged in)."""
        if not self.bank_mode:
            return "attract"
        return "workbench" if self.desk.session is not None else "operator_login"

    # -- bank service points ---------------------------------------------------------------

    def operator_logged_in(self) -> None:
        """The operator's session is the kiosk's session: idle, it logs them out."""
        idle = self.kiosk.config.bank.operator_idle_s
        self.shell.timing = SessionSection(idle_timeout_s=idle, warning_s=min(30.0, idle / 3))
        self.shell.begin_session()
        self.show("workbench")
        self.refresh()

    def operator_logout(self, reason: str) -> None:
        """Log the operator out. An application under way is kept as their draft (with the
        registry) and wiped from the screen; the logout follows the draft on a worker."""
        desk = self.desk
        session = desk.take(reason)
        self._keep_draft(then=lambda: desk.release(session, reason))
        self._reset_visit(reason)
        for name in ("workbench", "approve", "operator_login"):
            if self.manager.has_screen(name):
                self.manager.get_screen(name).wipe()
        self.show("operator_login")
        self.refresh()

    def _keep_draft(self, then: Any = None) -> None:
        """The application under way is kept as the operator's draft (``kiosk.bank``)."""
        journey = self.flow.journey if self.flow is not None else None
        self.logout_job = self.desk.keep_draft(journey, then)

    def resume_draft(self, draft: Any) -> Any:
        """Take up an unfinished application: the borrower's identity and authorization are
        checked again; what the operator entered comes back."""
        name = self.desk.flow_for(draft, self.shell.flows)
        return self.open_service(name, resume=draft) if name else None

    def review_draft(self, draft: Any) -> None:
        self.screens.get("approve").begin(draft)
        self.show("approve")

    def begin_session(self) -> None:
        if self.shell.out_of_service():
            self.refresh()
            return
        self.shell.begin_session()
        self.show("home")
        self.refresh()

    def end_session(self, reason: str) -> None:
        if self.bank_mode:
            if self.desk.logs_out(reason):
                self.operator_logout(reason)
            else:  # the application ended: the operator stays, on the workbench
                if self.desk.keeps(self.flow.journey if self.flow is not None else None):
                    self._keep_draft()
                self._reset_journey(reason)
                self.show("workbench")
                self.refresh()
            return
        self._reset_visit(reason)
        self.show("attract")
        self.refresh()

    def _reset_visit(self, reason: str) -> None:
        self._reset_journey(reason)
        self.shell.end_session(reason)
        self.theme.language = self.shell.language
        self.theme.scale = 1.0
        self.voice_on = self.shell.voice.on

    def _reset_journey(self, reason: str) -> None:
        """The journey ends: cameras off, every screen of it wiped, the person forgotten."""
        self._close_countdown()
        self._close_notice()
        if self.manager.has_screen("scan"):  # stop the camera; no page stays on screen
            self.manager.get_screen("scan").stop()
        if self.manager.has_screen("face"):  # stop the camera and zero every face frame
            self.manager.get_screen("face").stop()
        # typed values, the signature, the records a query found
        for name in ("step_form", "step_review", "step_sign", "step_result"):
            if self.manager.has_screen(name):
                self.manager.get_screen(name).wipe()
        self.face_result = None
        flow, self.flow = self.flow, None
        if flow is not None:  # an unpaid order is closed; the journey forgets the person
            flow.end(reason)
        self.scanned = None  # the person's documents go with the visit

    # -- maintenance ----------------------------------------------------------------------

    def open_maintenance_pin(self) -> None:
        log.info("maintenance entry opened")
        self._staff_touch = time.monotonic()
        if self.bank_mode and self.desk.session is not None:
            # maintenance staff are not the operator: their session ends (draft kept) first
            self.operator_logout("maintenance")
        else:
            self._reset_visit("maintenance")
        self.show("maintenance_pin")

    def show_maintenance(self) -> None:
        self.show("maintenance")

    def leave_maintenance(self, reason: str) -> None:
        """Back to the public screens (the out-of-service screen when that is the truth)."""
        access = self.kiosk.maintenance
        if access is not None:
            access.exit(reason)
        for view in list(self.window.children):
            if view.__class__.__module__ == "screens.maintenance" and hasattr(view, "dismiss"):
                view.dismiss(animation=False)
        self.show(self.start_screen())
        self.refresh()

    def in_maintenance(self) -> bool:
        return self.manager.current in MAINTENANCE_SCREENS

    def restart(self) -> None:
        self.leave_maintenance("restart")
        self.exit_code = RESTART_EXIT
        self.stop()

    def touch_session(self) -> None:
        self.shell.touch()
        self._close_countdown()

    def open_service(self, name: str, resume: Any = None) -> Any:
        """Start the journey of a service; a service without one yet says so."""
        from kiosk.flows.deps import JourneyServices
        from kiosk.flows.journey import Journey
        from screens.flow import FlowController
        from screens.home import NoticeView

        log.info("service chosen", extra={"service": name})
        self._close_notice()
        spec = self.shell.flows.get(name)
        if spec is None:
            self.notice = NoticeView("home.coming", self.shell.language)
            self.notice.open()
            return None
        session = self.shell.session
        operator = self.desk.session if self.bank_mode else None
        services = JourneyServices.of(self.kiosk)
        journey = Journey(spec, services, session.id if session else "", operator, resume)
        if session is not None:
            session.data["journey"] = journey  # wiped with the visit
        self.flow = FlowController(self, journey)
        self.flow.start()
        return self.flow

    def open_scan(self, document_zh: str = "", document_en: str = "") -> Any:
        """The scan step (the journeys bring it up with what to scan; tests may too)."""
        from kiosk.documents.scan_session import ScanSession

        screen = self.screens.get("scan")
        screen.document_zh, screen.document_en = document_zh, document_en
        screen.in_flow = self.flow is not None
        self.show("scan")
        screen.start(ScanSession(self.kiosk.device_manager))
        return screen

    def open_face_check(self, document: Any) -> Any:
        """The face check step for the card holder (the journeys bring it up)."""
        from kiosk.identity.face_check import FaceCheckRunner
        from kiosk.identity.setup import face_check_for

        session = self.shell.session
        check = face_check_for(self.kiosk, document, session.id if session else "")
        screen = self.screens.get("face")
        screen.bank = self.flow is not None and self.flow.journey.operator is not None
        self.show("face")
        screen.start(FaceCheckRunner(check, self.kiosk.device_manager))
        return screen

    def finish_face_check(self, to_counter: bool = False) -> Any:
        """Leave the face step; the result (passed or not) stays for the journey."""
        screen = self.screens.get("face")
        runner = screen.stop()
        check = runner.check if runner is not None else None
        self.face_result = (
            check.result if check is not None and check.phase.value == "passed" else None
        )
        if self.flow is not None:
            self.flow.face_finished(self.face_result, to_counter)
        else:
            self.show("home")
        return self.face_result

    def face_check_to_counter(self) -> None:
        """The person chose the counter (or the check sent them there)."""
        from screens.home import NoticeView

        if self.flow is not None:  # in a journey: the counter gets a hand-off slip
            self.finish_face_check(to_counter=True)
            return
        self.finish_face_check()
        if self.kiosk.audit is not None:
            self.kiosk.audit.record("kiosk", "identity.handoff", "counter")
        self._close_notice()
        self.notice = NoticeView("face.counter", self.shell.language)
        self.notice.open()

    def finish_scan(self) -> Any:
        screen = self.screens.get("scan")
        session = screen.stop()
        self.scanned = session.batch if session is not None else None
        if self.flow is not None:  # the journey goes on with the pages
            self.flow.scanned(self.scanned)
        else:
            self.show("home")
        return self.scanned

    # -- settings -------------------------------------------------------------------------

    def toggle_language(self) -> None:
        self.theme.language = self.shell.toggle_language()
        self.refresh()

    def enable_elder_mode(self) -> None:
        """Larger text and more time for an older person (offered when the card says so)."""
        if not self.shell.large_text:
            self.toggle_large_text()
        if self.shell.session is not None:
            self.shell.session.elder = True
        self.shell.voice.senior = True  # spoken prompts, slower
        self.voice_on = self.shell.voice.on
        if self.kiosk.audit is not None:
            self.kiosk.audit.record("kiosk", "elder_mode", "on")

    def say(self, text: str) -> None:
        """Speak a step's prompt (when the voice is on); the last one stops first."""
        path = self.shell.voice.say(text)
        if self._sound is not None:
            self._sound.stop()
            self._sound = None
        if path is None:
            return
        try:
            from kivy.core.audio import SoundLoader

            self._sound = SoundLoader.load(str(path))
            if self._sound is not None:
                self._sound.play()
        except Exception as err:  # no audio device: the screen still says it
            log.warning("voice prompt not played", extra={"error": str(err)})

    def enable_voice(self) -> None:
        """Anyone may turn the voice on for their visit."""
        voice = self.shell.voice
        voice.muted, voice.wanted = False, True
        self.voice_on = voice.on
        self.say(voice.last)

    def toggle_mute(self) -> None:
        voice = self.shell.voice
        voice.muted = not voice.muted
        if voice.muted and self._sound is not None:
            self._sound.stop()
        self.voice_on = voice.on

    def toggle_large_text(self) -> None:
        large = self.shell.toggle_large_text()
        self.theme.scale = self.kiosk.config.ui.large_text_scale if large else 1.0

    # -- periodic work and events ---------------------------------------------------------

    def refresh(self) -> None:
        """Re-read device availability and put the right screen and tiles up (UI thread)."""
        if self._stopped:
            return
        if self.in_maintenance():
            if self.manager.current == "maintenance":
                self.screens.get("maintenance").refresh()
            return  # staff are at the machine: the public screens wait
        if self.shell.out_of_service():
            if self.bank_mode and self.desk.session is not None:
                # the operator's session ends, the application under way kept as their draft
                # (held in the outbox while the registry is away); this refreshes again
                self.operator_logout("out_of_service")
                return
            if self.shell.session is not None:
                self._reset_visit("out_of_service")
            self.screens.get("out_of_service").show(self.shell.out_of_service_notice())
            self.show("out_of_service")
            return
        if self.manager.current == "out_of_service":
            self.show(self.start_screen())
        home = self.screens.get("home")
        home.show_services(self.shell.services(), self.shell.language)

    def _on_any_touch(self, _window: Any, _touch: Any) -> bool:
        if self.in_maintenance():
            self._staff_touch = time.monotonic()
            if self.kiosk.maintenance is not None:
                self.kiosk.maintenance.touch()
        self.shell.touch()
        if self.countdown is not None:
            # the touch says "I am here" and nothing more: it must not also press whatever
            # lies under the dialog (a service tile, a "pay" button)
            self._close_countdown()
            return True
        return False  # let the touch reach the widgets

    def _tick(self, _dt: float) -> None:
        if self.in_maintenance():
            access = self.kiosk.maintenance
            if self.manager.current == "maintenance":
                idle = access is not None and not access.tick()
            else:  # an abandoned PIN pad closes too
                idle = time.monotonic() - self._staff_touch > PIN_PAD_IDLE_S
            if idle:
                log.info("maintenance ended by itself (idle)")
                self.leave_maintenance("idle")
            return
        flow = self.flow
        paying = (
            self.manager.current == "step_pay"
            and self.manager.get_screen("step_pay").status == "waiting"
        )
        if flow is not None and (flow.busy or paying):
            self.shell.touch()  # the kiosk is working, or the person is paying by phone
        phase = self.shell.tick()
        if phase is Phase.ENDED or (phase is None and self.manager.current == "home"):
            log.info("session timed out")
            self.end_session("idle")
            return
        if phase is Phase.WARNING and self.shell.session is not None:
            if self.countdown is None:
                from screens.idle import IdleCountdown

                self.countdown = IdleCountdown()
                self.countdown.open()
            self.countdown.seconds = int(self.shell.session.seconds_left() + 0.99)

    def _close_countdown(self) -> None:
        if self.countdown is not None:
            self.countdown.dismiss(animation=False)
            self.countdown = None

    def _close_notice(self) -> None:
        if self.notice is not None:
            self.notice.dismiss(animation=False)
            self.notice = None

    def save_screenshot(self, path: str) -> str:
        """Write the current frame to ``path`` (Kivy appends a counter; we rename it back)."""
        target = Path(path)
        written = self.window.screenshot(name=str(target.with_suffix("")) + "_.png")
        if written:
            Path(written).replace(target)
        log.info("screenshot written", extra={"path": str(target)})
        return str(target)
