"""Shared fixtures. Kivy's environment is set here, before anything can import Kivy."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Kivy's home is this process's own: the xdist workers inherit the controller's environment,
# and two Kivys creating the same home at once collide ("File exists: .../mods").
_KIVY_HOME = tempfile.mkdtemp(prefix="dengji-kivy-")
atexit.register(shutil.rmtree, _KIVY_HOME, True)
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ["KIVY_HOME"] = _KIVY_HOME
# Software GL renders on as many threads as there are cores; with a test worker per core
# (pytest-xdist, see the Makefile) those threads only fight each other.
os.environ.setdefault("LP_NUM_THREADS", "1")

import pytest  # noqa: E402

from drivers.base import State  # noqa: E402
from drivers.idcard.sam_emulator import SamEmulator  # noqa: E402
from kiosk.config import (  # noqa: E402
    DevicesSection,
    IdentitySection,
    KioskSection,
    MaintenanceSection,
    MetricsSection,
    SessionSection,
    SiteConfig,
    UiSection,
)
from kiosk.core import Kiosk  # noqa: E402
from tests.backend_fixtures import Registry, start_registry  # noqa: E402
from tests.ui_driver import UiDriver  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.crash_reports"]


def fast_config(tmp_path: Path, **session: Any) -> SiteConfig:
    """Defaults, with quick device supervision and a data folder of the test's own."""
    return SiteConfig(
        kiosk=KioskSection(data_dir=str(tmp_path / "data")),
        devices=DevicesSection(
            poll_interval_s=0.1, reopen_backoff_min_s=0.05, reopen_backoff_max_s=0.2
        ),
        session=SessionSection(**session) if session else SessionSection(),
        ui=UiSection(width=1280, height=720),
        metrics=MetricsSection(port=0),
    )


@pytest.fixture
def sim_kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    kiosk = Kiosk.from_config(fast_config(tmp_path), runtime_dir=tmp_path / "run")
    kiosk.start()
    kiosk.wait_started()
    try:
        yield kiosk
    finally:
        kiosk.stop()


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A sandbox registry of the test's own on loopback (its own database, seeded afresh:
    about 0.06 s), with a registered client: no test sees what another one changed."""
    yield from start_registry(tmp_path_factory.mktemp("registry"))


@pytest.fixture
def sam(tmp_path: Path) -> Iterator[SamEmulator]:
    """A GA 467 reader on a pty, a demo card on it."""
    emulator = SamEmulator(tmp_path / "idcard.tty")
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


UI_PIN = "246810"


def ui_technicians(folder: Path) -> Path:
    """The UI kiosk's technicians file: one technician, "tech-ui", with ``UI_PIN``."""
    from kiosk.technicians import add

    path = folder / "technicians"
    add(path, "tech-ui", UI_PIN)
    return path


UI_PROFILES = Path(__file__).parent / "data" / "profiles"


@pytest.fixture(scope="session")
def ui_machine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiDriver]:
    """The machine the UI tests run on: one Kivy window (Kivy has one per process) and one
    kiosk with its emulators, on the doc-camera hall profile, shared by every UI test of the
    worker; each test gets its own app on it (``ui``)."""
    import dataclasses

    from screens.app import KioskApp

    tmp = tmp_path_factory.mktemp("ui")
    # a citizen's idle timing, long enough that no test races it on a loaded machine: the
    # idle tests move the visits' clock on (UiDriver.idle) instead of waiting
    config = fast_config(tmp, idle_timeout_s=60.0, warning_s=10.0)
    config = dataclasses.replace(
        config,
        kiosk=dataclasses.replace(
            config.kiosk, profile="hall-test-doccam", profile_dirs=(str(UI_PROFILES),)
        ),
        # the supervisor's poll grabs a frame from each camera: ten times a second it kept a
        # core a third busy for the whole UI run; twice a second still sees a fault at once
        devices=dataclasses.replace(config.devices, poll_interval_s=0.5),
        maintenance=MaintenanceSection(
            technicians_file=str(ui_technicians(tmp)),
            idle_s=30.0,
            export_dir=str(tmp / "usb"),
            long_press_s=0.3,
        ),
        # the emulator's visitor blinks all the time but turns only now and then
        identity=IdentitySection(challenges=("blink",), challenge_timeout_s=6.0),
    )
    kiosk = Kiosk.from_config(config, runtime_dir=tmp / "run")
    kiosk.start()
    driver: UiDriver | None = None
    try:  # whatever fails from here on, the kiosk's emulators (cupsd, pcscd) are stopped
        kiosk.wait_started()
        assert kiosk.backend_link.up, kiosk.backend_link.last_error
        kiosk.device_manager.wait_until(
            lambda s: all(x.state is State.READY for x in s.values()), 20
        )
        sandbox = kiosk.backend_link.sandbox
        assert sandbox is not None
        driver = UiDriver(KioskApp(kiosk))
        driver.registry_template = tmp / "registry-template.db"  # each UI test starts from it
        sandbox.snapshot(driver.registry_template)
        yield driver
    finally:
        if driver is not None:
            driver.stop()
        kiosk.stop()


@pytest.fixture
def ui(ui_machine: UiDriver) -> Iterator[UiDriver]:
    """The real Kivy app, headless: a new app of the test's own, on the worker's window and
    kiosk, and a copy of the register the UI run started with (put in place, not rows
    repaired by hand), once what earlier tests sent has landed."""
    from screens.app import KioskApp

    ui_machine.close_app()  # the worker's first app, or one a test left
    kiosk = ui_machine.app.kiosk
    outbox, sandbox = kiosk.backend_link.outbox, kiosk.backend_link.sandbox
    assert sandbox is not None
    for _ in range(100):  # what is due now is sent now (held items wait for their operator)
        if outbox is None or not outbox.deliver_due():
            break
    sandbox.restore(ui_machine.registry_template)
    ui_machine.open_app(KioskApp(kiosk))
    try:
        yield ui_machine
    finally:
        ui_machine.close_app()


@pytest.fixture
def home(ui: UiDriver) -> Iterator[UiDriver]:
    """A visit on the home screen, with a citizen's idle timeouts."""
    ui.app.leave_maintenance("test")
    ui.app.end_session("test")
    ui.frames(3)
    shell = ui.app.shell
    quick, shell.timing = shell.timing, SessionSection(idle_timeout_s=60.0, warning_s=10.0)
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    assert ui.app.manager.current == "home"
    try:
        yield ui
    finally:
        ui.app.end_session("test")
        shell.timing = quick
