"""The certificate's other ways out of the print-certificate journey, on the real app and the
sandbox: mailed by EMS (the address typed or confirmed), or the electronic certificate by QR —
and with the certificate printer down, the journey still runs and says why printing is off."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Role
from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend.errors import BackendConflict
from screens.demo import type_keys
from tests.backend_fixtures import verify
from tests.journey_steps import elder_offer, on, registry, tap_service
from tests.qr import decode_qr
from tests.ui_driver import UiDriver

pytestmark = pytest.mark.ui

CARD = DEMO_CARDS[0]


@pytest.fixture
def ready_case(home: UiDriver) -> Iterator[str]:
    """A registered case of the demo card's holder, nothing issued for it yet."""
    with registry(home) as db:
        unit = db.execute(
            "SELECT unit_code FROM holders WHERE id_number = ? ORDER BY unit_code", (CARD.number,)
        ).fetchone()[0]
        number = f"YW20261122{db.execute('SELECT COUNT(*) FROM cases').fetchone()[0] + 900:06d}"
        db.execute(
            "INSERT INTO cases VALUES (?, 'certificate_reissue', 'registered', ?, ?, 0, 1, "
            "'2026-11-22T08:00:00Z', '{}', 'seed')",
            (number, unit, CARD.number),
        )
    yield number


def to_delivery_choice(ui: UiDriver, case_number: str) -> Any:
    tap_service(ui, "print_certificate")
    ui.tap(elder_offer(ui).ids.no)
    ui.tap(on(ui, "step_face_intro", 20).ids.start)
    choose = on(ui, "step_choose", 40)
    assert ui.wait(lambda: not choose.loading, 20)
    ui.frames(3)
    ui.tap(next(b for b in choose.ids.cases.children if b.case_number == case_number))
    assert ui.wait(lambda: choose.items == "delivery", 10)
    ui.frames(3)
    return {b.case_number: b for b in choose.ids.cases.children}


def deliveries(ui: UiDriver, case_number: str) -> list[tuple[str, str, dict[str, Any]]]:
    with registry(ui) as db:
        rows = db.execute(
            "SELECT method, reference, body FROM deliveries WHERE case_number = ?", (case_number,)
        ).fetchall()
    return [(method, reference, json.loads(body)) for method, reference, body in rows]


def test_the_certificate_mailed_by_ems(home: UiDriver, ready_case: str) -> None:
    ui = home
    ways = to_delivery_choice(ui, ready_case)
    ui.tap(ways["ems"])
    form = on(ui, "step_form", 20)
    assert form.boxes["recipient"].value == CARD.name  # the card's, to change if need be
    assert form.boxes["address"].value == CARD.address
    ui.tap(form.boxes["phone"])
    type_keys(ui, form.ids.keyboard, "13800138000")
    ui.tap(form.ids.next)
    done = on(ui, "step_done", 30)
    delivery = ui.app.flow.journey.ctx.delivery
    assert delivery is not None and delivery.reference.startswith("EA")
    assert f"邮件号 EMS item: {delivery.reference}" in done.outputs
    assert "EMS" in done.next_zh and not done.has_qr
    ((method, reference, body),) = deliveries(ui, ready_case)
    assert (method, reference) == ("ems", delivery.reference)
    assert (body["recipient"], body["phone"], body["address"]) == (
        CARD.name,
        "13800138000",
        CARD.address,
    )
    with pytest.raises(BackendConflict) as refused:  # mailed: it cannot be printed too
        client = ui.app.kiosk.backend.client
        client.certificate_data(ready_case, verify(client).verification_id)
    assert refused.value.error == "already_issued"
    ui.tap(done.ids.finish)


def test_the_electronic_certificate_by_qr(home: UiDriver, ready_case: str, tmp_path: Path) -> None:
    ui = home
    ledger = ui.app.kiosk.print_service.ledger
    sheet = ledger.next_serial()
    ways = to_delivery_choice(ui, ready_case)
    ui.tap(ways["electronic"])
    done = on(ui, "step_done", 30)
    delivery = ui.app.flow.journey.ctx.delivery
    assert delivery is not None and delivery.url.startswith("https://")
    assert done.has_qr
    shot = ui.screenshot(tmp_path / "e-certificate.png")
    assert decode_qr(shot) == delivery.url  # what a phone reads off the screen
    assert [m for m, _r, _b in deliveries(ui, ready_case)] == ["electronic"]
    assert ledger.next_serial() == sheet  # no certificate paper used
    ui.tap(done.ids.finish)


@pytest.fixture
def certificate_printer_down(home: UiDriver) -> Iterator[Any]:
    kiosk = home.app.kiosk
    queue = kiosk.harness.emulators[Role.CERTIFICATE]
    subprocess.run(
        ["cupsdisable", "-h", str(queue.socket), queue.queue], check=True, capture_output=True
    )
    devices = kiosk.device_manager
    try:
        assert devices.wait_until(lambda s: not s[Role.CERTIFICATE].usable, 20)
        yield queue
    finally:
        queue.clear_fault()  # enables the queue again
        devices.wait_until(lambda s: s[Role.CERTIFICATE].usable, 20)


def test_with_the_certificate_printer_down_the_other_ways_still_work(
    home: UiDriver, ready_case: str, certificate_printer_down: Any
) -> None:
    ui = home
    ui.app.refresh()
    ui.frames(3)
    tiles = ui.app.manager.get_screen("home").ids.services.children
    tile = next(t for t in tiles if t.service_name == "print_certificate")
    assert tile.available  # the home screen offers it: two of its three ways work
    ways = to_delivery_choice(ui, ready_case)
    assert ways["print"].disabled and "证书打印机暂不可用" in ways["print"].note
    assert not ways["ems"].disabled and not ways["electronic"].disabled
    ui.tap(ways["electronic"])
    done = on(ui, "step_done", 30)
    assert done.has_qr
    ui.tap(done.ids.finish)
