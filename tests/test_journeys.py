"""Citizen journeys in the real Kivy app, headless, on the emulators and the sandbox: what the
registry recorded and what came out of the printers, and the unhappy paths."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Role
from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import BackendConflict
from kiosk.flows.spec import load_flows
from kiosk.strict import StrictConfigError
from tests.backend_fixtures import verify
from tests.journey_steps import (
    elder_offer,
    on,
    pages,
    pdf_text,
    print_the_result,
    registry,
    tap_service,
    through_identity,
)
from tests.ui_driver import UiDriver

pytestmark = pytest.mark.ui


def test_queue_ticket_prints_the_number_the_registry_issued(home: UiDriver) -> None:
    ui = home
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    printer.clear()
    taps = ui.taps
    tap_service(ui, "queue_ticket")
    done = on(ui, "step_done")
    ticket = ui.app.flow.journey.ctx.ticket
    assert ticket is not None and ticket.ticket_number in done.outputs
    with registry(ui) as db:
        issued = db.execute(
            "SELECT COUNT(*) FROM tickets WHERE ticket_number LIKE ?",
            (ticket.ticket_number + "-%",),
        ).fetchone()[0]
    assert issued == 1
    (receipt,) = [r for r in printer.receipts() if r.lines]
    assert ticket.ticket_number in receipt.text and receipt.cuts == 1
    ui.tap(done.ids.finish)
    assert ui.app.manager.current == "attract" and ui.app.shell.session is None
    assert ui.taps - taps == 2


def test_query_certificate_end_to_end(home: UiDriver, tmp_path: Path) -> None:
    ui = home
    kiosk = ui.app.kiosk
    queue = kiosk.harness.emulators[Role.CERTIFICATE]
    before = set(queue.out.glob("*.pdf"))
    tap_service(ui, "query_certificate")
    taps_at_card = ui.taps
    consent = through_identity(ui, camera=True)
    assert "查询您本人名下的不动产登记信息" in consent.purpose_zh
    ui.tap(consent.ids.agree)
    result = print_the_result(ui)
    assert "单元号 Unit" in result.records  # the records were on screen before printing
    done = on(ui, "step_done", 60)
    journey = ui.app.flow.journey
    query = journey.ctx.query
    assert query is not None and query.verification_code in done.outputs
    with registry(ui) as db:
        rows = db.execute(
            "SELECT id_number, kind FROM queries WHERE query_id = ?", (query.query_id,)
        ).fetchall()
    assert rows == [(DEMO_CARDS[0].number, "own")]
    assert ui.wait(lambda: len(set(queue.out.glob("*.pdf")) - before) == 1, 30)
    (pdf,) = set(queue.out.glob("*.pdf")) - before
    # what the registry issued is what went to the printer (the queue's PDF has no text layer)
    issued = tmp_path / "issued.pdf"
    issued.write_bytes(kiosk.backend.client.query_certificate(query.query_id))
    text = pdf_text(issued)
    assert "不动产登记信息查询结果证明" in text and query.verification_code in text
    # an official proof names its person in full (a school or a household office takes
    # nothing less); the screens and logs mask them, the paper in their hand does not
    assert DEMO_CARDS[0].name in text and DEMO_CARDS[0].number in text
    assert pages(pdf) == pages(issued)
    audit = kiosk.audit_log
    consent_record = audit.records("consent.given")[-1]
    assert consent_record.fields["journey"] == journey.id
    assert consent_record.fields["scope"] == "query_certificate"
    ui.tap(done.ids.finish)
    taps_after_card = ui.taps - taps_at_card
    assert taps_after_card <= 6, taps_after_card
    assert ui.app.flow is None and journey.ctx.document is None  # wiped with the visit
    assert audit.records("journey.end")[-1].outcome == "finished"


def test_declining_consent_queries_nothing(home: UiDriver) -> None:
    ui = home
    with registry(ui) as db:
        queries = db.execute("SELECT COUNT(*) FROM queries").fetchone()[0]
    tap_service(ui, "property_proof")
    consent = through_identity(ui)
    ui.tap(consent.ids.decline)
    assert ui.app.manager.current == "attract" and ui.app.shell.session is None
    with registry(ui) as db:
        assert db.execute("SELECT COUNT(*) FROM queries").fetchone()[0] == queries
    outcomes = [r.outcome for r in ui.app.kiosk.audit_log.records("journey.end")]
    assert outcomes[-1] == "cancel"


def test_the_registry_down_at_the_query_says_so_and_offers_a_way_out(home: UiDriver) -> None:
    ui = home
    link = ui.app.kiosk.backend
    tap_service(ui, "query_certificate")
    consent = through_identity(ui)
    link.up = False  # the heartbeat will find it again; until then the link is down
    try:
        ui.tap(consent.ids.agree)
        work = on(ui, "step_work")
        assert ui.wait(lambda: work.failed, 10)
        assert work.lead_zh == "登记系统暂时无法连接，请到人工窗口办理"
        assert work.lead_en == "The registry cannot be reached: please go to a counter"
        ui.tap(work.ids.finish)
        assert ui.app.shell.session is None  # the visit ended; the home screen says why
        assert ui.app.manager.current == "out_of_service"  # nothing works without the registry
        oos = ui.app.manager.get_screen("out_of_service")  # what is wrong: not "maintenance"
        assert oos.title_zh == "暂时无法连接登记系统" and "维护" not in oos.title_zh
        assert oos.title_en == "The registry cannot be reached just now"
        assert "已在本机提交的申请均已保存" in oos.body_zh  # and what still holds
    finally:
        link.up = True
    audit = ui.app.kiosk.audit_log
    assert audit.records("journey.end")[-1].outcome == "failed:backend_down"
    assert audit.records("session.purge")[-1].fields["reason"] == "cancel"


def test_flows_are_checked_when_they_are_loaded(tmp_path: Path) -> None:
    flows = load_flows()
    assert {"queue_ticket", "query_certificate", "property_proof"} <= set(flows)
    assert flows["query_certificate"].needs == {Role.IDCARD, Role.CAMERA, Role.CERTIFICATE}
    bad = tmp_path / "flows.toml"
    bad.write_text(
        '[x]\njourney = "x"\ntitle_zh = "x"\ntitle_en = "x"\nsteps = [{ kind = "fly" }]\n'
    )
    with pytest.raises(StrictConfigError, match=r"x.steps\[0\].kind"):
        load_flows(bad)
    bad.write_text(
        '[x]\njourney = "x"\ntitle_zh = "x"\ntitle_en = "x"\n'
        'steps = [{ kind = "face_check" }, { kind = "done" }]\n'
    )
    with pytest.raises(StrictConfigError, match="face_check needs id_auth"):
        load_flows(bad)


@pytest.fixture
def query_fee(home: UiDriver) -> Iterator[int]:
    """This site charges for the own-records query (the default is free)."""
    sandbox = home.app.kiosk.backend.sandbox
    sandbox.set_setting("query_fee_own", 2000)
    try:
        yield 2000
    finally:
        sandbox.set_setting("query_fee_own", 0)


def orders_for(ui: UiDriver, query_id: str) -> list[tuple[str, str]]:
    with registry(ui) as db:
        return db.execute(
            "SELECT order_id, status FROM orders WHERE target = ? ORDER BY created", (query_id,)
        ).fetchall()


def to_payment(ui: UiDriver) -> Any:
    tap_service(ui, "query_certificate")
    consent = through_identity(ui)
    ui.tap(consent.ids.agree)
    print_the_result(ui)
    pay = on(ui, "step_pay")
    assert ui.wait(lambda: pay.status == "waiting", 20), pay.status
    return pay


def test_a_fee_is_paid_once_by_qr_and_the_receipt_printed(
    home: UiDriver, query_fee: int, tmp_path: Path
) -> None:
    ui = home
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    printer.clear()
    pay = to_payment(ui)
    assert pay.amount == "¥20.00" and pay.payee and pay.seconds_left > 60
    assert pay.ids.qr.texture is not None
    ui.screenshot(tmp_path / "pay.png")
    journey = ui.app.flow.journey
    order = journey.ctx.order
    client = ui.app.kiosk.backend.client
    ui.sandbox().pay(order.order_id)  # the person pays with a phone
    done = on(ui, "step_done", 60)
    assert orders_for(ui, journey.ctx.query.query_id) == [(order.order_id, "SUCCESS")]
    receipts = [r for r in printer.receipts() if r.lines]
    assert any("缴费凭证" in r.text and "20.00" in r.text for r in receipts)
    query_id, who = journey.ctx.query.query_id, journey.ctx.verification_id
    ui.tap(done.ids.finish)
    # the same business reference again (a retry): the same paid order
    again = client.create_order(
        m.CreateOrder(f"query-{query_id}", m.OrderKind.QUERY, query_id, m.Channel.WECHAT, who)
    )
    assert again.order_id == order.order_id  # the stored answer of the first request
    assert client.get_order(order.order_id).status is m.OrderStatus.SUCCESS
    assert len(orders_for(ui, query_id)) == 1


def test_an_expired_qr_offers_a_new_one_and_only_one_is_paid(
    home: UiDriver, query_fee: int
) -> None:
    ui = home
    pay = to_payment(ui)
    journey = ui.app.flow.journey
    first = journey.ctx.order
    client = ui.app.kiosk.backend.client
    client.cancel_order(first.order_id)  # the registry closed it (as at expiry)
    assert ui.wait(lambda: pay.status == "expired", 10)
    assert not pay.ids.new_order.disabled
    ui.tap(pay.ids.new_order)
    assert ui.wait(
        lambda: pay.status == "waiting" and journey.ctx.order.order_id != first.order_id, 20
    )
    ui.sandbox().pay(journey.ctx.order.order_id)
    on(ui, "step_done", 60)
    statuses = [s for _, s in orders_for(ui, journey.ctx.query.query_id)]
    assert statuses == ["CLOSED", "SUCCESS"]


def test_leaving_the_payment_closes_the_order(home: UiDriver, query_fee: int) -> None:
    ui = home
    pay = to_payment(ui)
    journey = ui.app.flow.journey
    order = journey.ctx.order
    ui.tap(pay.ids.cancel)
    assert ui.app.shell.session is None and journey.ctx.order is None  # wiped
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if ui.app.kiosk.backend.client.get_order(order.order_id).status.value == "CLOSED":
            break
        time.sleep(0.1)
    assert ui.app.kiosk.backend.client.get_order(order.order_id).status.value == "CLOSED"
    assert ui.app.kiosk.audit_log.records("payment.order")[-1].outcome == "cancelled"


def test_the_senior_mode_is_offered_to_an_older_card_holder(home: UiDriver) -> None:
    ui = home
    tap_service(ui, "query_certificate")
    offer = elder_offer(ui)
    assert ui.app.flow.journey.ctx.elder  # born 1949
    ui.tap(offer.ids.yes)
    on(ui, "step_face_intro", 20)
    session = ui.app.shell.session
    assert ui.app.shell.large_text and ui.app.theme.scale > 1.0
    assert session.elder and session.idle_timeout_s == 2 * ui.app.shell.timing.idle_timeout_s
    assert ui.app.kiosk.audit_log.records("elder_mode.offer")[-1].outcome == "accepted"


def test_the_face_notice_offers_the_counter_and_prints_a_hand_off_slip(home: UiDriver) -> None:
    ui = home
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    printer.clear()
    tap_service(ui, "query_certificate")
    ui.tap(elder_offer(ui).ids.no)
    intro = on(ui, "step_face_intro", 20)
    assert "不会保存" in intro.ids.why.lead
    ui.tap(intro.ids.counter)
    work = on(ui, "step_work")
    assert ui.wait(lambda: work.handoff_done, 20), work.lead_en
    reference = ui.app.flow.journey.ctx.outputs[-1].split()[-1]
    assert reference.startswith("H") and reference in work.lead_zh
    (slip,) = [r for r in printer.receipts() if r.lines]
    text = slip.text
    assert "人工窗口接续单" in text and reference in text
    assert "已读取身份证 ID card read" in text and "人脸核验通过" not in text
    assert "排队号 Queue number" in text  # the counter's number came with it
    assert slip.qr_codes == [f"HANDOFF:{reference}"]
    assert DEMO_CARDS[0].number not in text and DEMO_CARDS[0].name not in text
    record = ui.app.kiosk.audit_log.records("journey.handoff")[-1]
    assert record.fields["reference"] == reference and record.outcome == "printed"
    ui.tap(work.ids.finish)
    assert ui.app.shell.session is None


@pytest.mark.parametrize("screen", ["step_face_intro", "step_consent", "step_pay", "step_done"])
def test_walking_away_at_any_step_wipes_the_visit(
    home: UiDriver, query_fee: int, screen: str
) -> None:
    ui = home
    tap_service(ui, "query_certificate")
    journey = ui.app.flow.journey
    ui.tap(elder_offer(ui).ids.no)
    if screen != "step_face_intro":
        intro = on(ui, "step_face_intro", 20)
        ui.tap(intro.ids.start)
        consent = on(ui, "step_consent", 40)
        if screen != "step_consent":
            ui.tap(consent.ids.agree)
            print_the_result(ui)
            on(ui, "step_pay")
            if screen == "step_done":
                assert ui.wait(lambda: journey.ctx.order is not None, 20)
                ui.sandbox().pay(journey.ctx.order.order_id)
    on(ui, screen, 60)
    if screen == "step_pay":  # nobody is idle while a QR can still be paid: until it closes
        assert ui.wait(lambda: journey.ctx.order is not None, 20)
        ui.app.kiosk.backend.client.cancel_order(journey.ctx.order.order_id)
        pay = ui.app.manager.get_screen("step_pay")
        assert ui.wait(lambda: pay.status == "expired", 10)
    session = ui.app.shell.session
    ui.idle(session.idle_timeout_s + session.warning_s + 1)  # nobody comes back
    assert ui.wait(lambda: ui.app.manager.current == "attract", 10), ui.app.manager.current
    assert ui.app.shell.session is None and ui.app.flow is None
    assert journey.ctx.document is None and journey.ctx.query is None  # wiped
    purge = ui.app.kiosk.audit_log.records("session.purge")[-1]
    assert purge.fields["reason"] == "idle" and "journey" in purge.fields["wiped"]


def test_pay_fee_for_an_open_case(home: UiDriver) -> None:
    ui = home
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    printer.clear()
    tap_service(ui, "pay_fee")
    ui.tap(elder_offer(ui).ids.no)
    intro = on(ui, "step_face_intro", 20)
    ui.tap(intro.ids.start)
    choose = on(ui, "step_choose", 40)
    assert ui.wait(lambda: not choose.loading, 20)
    ui.frames(3)
    buttons = {b.case_number: b for b in choose.ids.cases.children}
    assert "YW20261101000001" in buttons and "YW20261101000002" not in buttons  # due / done
    assert "¥80.00" in buttons["YW20261101000001"].lead
    ui.tap(buttons["YW20261101000001"])
    pay = on(ui, "step_pay")
    assert ui.wait(lambda: pay.status == "waiting", 20)
    assert pay.amount == "¥80.00"
    journey = ui.app.flow.journey
    ui.sandbox().pay(journey.ctx.order.order_id)
    done = on(ui, "step_done", 60)
    assert "YW20261101000001" in done.outputs and "¥80.00" in done.outputs
    with registry(ui) as db:
        paid = db.execute(
            "SELECT paid FROM cases WHERE case_number = 'YW20261101000001'"
        ).fetchone()[0]
        orders = db.execute(
            "SELECT status FROM orders WHERE target = 'YW20261101000001'"
        ).fetchall()
    assert paid == 1 and orders == [("SUCCESS",)]
    receipts = [r for r in printer.receipts() if r.lines]
    assert any("缴费凭证" in r.text and "¥80.00" in r.text for r in receipts)
    ui.tap(done.ids.finish)


def test_a_printer_out_of_paper_after_payment_reprints_without_a_second_charge(
    home: UiDriver, query_fee: int
) -> None:
    ui = home
    queue = ui.app.kiosk.harness.emulators[Role.CERTIFICATE]
    before = set(queue.out.glob("*.pdf"))
    pay = to_payment(ui)
    journey = ui.app.flow.journey
    queue.set_fault("media-empty-error")
    try:
        ui.sandbox().pay(journey.ctx.order.order_id)
        work = on(ui, "step_work", 60)
        assert ui.wait(lambda: work.failed, 90), work.lead_en
        assert "纸" in work.lead_zh and work.can_retry
        assert ui.app.manager.get_screen("step_pay").status != "waiting"
    finally:
        queue.clear_fault()
    ui.tap(work.ids.retry)
    done = on(ui, "step_done", 90)
    assert ui.wait(lambda: len(set(queue.out.glob("*.pdf")) - before) == 1, 30)
    statuses = [s for _, s in orders_for(ui, journey.ctx.query.query_id)]
    assert statuses == ["SUCCESS"]  # printed on the second try, paid once
    assert pay.status == "paid"
    ui.tap(done.ids.finish)


def test_checking_in_for_an_appointment_prints_its_ticket(home: UiDriver) -> None:
    ui = home
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    printer.clear()
    tap_service(ui, "appointment_check_in")
    choose = through_identity(ui, then="step_choose")
    assert ui.wait(lambda: not choose.loading, 20)
    ui.frames(3)
    buttons = {b.case_number: b for b in choose.ids.cases.children}
    assert set(buttons) == {"YY7K3QD9M2XA"}  # the demo holder's, not the others'
    ui.tap(buttons["YY7K3QD9M2XA"])
    done = on(ui, "step_done", 30)
    ticket = ui.app.flow.journey.ctx.ticket
    assert ticket is not None and ticket.ticket_number.startswith("C")  # 抵押注销's queue
    assert ticket.ticket_number in done.outputs
    with registry(ui) as db:
        (checked_in,) = db.execute(
            "SELECT checked_in FROM appointments WHERE code = 'YY7K3QD9M2XA'"
        ).fetchone()
    assert checked_in == 1
    (receipt,) = [r for r in printer.receipts() if r.lines]
    assert ticket.ticket_number in receipt.text and "抵押注销" in receipt.text
    assert ui.app.kiosk.audit_log.records("appointment.check_in")[-1].outcome == "done"
    ui.tap(done.ids.finish)


def test_a_paid_query_whose_print_failed_prints_free_at_any_kiosk(
    home: UiDriver, query_fee: int
) -> None:
    ui = home
    queue = ui.app.kiosk.harness.emulators[Role.CERTIFICATE]
    to_payment(ui)
    journey = ui.app.flow.journey
    query = journey.ctx.query
    queue.set_fault("media-jam-error")
    try:
        ui.sandbox().pay(journey.ctx.order.order_id)
        work = on(ui, "step_work", 60)
        assert ui.wait(lambda: work.failed, 90), work.lead_en
        assert "任一自助终端" in work.lead_zh and "any kiosk" in work.lead_en
    finally:
        queue.clear_fault()
    ui.tap(work.ids.finish)  # the person leaves: off to another kiosk
    before = set(queue.out.glob("*.pdf"))
    ui.tap_at(ui.window.width / 2, ui.window.height / 2)
    tap_service(ui, "query_certificate")
    ui.tap(through_identity(ui).ids.agree)
    print_the_result(ui)
    done = on(ui, "step_done", 90)
    again = ui.app.flow.journey
    assert again.ctx.query.query_id == query.query_id and again.ctx.order is None  # no new fee
    assert [s for _, s in orders_for(ui, query.query_id)] == ["SUCCESS"]
    assert ui.wait(lambda: len(set(queue.out.glob("*.pdf")) - before) == 1, 30)

    def printed() -> bool:
        with registry(ui) as db:
            return bool(
                db.execute(
                    "SELECT 1 FROM query_prints WHERE query_id = ?", (query.query_id,)
                ).fetchone()
            )

    assert ui.wait(printed, 30)  # reported (through the outbox): the next query is charged
    ui.tap(done.ids.finish)


def test_print_my_certificate_on_the_next_numbered_sheet(home: UiDriver) -> None:
    ui = home
    kiosk = ui.app.kiosk
    ledger = kiosk.print_service.ledger
    if ledger.next_serial() is None:
        ledger.load_batch("D0000001", "D0000005", "test")
    sheet = ledger.next_serial()
    queue = kiosk.harness.emulators[Role.CERTIFICATE]
    before = set(queue.out.glob("*.pdf"))
    tap_service(ui, "print_certificate")
    ui.tap(elder_offer(ui).ids.no)
    ui.tap(on(ui, "step_face_intro", 20).ids.start)
    choose = on(ui, "step_choose", 40)
    assert ui.wait(lambda: not choose.loading, 20)
    ui.frames(3)
    assert choose.texts_zh == "请选择要打印的证书证明"
    buttons = {b.case_number: b for b in choose.ids.cases.children}
    assert "YW20261101000002" in buttons  # registered
    assert "YW20261101000001" not in buttons  # awaiting payment: not ready
    ui.tap(buttons["YW20261101000002"])
    assert ui.wait(lambda: choose.items == "delivery", 10)
    ui.frames(3)
    ways = {b.case_number: b for b in choose.ids.cases.children}
    assert set(ways) == {"print", "ems", "electronic"}
    ui.tap(ways["print"])
    done = on(ui, "step_done", 90)
    assert f"证书纸编号 Sheet number: {sheet}" in done.outputs
    assert ledger.states()[sheet] == "printed" and ledger.next_serial() != sheet
    assert ui.wait(lambda: len(set(queue.out.glob("*.pdf")) - before) == 1, 30)

    def reported() -> list[tuple[str, str]]:
        with registry(ui) as db:
            return db.execute(
                "SELECT case_number, outcome FROM paper WHERE paper_serial = ?", (sheet,)
            ).fetchall()

    deadline = time.monotonic() + 30  # the report goes through the outbox
    while time.monotonic() < deadline and not reported():
        ui.frames(2)
    assert reported() == [("YW20261101000002", "printed")]
    with pytest.raises(BackendConflict) as again:  # one sheet per certificate, at any kiosk
        client = kiosk.backend.client
        client.certificate_data("YW20261101000002", verify(client).verification_id)
    assert again.value.error == "already_issued"
    ui.tap(done.ids.finish)


def test_a_card_lifted_during_the_read_asks_to_place_it_again(home: UiDriver) -> None:
    from drivers.idcard.sam_emulator import Fault

    ui = home
    reader = ui.app.kiosk.harness.emulators[Role.IDCARD]
    reader.inject(Fault.READ_ERROR)  # the card leaves the field mid-read
    tap_service(ui, "query_certificate")
    work = on(ui, "step_work", 30)
    assert ui.wait(lambda: work.failed, 20)
    assert work.can_retry, work.lead_en
    assert "身份证" in work.lead_zh and "card" in work.lead_en.lower()
    assert ui.app.flow.journey.ctx.document is None
    ui.tap(work.ids.retry)  # placed again: this time the read goes through
    assert elder_offer(ui) is not None
    assert ui.app.flow.journey.ctx.document is not None


def test_the_senior_mode_speaks_each_step_and_can_be_muted(home: UiDriver) -> None:
    ui = home
    tap_service(ui, "query_certificate")
    ui.tap(elder_offer(ui).ids.yes)
    intro = on(ui, "step_face_intro", 20)
    voice = ui.app.shell.voice
    assert voice.on and voice.last == "接下来将进行人脸核验，请点击开始"
    assert ui.app.voice_on
    # the face check's instructions are spoken too, each as it comes up
    said: list[str] = []
    speak = ui.app.say

    def say(text: str) -> None:
        said.append(text)
        speak(text)

    ui.app.say = say
    try:
        ui.tap(intro.ids.start)
        face = on(ui, "face")
        assert ui.wait(lambda: "核验通过" in said, 40), (face.prompt_en, said)
        assert ui.wait(lambda: ui.app.manager.current != "face", 40)
    finally:
        del ui.app.say
    face_said = said[: said.index("核验通过") + 1]
    # each instruction as it came up (how many depends on how fast the visitor was), once
    # each and not every frame, to the end of the check
    assert all(a != b for a, b in itertools.pairwise(face_said)), face_said
    assert len(face_said) >= 2, face_said
    intro = on(ui, "step_consent", 20)
    mute = next(w for w in intro.walk() if getattr(w, "lead", "") == "静音")
    ui.tap(mute)
    assert voice.muted and not ui.app.voice_on
    ui.app.end_session("test")
    assert not voice.senior and not voice.muted  # the next person starts with the defaults
