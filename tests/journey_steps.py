"""Steps the journey tests share: tap a service, wait for a screen, pass the identity steps,
read what the registry recorded and what was printed."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from tests.ui_driver import UiDriver


def registry(ui: UiDriver) -> sqlite3.Connection:
    sandbox = ui.app.kiosk.backend.sandbox
    assert sandbox is not None
    return sqlite3.connect(sandbox.db_path)


def tap_service(ui: UiDriver, name: str) -> None:
    """Tap a service's tile, once it is offered (a device that just came back, e.g. after a
    cleared printer jam, re-enables its services at the supervisor's next poll)."""

    home = ui.app.manager.get_screen("home")
    own, group = home.tile_for(name)
    if own is None and group is not None:  # in a group (the registrations): open it first
        assert ui.wait(lambda: not home.tile_for(name)[1].disabled, 10), f"{name} not offered"
        ui.tap(home.tile_for(name)[1])

    def tile() -> Any:  # the home screen rebuilds its tiles when a device changes
        found = home.tile_for(name)[0]
        assert found is not None, f"no tile for {name}"
        return found

    assert ui.wait(lambda: not tile().disabled, 10), f"{name} is not offered"
    ui.tap(tile())


def on(ui: UiDriver, screen: str, timeout: float = 30) -> Any:
    assert ui.wait(lambda: ui.app.manager.current == screen, timeout), ui.app.manager.current
    ui.frames(3)  # the screen is drawn (a finger cannot be faster than that)
    return ui.app.manager.get_screen(screen)


def elder_offer(ui: UiDriver) -> Any:
    assert ui.wait(lambda: any(type(w).__name__ == "ElderOffer" for w in ui.window.children), 20)
    ui.frames(3)
    return next(w for w in ui.window.children if type(w).__name__ == "ElderOffer")


def through_identity(
    ui: UiDriver, senior: bool = False, then: str = "step_consent", camera: bool = False
) -> Any:
    """Card (the demo card's holder was born in 1949: the senior mode is offered), the face
    check's notice, the face check; returns the next screen (``then``). ``camera``: the
    check itself on the emulated camera; else its passing result, as the face screen sends
    it (see ``face_passed``)."""
    offer = elder_offer(ui)
    ui.tap(offer.ids.yes if senior else offer.ids.no)
    face_step(ui, camera)
    assert ui.wait(lambda: ui.app.manager.current == then, 40), ui.app.manager.current
    return on(ui, then)


def face_step(ui: UiDriver, camera: bool) -> None:
    intro = on(ui, "step_face_intro", 30)
    if camera:
        ui.tap(intro.ids.start)
        face = on(ui, "face")
        assert ui.wait(lambda: ui.app.manager.current != "face", 60), face.prompt_en
    else:
        face_passed(ui)


def face_passed(ui: UiDriver) -> None:
    """What the face screen sends the journey when the check passes: the registry's
    verification of the card holder. The check itself (camera, liveness, the registry's
    match) is walked in test_ui_face, test_face_check and one walk of each kind; the walks
    about something else do not spend seconds of camera frames on it each."""
    from kiosk.backend import models as m
    from tests.backend_fixtures import face_jpeg

    flow = ui.app.flow
    document = flow.journey.ctx.document
    verification = ui.app.kiosk.backend.client.verify_identity(
        m.VerifyIdentity(
            document.number,
            document.name,
            m.card_type_of(document.card_type.value),
            face_jpeg(),
            m.Liveness("blink", True, 0.9),
        )
    )
    flow.face_finished(verification)


def print_the_result(ui: UiDriver) -> Any:
    """The query's result is on screen: the person asks for the certificate."""
    result = on(ui, "step_result", 40)
    assert ui.wait(lambda: not result.loading, 20)
    ui.frames(2)
    ui.tap(result.ids.print)
    return result


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])


DUE_CASE = "YW20261101000001"  # the demo card holder's case awaiting a fee
READY_CASE = "YW20261101000002"  # the demo card holder's registered case
APPOINTMENT = "YY7K3QD9M2XA"  # the demo card holder's appointment
