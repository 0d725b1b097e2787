"""The application journeys in the real Kivy app, headless, on the emulators and the sandbox:
mortgage cancellation, address change, name change, the authorized query — what the registry
recorded (case, fields, attachments, signature), what was printed, and the unhappy paths
(the registry down at submit, a refusal, a wrong authorization code, the card taken away)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.base import Role
from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.outbox import ItemState
from kiosk.sandbox.seed import DEMO_AUTHORIZATION, DEMO_FORMER_NAME
from screens.demo import type_keys, type_pinyin, write_signature
from tests.journey_steps import (
    elder_offer,
    on,
    print_the_result,
    registry,
    tap_service,
    through_identity,
)
from tests.ui_driver import UiDriver

pytestmark = pytest.mark.ui

CARD = DEMO_CARDS[0]


@pytest.fixture
def printer(home: UiDriver) -> Any:
    emulator = home.app.kiosk.harness.emulators[Role.RECEIPT]
    emulator.clear()
    return emulator


def choose_first(ui: UiDriver, screen: Any) -> Any:
    assert ui.wait(lambda: not screen.loading, 20)
    assert not screen.empty, screen.texts_en
    ui.frames(2)
    button = screen.ids.cases.children[-1]
    ui.tap(button)
    return button


def scan_a_page(ui: UiDriver) -> Any:
    scan = on(ui, "scan", 20)
    assert scan.in_flow and scan.ids.done.disabled  # nothing scanned yet: no way on
    assert ui.wait(lambda: scan.pages >= 1, 40)  # the document camera captures the still page
    ui.frames(2)
    ui.tap(scan.ids.done)
    return scan


def sign_and_submit(ui: UiDriver) -> Any:
    review = on(ui, "step_review", 20)
    ui.tap(review.ids.confirm)
    sign = on(ui, "step_sign", 20)
    assert sign.ids.confirm.disabled  # no signature yet
    write_signature(ui, sign.ids.pad)
    ui.tap(sign.ids.confirm)
    return review


def case_row(ui: UiDriver, case_number: str) -> dict[str, Any]:
    with registry(ui) as db:
        row = db.execute(
            "SELECT type, status, unit_code, applicant, body FROM cases WHERE case_number = ?",
            (case_number,),
        ).fetchone()
    assert row is not None, case_number
    return {
        "type": row[0],
        "status": row[1],
        "unit_code": row[2],
        "applicant": row[3],
        "body": json.loads(row[4]),
    }


def attachment(ui: UiDriver, attachment_id: str) -> tuple[str, bytes]:
    with registry(ui) as db:
        content_type, body = db.execute(
            "SELECT content_type, data FROM attachments WHERE attachment_id = ?", (attachment_id,)
        ).fetchone()
    return content_type, bytes(body)


def receipt_with(printer: Any, text: str) -> Any:
    found = [r for r in printer.receipts() if text in r.text]
    assert len(found) == 1, [r.text[:60] for r in printer.receipts()]
    return found[0]


def test_mortgage_cancellation_end_to_end(home: UiDriver, printer: Any) -> None:
    ui = home
    tap_service(ui, "mortgage_cancellation")
    taps_at_card = ui.taps
    choose = through_identity(ui, then="step_choose")
    assert choose.texts_zh in ("请选择要注销的抵押", "正在查询您名下的抵押登记…")
    button = choose_first(ui, choose)
    journey = ui.app.flow.journey
    mortgage = journey.ctx.mortgage
    assert mortgage is not None and button.case_number == mortgage.mortgage_id
    scan_a_page(ui)
    review = sign_and_submit(ui)
    assert "抵押权注销登记" in review.lines and mortgage.creditor in review.lines
    done = on(ui, "step_done", 40)
    case = journey.ctx.submitted
    assert case is not None and case.case_number in done.outputs and done.has_qr
    row = case_row(ui, case.case_number)
    assert row["type"] == "mortgage_cancellation" and row["applicant"] == CARD.number
    assert row["status"] == "registered"  # a cancellation is registered at once
    assert row["body"]["mortgage_id"] == mortgage.mortgage_id
    pdf_id, signature_id = row["body"]["attachments"]
    assert attachment(ui, pdf_id)[1].startswith(b"%PDF-")
    content_type, image = attachment(ui, signature_id)
    assert content_type == "image/jpeg" and image.startswith(b"\xff\xd8\xff")
    (signature,) = row["body"]["signatures"]
    assert signature["signer"] == "applicant"
    assert signature["image_sha256"] == hashlib.sha256(image).hexdigest()
    with registry(ui) as db:
        status = db.execute(
            "SELECT status FROM mortgages WHERE mortgage_id = ?", (mortgage.mortgage_id,)
        ).fetchone()[0]
    assert status == "cancelled"
    ack = receipt_with(printer, "受理回执")
    assert case.case_number in ack.text and "抵押权注销登记" in ack.text
    assert CARD.name not in ack.text and CARD.name[0] + "*" in ack.text  # masked
    assert ack.qr_codes == [case.progress_url]
    ui.tap(done.ids.finish)
    print(f"mortgage cancellation: {ui.taps - taps_at_card} taps after the card")
    assert not journey.ctx.signature and journey.ctx.scan is None  # wiped with the visit


def test_address_change_with_the_pinyin_keyboard(home: UiDriver, printer: Any) -> None:
    ui = home
    tap_service(ui, "address_change")
    choose = through_identity(ui, then="step_choose")
    choose_first(ui, choose)
    form = on(ui, "step_form", 20)
    journey = ui.app.flow.journey
    record = journey.ctx.property
    assert record is not None
    # what the kiosk knows is filled and cannot be typed over
    assert form.boxes["holder"].value == CARD.name and not form.boxes["holder"].editable
    assert form.boxes["property"].value == record.address
    assert form.boxes["id_number"].value.startswith("110") and "*" in form.boxes["id_number"].value
    assert form.boxes["new_address"].value == CARD.address  # the card's, to change
    assert form.ids.keyboard.mode == "pinyin"
    ui.tap(form.ids.erase)
    keyboard = form.ids.keyboard
    type_pinyin(ui, keyboard, "hangzhoushi", "杭州市")
    type_pinyin(ui, keyboard, "zhongshanlu", "中山路")
    type_keys(ui, keyboard, "88")
    type_pinyin(ui, keyboard, "hao", "号")
    assert form.boxes["new_address"].value == "杭州市中山路88号"
    ui.tap(form.boxes["phone"])
    assert keyboard.mode == "digits"
    type_keys(ui, keyboard, "1380013")  # too short
    ui.tap(form.ids.next)
    assert ui.app.manager.current == "step_form" and form.boxes["phone"].problem
    assert "11 位手机号码" in form.boxes["phone"].note_zh
    type_keys(ui, keyboard, "8000")
    ui.tap(form.ids.next)
    scan_a_page(ui)
    sign_and_submit(ui)
    done = on(ui, "step_done", 40)
    case = journey.ctx.submitted
    assert case is not None
    row = case_row(ui, case.case_number)
    assert row["type"] == "address_change" and row["status"] == "in_review"
    assert row["unit_code"] == record.unit_code
    fields = {f["name"]: f["value"] for f in row["body"]["fields"]}
    assert fields == {"new_address": "杭州市中山路88号", "phone": "13800138000"}
    assert len(row["body"]["attachments"]) == 2
    assert case.case_number in receipt_with(printer, "受理回执").text
    ui.tap(done.ids.finish)


def test_name_change_takes_the_new_name_from_the_card(home: UiDriver, printer: Any) -> None:
    ui = home
    tap_service(ui, "name_change")
    choose = through_identity(ui, then="step_choose")
    choose_first(ui, choose)
    form = on(ui, "step_form", 20)
    assert form.boxes["new_name"].value == CARD.name and not form.boxes["new_name"].editable
    # the former name is the one the register has, read from the record: never typed
    former = form.boxes["former_name"]
    assert former.value == DEMO_FORMER_NAME and not former.editable
    ui.tap(form.ids.next)  # nothing typed yet: the phone says what it needs
    assert form.boxes["phone"].problem and not former.problem
    ui.tap(form.boxes["phone"])
    type_keys(ui, form.ids.keyboard, "13912345678")
    ui.tap(form.ids.next)
    scan_a_page(ui)
    sign_and_submit(ui)
    on(ui, "step_done", 40)
    case = ui.app.flow.journey.ctx.submitted
    assert case is not None
    row = case_row(ui, case.case_number)
    fields = {f["name"]: f["value"] for f in row["body"]["fields"]}
    assert row["type"] == "name_change"
    assert fields == {
        "new_name": CARD.name,
        "former_name": DEMO_FORMER_NAME,
        "phone": "13912345678",
    }
    assert case.case_number in receipt_with(printer, "受理回执").text


def test_the_registry_down_at_submit_keeps_the_application_and_sends_it_once(
    home: UiDriver, printer: Any
) -> None:
    ui = home
    sandbox = ui.app.kiosk.backend.sandbox
    outbox = ui.app.kiosk.backend.outbox
    with registry(ui) as db:
        before = db.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    tap_service(ui, "mortgage_cancellation")
    choose_first(ui, through_identity(ui, then="step_choose"))
    scan_a_page(ui)
    journey = ui.app.flow.journey
    sandbox.set_faults(m.Faults(status=503, count=100_000))  # the registry answers 503 now
    try:
        sign_and_submit(ui)
        done = on(ui, "step_done", 40)
        assert done.queued and journey.ctx.submitted is None
        reference = journey.ctx.queued
        assert reference.startswith("S") and reference in done.outputs
        assert "网络恢复后自动提交" in done.outputs
        ack = receipt_with(printer, "受理回执")
        assert reference in ack.text and "业务编号" not in ack.text
        assert ack.qr_codes == []  # no page a phone could open yet: the number says it
        assert "凭上述编号在人工窗口" in ack.text
        key = journey.key("submit")
        assert outbox.item(key).state is ItemState.PENDING
        ui.tap(done.ids.finish)  # the person leaves; the application stays in the outbox
    finally:
        sandbox.set_faults(m.Faults(count=0))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and outbox.item(key).state is not ItemState.SENT:
        ui.frames(5)
    item = outbox.item(key)
    assert item.state is ItemState.SENT, item
    with registry(ui) as db:
        after = db.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    assert after == before + 1  # sent once
    row = case_row(ui, item.result["case_number"])
    assert row["type"] == "mortgage_cancellation" and len(row["body"]["attachments"]) == 2
    audit = ui.app.kiosk.audit_log
    assert audit.records("application.submit")[-1].outcome == "waiting"


def test_a_refused_application_says_why_and_hands_off_to_the_counter(
    home: UiDriver, printer: Any
) -> None:
    ui = home
    tap_service(ui, "mortgage_cancellation")
    choose_first(ui, through_identity(ui, then="step_choose"))
    journey = ui.app.flow.journey
    mortgage = journey.ctx.mortgage
    scan_a_page(ui)
    with registry(ui) as db:  # the bank released it at the counter meanwhile
        db.execute(
            "UPDATE mortgages SET status = 'cancelled' WHERE mortgage_id = ?",
            (mortgage.mortgage_id,),
        )
    sign_and_submit(ui)
    work = on(ui, "step_work", 20)
    assert ui.wait(lambda: work.failed, 30)
    assert work.lead_zh == "该不动产上没有这笔有效抵押，请到人工窗口核实"
    assert not work.can_retry
    ui.tap(work.ids.counter)
    assert ui.wait(lambda: work.handoff_done, 20)
    slip = receipt_with(printer, "人工窗口接续单")
    assert "已扫描材料" in slip.text and "已签名" in slip.text
    assert CARD.name not in slip.text and CARD.number not in slip.text
    assert ui.app.kiosk.audit_log.records("application.submit")[-1].outcome == "refused"


def test_authorized_query_with_the_holders_code(home: UiDriver) -> None:
    ui = home
    kiosk = ui.app.kiosk
    queue = kiosk.harness.emulators[Role.CERTIFICATE]
    before = set(queue.out.glob("*.pdf"))
    tap_service(ui, "authorized_query")
    form = through_identity(ui, then="step_form")
    assert form.ids.keyboard.mode == "code"
    type_keys(ui, form.ids.keyboard, "AUTH-WRONG-01")
    ui.tap(form.ids.next)
    consent = on(ui, "step_consent", 20)
    ui.tap(consent.ids.agree)
    work = on(ui, "step_work", 20)
    assert ui.wait(lambda: work.failed, 20)
    assert "授权码" in work.lead_zh and work.can_retry
    ui.tap(work.ids.retry)  # back to the code, as typed
    form = on(ui, "step_form", 20)
    assert form.boxes["authorization_code"].value == "AUTH-WRONG-01"
    ui.tap(form.ids.erase)
    type_keys(ui, form.ids.keyboard, DEMO_AUTHORIZATION)
    ui.tap(form.ids.next)
    ui.tap(on(ui, "step_consent", 20).ids.agree)
    print_the_result(ui)
    done = on(ui, "step_done", 60)
    query = ui.app.flow.journey.ctx.query
    assert query is not None and query.kind is m.QueryKind.UNIT and query.property_count == 1
    assert query.verification_code in done.outputs
    with registry(ui) as db:
        (unit,) = db.execute(
            "SELECT unit_code FROM authorizations WHERE code = ?", (DEMO_AUTHORIZATION,)
        ).fetchone()
        (result,) = db.execute(
            "SELECT result FROM queries WHERE query_id = ?", (query.query_id,)
        ).fetchone()
    assert [p["unit_code"] for p in json.loads(result)["properties"]] == [unit]
    assert ui.wait(lambda: len(set(queue.out.glob("*.pdf")) - before) == 1, 30)
    consent_record = kiosk.audit_log.records("consent.given")[-1]
    assert consent_record.fields["scope"] == "authorized_query"
    ui.tap(done.ids.finish)


@pytest.fixture
def reader(home: UiDriver) -> Iterator[Any]:
    emulator = home.app.kiosk.harness.emulators[Role.IDCARD]
    try:
        yield emulator
    finally:
        emulator.place_card()


def card_removed_notice(ui: UiDriver) -> Any:
    assert ui.wait(lambda: any(type(w).__name__ == "CardRemoved" for w in ui.window.children), 20)
    ui.frames(3)
    return next(w for w in ui.window.children if type(w).__name__ == "CardRemoved")


def test_a_card_taken_away_mid_journey_asks_and_the_person_goes_on(
    home: UiDriver, reader: Any
) -> None:
    ui = home
    tap_service(ui, "address_change")
    ui.tap(elder_offer(ui).ids.no)
    on(ui, "step_face_intro", 20)
    reader.remove_card()
    notice = card_removed_notice(ui)
    assert "身份证已取走" in notice.ids.message.lead
    ui.tap(notice.ids.go_on)
    assert ui.app.notice is None and ui.app.manager.current == "step_face_intro"
    assert ui.app.flow.journey.ctx.document is not None  # the visit goes on
    ui.frames(30)
    assert ui.app.notice is None  # asked once: they took it on purpose
    audit = ui.app.kiosk.audit_log
    assert [r.outcome for r in audit.records("journey.card")][-2:] == ["removed", "go_on"]


def test_a_card_taken_away_and_nobody_answering_ends_the_visit(home: UiDriver, reader: Any) -> None:
    ui = home
    tap_service(ui, "mortgage_cancellation")
    choose_first(ui, through_identity(ui, then="step_choose"))
    journey = ui.app.flow.journey
    ui.app.flow.card_grace_s = 2.0
    on(ui, "scan", 20)
    reader.remove_card()
    card_removed_notice(ui)
    assert ui.wait(lambda: ui.app.manager.current == "attract", 15), ui.app.manager.current
    assert ui.app.flow is None and journey.ctx.document is None and journey.ctx.mortgage is None
    purge = ui.app.kiosk.audit_log.records("session.purge")[-1]
    assert purge.fields["reason"] == "card_removed"


# the wipe is one for every step: shown where the camera runs and where all is entered
@pytest.mark.parametrize("screen", ["scan", "step_sign"])
def test_walking_away_at_an_application_step_wipes_the_visit(home: UiDriver, screen: str) -> None:
    ui = home
    tap_service(ui, "address_change")
    choose_first(ui, through_identity(ui, then="step_choose"))
    journey = ui.app.flow.journey
    form = on(ui, "step_form", 20)
    if screen != "step_form":
        ui.tap(form.boxes["phone"])
        type_keys(ui, form.ids.keyboard, "13800138000")
        ui.tap(form.ids.next)
        if screen != "scan":
            scan_a_page(ui)
            if screen == "step_sign":
                ui.tap(on(ui, "step_review", 20).ids.confirm)
    on(ui, screen, 20)
    if screen == "step_sign":
        write_signature(ui, ui.app.manager.get_screen("step_sign").ids.pad)
    scan = journey.ctx.scan
    session = ui.app.shell.session
    ui.idle(session.idle_timeout_s + session.warning_s + 1)  # nobody comes back
    assert ui.wait(lambda: ui.app.manager.current == "attract", 10), ui.app.manager.current
    assert ui.app.flow is None and journey.ctx.document is None and journey.ctx.form == {}
    if scan is not None:
        assert scan.pages == []  # the scanned pages are gone too
    if screen == "step_sign":
        assert ui.app.manager.get_screen("step_sign").ids.pad.strokes == []
    purge = ui.app.kiosk.audit_log.records("session.purge")[-1]
    assert purge.fields["reason"] == "idle"


def test_a_sitting_of_several_ended_from_the_party_screen_prints_where_each_got_to(
    home: UiDriver, printer: Any, tmp_path: Any
) -> None:
    """The co-owned flat chosen, the co-owner's turn on screen; nobody comes and the person
    taps "end the sitting": the visit ends and the slip says who was verified and that
    nothing was filed (by role: nothing personal)."""
    from kiosk.sandbox.seed import DEMO_SHARED_UNIT

    ui = home
    tap_service(ui, "private_mortgage")
    choose = through_identity(ui, then="step_choose")
    assert ui.wait(lambda: not choose.loading, 20)
    ui.frames(2)
    ui.tap(next(b for b in choose.ids.cases.children if b.case_number == DEMO_SHARED_UNIT))
    party = on(ui, "step_party", 20)
    assert party.lead_zh == "请抵押人（共有人） 陈**将本人身份证放在感应区"
    assert "✓  抵押人  张**  ·  已核验" in party.ids.rows.text
    assert "▶  抵押人（共有人）  陈**  ·  请放置身份证" in party.ids.rows.text
    ui.save(tmp_path / "party-step.png")
    ui.tap(party.ids.cancel)
    assert ui.wait(lambda: ui.app.manager.current == "attract", 20)
    assert ui.wait(lambda: any("人工窗口接续单" in r.text for r in printer.receipts()), 20)
    slip = receipt_with(printer, "人工窗口接续单")
    assert "抵押人：已核验" in slip.text and "抵押人（共有人）：未到场" in slip.text
    assert "申请未提交" in slip.text.replace("\n", "").replace(" ", "")
    assert CARD.name not in slip.text and CARD.number not in slip.text
    assert ui.app.kiosk.audit_log.records("journey.end")[-1].outcome == "cancel"
