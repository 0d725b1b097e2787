"""The bank service point in the real Kivy app, headless, on the emulators and the sandbox: the
operator logs in, the borrower's card, face check and signed authorization, each mortgage
journey to the registry (case, parties, attachments, signatures), maker-checker, the
workbench (reprint, the registration proof), an idle logout that keeps the draft, a face that
does not match, and a locked-out operator."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Role
from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.bank import LoginRefused
from kiosk.config import BankSection, SiteMode
from kiosk.outbox import ItemState, held_group
from kiosk.sandbox.seed import DEMO_ADVANCE, DEMO_CONTRACT, SANDBOX_PASSWORD
from screens.app import KioskApp
from screens.demo import type_keys, write_signature
from tests.journey_steps import face_step, on, pdf_text, registry
from tests.ui_driver import UiDriver

pytestmark = pytest.mark.ui

CARD = DEMO_CARDS[0]
BANK = "BOC-JN"


@pytest.fixture
def bank(ui: UiDriver) -> Iterator[UiDriver]:
    """An app of the test's own started as a bank service point (BOC-JN), on the login screen,
    on the register the UI run started with (tests/conftest.py copies it in for each test)."""
    kiosk = ui.app.kiosk
    hall = kiosk.config
    kiosk.config = dataclasses.replace(
        hall,
        kiosk=dataclasses.replace(hall.kiosk, site_mode=SiteMode.BANK),
        bank=BankSection(bank_code=BANK, operator_idle_s=120.0),
    )
    kiosk.harness.emulators[Role.IDCARD].place_card(CARD)
    kiosk.harness.emulators[Role.RECEIPT].clear()
    ui.open_app(KioskApp(kiosk))
    assert ui.app.manager.current == "operator_login"
    try:
        yield ui
    finally:
        app = ui.app
        ui.close_app()  # the operator's session ends: what they had open is kept as a draft
        if app.logout_job is not None:
            app.logout_job.join(10)
        kiosk.config = hall
        kiosk.harness.emulators[Role.IDCARD].place_card(CARD)


def type_text(ui: UiDriver, keyboard: Any, text: str) -> None:
    """Tap ``text`` on the text keyboard, with the shift key for capitals."""
    for char in text:
        if char.isalpha() and char.isupper() != keyboard.upper:
            ui.tap(keyboard.key_button("shift"))
        ui.tap(keyboard.key_button(char))


def login(ui: UiDriver, operator: str = "op01", password: str = SANDBOX_PASSWORD) -> Any:
    screen = on(ui, "operator_login", 10)
    ui.tap(screen.ids.operator_id)
    for _ in screen.values["operator_id"]:  # the id stays after a failure: typed afresh
        ui.tap(screen.ids.keyboard.key_button("backspace"))
    type_text(ui, screen.ids.keyboard, operator)
    ui.tap(screen.ids.password)
    type_text(ui, screen.ids.keyboard, password)
    ui.tap(screen.ids.login)
    return screen


def workbench(ui: UiDriver) -> Any:
    bench = on(ui, "workbench", 20)
    assert ui.wait(lambda: not bench.loading, 20), bench.message
    ui.frames(2)
    return bench


def start(ui: UiDriver, service: str) -> None:
    bench = workbench(ui)
    button = next(b for b in bench.ids.services.children if b.service == service)
    assert not button.disabled, button.note
    ui.tap(button)


def through_borrower(ui: UiDriver, camera: bool = False) -> Any:
    """The borrower's card (no elder offer at a bank: the operator drives), the face notice
    and the face check (``journey_steps.face_step``), then the authorization to sign."""
    face_step(ui, camera)
    return sign(ui)


def sign(ui: UiDriver) -> Any:
    screen = on(ui, "step_sign", 30)
    write_signature(ui, screen.ids.pad)
    ui.frames(1)
    ui.tap(screen.ids.confirm)
    return screen


def choose(ui: UiDriver, key: str) -> None:
    screen = on(ui, "step_choose", 20)
    assert ui.wait(lambda: not screen.loading, 20)
    assert not screen.empty, screen.texts_en
    ui.frames(2)
    button = next(b for b in screen.ids.cases.children if b.case_number == key)
    ui.tap(button)


def fill(ui: UiDriver, values: dict[str, str], toggles: tuple[str, ...] = ()) -> Any:
    form = on(ui, "step_form", 20)
    for name, text in values.items():
        ui.tap(form.boxes[name])
        ui.tap(form.ids.erase)
        type_keys(ui, form.ids.keyboard, text)
    for name in toggles:  # a choice field: a tap takes the next option
        ui.tap(form.boxes[name])
    ui.tap(form.ids.next)
    problems = {n: (b.value, b.note_en) for n, b in form.boxes.items() if b.problem}
    assert ui.wait(lambda: ui.app.manager.current != "step_form", 5), problems
    return form


def scan_review_sign(ui: UiDriver) -> None:
    scan = on(ui, "scan", 20)
    assert ui.wait(lambda: scan.pages >= 1, 40)
    ui.frames(2)
    ui.tap(scan.ids.done)
    review = on(ui, "step_review", 20)
    assert "代理人" in review.lines and "中国银行济南分行" in review.lines
    ui.tap(review.ids.confirm)
    # the borrower signed once, the authorization (the bank files as their agent): the
    # operator's pad comes next, never the borrower's again
    operator = on(ui, "step_sign", 10)
    assert ui.wait(lambda: operator.heading_zh == "请经办人签名", 10)
    sign(ui)


def free_unit(ui: UiDriver) -> str:
    with registry(ui) as db:
        return str(
            db.execute(
                "SELECT h.unit_code FROM holders h WHERE h.id_number = ? AND NOT EXISTS "
                "(SELECT 1 FROM mortgages g WHERE g.unit_code = h.unit_code "
                "AND g.status = 'active' AND g.bank_code = ?) ORDER BY h.unit_code LIMIT 1",
                (CARD.number, BANK),
            ).fetchone()[0]
        )


def bank_mortgage(ui: UiDriver) -> str:
    with registry(ui) as db:
        return str(
            db.execute(
                "SELECT mortgage_id FROM mortgages g JOIN holders h USING (unit_code) "
                "WHERE h.id_number = ? AND g.bank_code = ? AND g.status = 'active' "
                "ORDER BY mortgage_id LIMIT 1",
                (CARD.number, BANK),
            ).fetchone()[0]
        )


def case_record(ui: UiDriver, case_number: str) -> tuple[str, dict[str, Any]]:
    with registry(ui) as db:
        status, body = db.execute(
            "SELECT status, body FROM cases WHERE case_number = ?", (case_number,)
        ).fetchone()
    return status, json.loads(body)


def assert_filed_with_evidence(ui: UiDriver, record: dict[str, Any], kind: str) -> None:
    """Parties, the contracts' PDF and both signatures, as the registry recorded them."""
    assert record["type"] == kind and record["bank"]["code"] == BANK
    assert record["parties"]["mortgagor"] == CARD.number
    assert record["parties"]["agent"].startswith(f"{BANK}/")
    assert {s["signer"] for s in record["signatures"]} == {"applicant", "operator"}
    with registry(ui) as db:
        stored = {
            row[0]: (row[1], row[2])
            for row in db.execute(
                "SELECT attachment_id, content_type, sha256 FROM attachments "
                f"WHERE attachment_id IN ({','.join('?' * len(record['attachments']))})",
                record["attachments"],
            )
        }
    kinds = sorted(t for t, _ in stored.values())
    assert kinds == ["application/pdf", "image/jpeg", "image/jpeg"]
    # each signature's hash is one of the uploaded images: the evidence matches the claim
    image_hashes = {h for t, h in stored.values() if t == "image/jpeg"}
    assert {s["image_sha256"] for s in record["signatures"]} == image_hashes
    with registry(ui) as db:
        scope = db.execute(
            "SELECT scope, id_number FROM bank_authorizations WHERE authorization_id = ?",
            (record["authorization_id"],),
        ).fetchone()
    assert tuple(scope) == (kind, CARD.number)  # authorized for this application only


def finish(ui: UiDriver) -> Any:
    done = on(ui, "step_done", 60)
    ui.tap(done.ids.finish)
    return workbench(ui)


def test_first_registration_with_maker_checker_and_the_proof(
    bank: UiDriver, tmp_path: Path
) -> None:
    ui = bank
    kiosk = ui.app.kiosk
    printer = kiosk.harness.emulators[Role.RECEIPT]
    login(ui, "op01")
    bench = workbench(ui)
    assert "中国银行济南分行" in bench.bank_text and "金融许可证" in bench.bank_text
    start(ui, "bank_mortgage_first")
    through_borrower(ui)  # the camera check itself: tests/test_ui_face.py
    unit = free_unit(ui)
    choose(ui, unit)
    form = on(ui, "step_form", 20)
    ui.frames(2)
    ui.screenshot(tmp_path / "bank_form.png")
    assert form.values["creditor"] == "中国银行济南分行"  # from the licence data, not typed
    assert form.values["debtor"] == CARD.name
    fill(
        ui,
        {"amount": "800000", "term_from": "20261201", "term_to": "20461130"},
        toggles=("mortgage_type", "combined_confirmation"),
    )
    scan_review_sign(ui)
    done = on(ui, "step_done", 60)
    journey = ui.app.flow.journey
    draft_id = journey.ctx.awaiting_review
    assert draft_id and journey.ctx.submitted is None  # waits for a second operator
    assert ui.wait(lambda: any(draft_id in r.text for r in printer.receipts()), 20)
    ack = next(r for r in printer.receipts() if draft_id in r.text)
    assert "复核" in ack.text and "中国银行济南分行" in ack.text
    ui.tap(done.ids.finish)
    bench = workbench(ui)
    row = bench.row(draft_id)  # the maker sees it waiting, with no way to approve it
    assert not [w for w in row.children if getattr(w, "action", "").startswith("复核")]
    assert [w for w in row.children if getattr(w, "action", "") == "撤回 Withdraw"]
    ui.tap(bench.ids.logout)
    login(ui, "op02")
    bench = workbench(ui)
    review = next(
        w for w in bench.row(draft_id).children if getattr(w, "action", "") == "复核 Review"
    )
    ui.screenshot(tmp_path / "bank_workbench.png")
    ui.tap(review)
    approve = on(ui, "approve", 10)
    ui.frames(2)
    ui.screenshot(tmp_path / "bank_approve.png")
    # the amount read back grouped and in capitals (the registry gets the digits)
    assert "800,000 元（捌拾万元整）" in approve.lines and "最高额抵押" in approve.lines
    ui.tap(approve.ids.pages)  # the checker looks at what the maker scanned, and the signatures
    assert ui.wait(lambda: getattr(approve, "pages_view", None) is not None, 20), approve.message
    pages = approve.pages_view
    ui.frames(2)
    ui.screenshot(tmp_path / "bank_pages.png")
    shown = pages.shown
    ui.tap(pages.ids_close)
    # the scanned contract's pages (the document camera may take the sheet twice) and both
    # signatures, each as a picture
    assert shown >= 3
    assert ui.wait(lambda: pages.parent is None, 5)
    assert kiosk.audit_log.records("bank.review")[-1].outcome == "documents_opened"
    ui.tap(approve.ids.approve)
    assert ui.wait(lambda: "业务编号" in approve.message, 20), approve.message
    case_number = approve.message.split("业务编号 ")[1].split()[0]
    assert ui.wait(lambda: any(case_number in r.text for r in printer.receipts()), 20)
    filed = next(r for r in printer.receipts() if case_number in r.text)
    assert "代理人 Agent: 中国银行济南分行" in filed.text and "（op01）" in filed.text
    assert "复核人 Checked by" in filed.text and "（op02）" in filed.text  # not the agent
    status, record = case_record(ui, case_number)
    assert status == "in_review"
    assert (record["maker"], record["checker"]) == ("op01", "op02")
    assert record["businesses"] == ["mortgage_first", "maximum_confirmation"]
    fields = {f["name"]: f["value"] for f in record["fields"]}
    assert fields["mortgage_type"] == "最高额抵押" and fields["amount"] == "800000"
    assert_filed_with_evidence(ui, record, "mortgage_first")
    audit = kiosk.audit_log
    assert audit.records("bank.approve")[-1].actor == f"operator:{BANK}/op02"
    assert audit.records("bank.authorization")[-1].actor == f"operator:{BANK}/op01"
    # the registry registers it; the workbench then prints the e-registration proof
    ui.sandbox().register_case(case_number)
    ui.tap(approve.ids.back)
    assert approve.pages_view is None  # the documents are not kept on the screen
    bench = workbench(ui)
    ui.tap(bench.ids.reload)
    bench = workbench(ui)
    queue = kiosk.harness.emulators[Role.CERTIFICATE]
    before = set(queue.out.glob("*.pdf"))
    proof = next(
        w
        for w in bench.row(case_number).children
        if getattr(w, "action", "").startswith("打印登记证明")
    )
    ui.tap(proof)
    assert ui.wait(lambda: len(set(queue.out.glob("*.pdf")) - before) == 1, 30), bench.message
    assert ui.wait(lambda: bench.message == "已打印 Printed", 20), bench.message


JOURNEYS = {
    "bank_mortgage_change": ("mortgage_change", "in_review"),
    "bank_mortgage_cancellation": ("mortgage_cancellation", "registered"),
    "bank_advance_mortgage": ("advance_mortgage", "in_review"),
    "bank_advance_to_mortgage": ("advance_to_mortgage", "in_review"),
}


# the other two (and what each filing leaves at the registry) are in test_runner.py; through
# the screens: a form with a toggle, and a filing registered at once (its proof)
@pytest.mark.parametrize("service", ["bank_mortgage_cancellation", "bank_mortgage_change"])
def test_each_bank_journey_files_its_case(bank: UiDriver, service: str, tmp_path: Path) -> None:
    ui = bank
    kind, expected = JOURNEYS[service]
    printer = ui.app.kiosk.harness.emulators[Role.RECEIPT]
    login(ui)
    start(ui, service)
    through_borrower(ui)
    mortgage = bank_mortgage(ui)
    if service == "bank_mortgage_change":
        choose(ui, mortgage)
        form = on(ui, "step_form", 20)
        assert form.values["max_period_to"] == "/"  # not a maximum-amount mortgage
        fill(ui, {"new_amount": "300000", "new_term_to": "20401231"}, toggles=("rank",))
    elif service == "bank_mortgage_cancellation":
        choose(ui, mortgage)
    elif service == "bank_advance_mortgage":
        choose(ui, DEMO_CONTRACT)
        form = on(ui, "step_form", 20)
        assert form.values["contract_number"] == DEMO_CONTRACT
        fill(ui, {"amount": "2000000", "term_from": "20261201", "term_to": "20561130"})
    else:
        choose(ui, DEMO_ADVANCE)
    scan_review_sign(ui)
    on(ui, "step_done", 60)
    case = ui.app.flow.journey.ctx.submitted
    assert case is not None, ui.app.flow.journey.ctx.awaiting_review
    status, record = case_record(ui, case.case_number)
    assert status == expected
    assert (record["maker"], record["checker"]) == ("op01", "")  # no maker-checker for it
    assert_filed_with_evidence(ui, record, kind)
    if service == "bank_mortgage_cancellation":
        with registry(ui) as db:
            gone = db.execute(
                "SELECT status FROM mortgages WHERE mortgage_id = ?", (mortgage,)
            ).fetchone()[0]
        assert gone == "cancelled" and record["mortgage_id"] == mortgage
    if service == "bank_mortgage_change":
        fields = {f["name"]: f["value"] for f in record["fields"]}
        assert fields["rank"] == "第二顺位" and fields["max_period_to"] == "/"
    assert ui.wait(lambda: any(case.case_number in r.text for r in printer.receipts()), 20)
    bench = finish(ui)
    row = bench.row(case.case_number)
    actions = [getattr(w, "action", "") for w in row.children]
    assert "补打回执 Reprint" in actions
    assert ("打印登记证明 Proof" in actions) == (expected == "registered")
    printed = len(printer.receipts())
    ui.tap(next(w for w in row.children if getattr(w, "action", "") == "补打回执 Reprint"))
    assert ui.wait(lambda: len(printer.receipts()) == printed + 1, 20)
    if expected == "registered":  # the proof's text, from the registry
        proof = tmp_path / "proof.pdf"
        operator = ui.app.desk.token
        proof.write_bytes(
            ui.app.kiosk.backend.client.registration_proof(case.case_number, operator=operator)
        )
        text = pdf_text(proof)
        assert "不动产登记证明" in text and "抵押权注销登记" in text and case.case_number in text


def test_an_idle_operator_is_logged_out_and_the_draft_kept(bank: UiDriver) -> None:
    ui = bank
    app = ui.app
    app.kiosk.config = dataclasses.replace(
        app.kiosk.config, bank=BankSection(bank_code=BANK, operator_idle_s=6.0)
    )
    login(ui)
    start(ui, "bank_mortgage_first")
    through_borrower(ui)
    choose(ui, free_unit(ui))
    form = on(ui, "step_form", 20)
    ui.tap(form.boxes["amount"])
    type_keys(ui, form.ids.keyboard, "650000")
    journey = app.flow.journey
    journey.ctx.form["amount"] = form.values["amount"]  # as the form keeps it on "next"
    # nobody touches the screen: the countdown, then the logout
    ui.idle(6.5)
    assert ui.wait(lambda: app.countdown is not None, 5)
    ui.idle(app.shell.timing.warning_s + 1)
    assert ui.wait(lambda: app.manager.current == "operator_login", 5)
    assert app.desk.session is None and app.flow is None
    assert form.values == {} and journey.ctx.document is None  # nothing personal on screen
    app.logout_job.join(10)
    with registry(ui) as db:
        status, body = db.execute(
            "SELECT status, body FROM drafts WHERE draft_id = ?", (journey.draft_id,)
        ).fetchone()
    assert status == "open"
    values = {v["name"]: v["value"] for v in json.loads(body)["values"]}
    assert values["amount"] == "650000"
    assert app.kiosk.audit_log.records("operator.logout")[-1].outcome == "idle"
    # the same operator resumes it with the borrower: identity again, the values back
    app.kiosk.config = dataclasses.replace(
        app.kiosk.config, bank=BankSection(bank_code=BANK, operator_idle_s=120.0)
    )
    login(ui)
    bench = workbench(ui)
    resume = next(
        w
        for w in bench.row(journey.draft_id).children
        if getattr(w, "action", "").startswith("继续")
    )
    ui.tap(resume)
    through_borrower(ui)
    choose(ui, free_unit(ui))
    form = on(ui, "step_form", 20)
    assert form.values["amount"] == "650000"
    resumed: Any = ui.app.flow
    assert resumed.journey.draft_id == journey.draft_id  # the same draft, not a second one


def test_a_borrower_whose_face_does_not_match_gets_no_authorization(bank: UiDriver) -> None:
    ui = bank
    other = DEMO_CARDS[1]  # the camera's visitor is not this card's holder
    ui.app.kiosk.harness.emulators[Role.IDCARD].place_card(other)
    login(ui)
    start(ui, "bank_mortgage_cancellation")
    intro = on(ui, "step_face_intro", 30)
    ui.tap(intro.ids.start)
    face = on(ui, "face")
    assert ui.wait(lambda: face.phase == "failed", 60), face.prompt_en
    assert face.prompt_zh == "人脸与证件不一致"
    # a bank has no counter: the way without the face is the operator's witness
    assert "经办人" in face.ids.counter.lead
    ui.tap(face.ids.counter)
    intro = on(ui, "step_face_intro", 20)
    assert intro.witnessing and intro.statement_zh
    journey = ui.app.flow.journey
    assert journey.ended == "" and not journey.ctx.outputs  # no hand-off slip
    with registry(ui) as db:
        granted = db.execute(
            "SELECT COUNT(*) FROM bank_authorizations WHERE id_number = ?", (other.number,)
        ).fetchone()[0]
    assert granted == 0
    assert ui.app.kiosk.audit_log.records("identity.check")[-1].outcome == "no_match"


def test_a_locked_out_operator_is_told_so(bank: UiDriver, tmp_path: Path) -> None:
    ui = bank
    screen = ui.app.screens.get("operator_login")
    login(ui, "op03", "wrong#1")  # typed on the screen's keyboard
    assert ui.wait(lambda: not screen.busy, 20)
    assert screen.message_zh == "账号或密码错误"
    assert screen.ids.password.value == ""  # the password is never left on screen
    for _ in range(4):  # four more, as the screen's worker sends them (no typing needed)
        with pytest.raises(LoginRefused) as refused:
            ui.app.desk.login("op03", "wrong#1")
        assert refused.value.message.zh == "账号或密码错误"
    screen = login(ui, "op03", SANDBOX_PASSWORD)
    assert ui.wait(lambda: not screen.busy, 20)
    assert "锁定" in screen.message_zh and ui.app.desk.session is None
    ui.frames(2)
    ui.screenshot(tmp_path / "bank_locked.png")
    records = ui.app.kiosk.audit_log.records("operator.login")
    assert records[-1].outcome == "locked" and records[-1].actor == f"operator:{BANK}/op03"
    assert hashlib.sha256(SANDBOX_PASSWORD.encode()).hexdigest() not in json.dumps(
        [r.fields for r in records]
    )


def test_a_borrower_who_declines_the_face_check_is_witnessed_by_the_operator(
    bank: UiDriver, tmp_path: Path
) -> None:
    """The face-recognition rules' alternative at a bank: the operator's in-person check,
    confirmed on screen and recorded by the registry as the witness; no camera at all."""
    ui = bank
    login(ui)
    start(ui, "bank_mortgage_cancellation")
    intro = on(ui, "step_face_intro", 30)
    ui.frames(2)
    assert "经办人当面核验" in intro.ids.alternative.lead
    seen: list[str] = []
    ui.app.manager.bind(current=lambda _m, name: seen.append(name))
    ui.tap(intro.ids.counter)  # "no face check: the operator checks"
    ui.frames(2)
    assert intro.witnessing and "op01" in intro.statement_zh
    assert CARD.name not in intro.statement_zh  # the name is masked on screen
    ui.screenshot(tmp_path / "bank_witness.png")
    ui.tap(intro.ids.counter)  # back: nothing recorded yet
    assert not intro.witnessing and ui.app.manager.current == "step_face_intro"
    assert not ui.app.kiosk.audit_log.records("identity.witness")
    ui.tap(intro.ids.counter)
    ui.tap(intro.ids.start)  # "I confirm: checked in person"
    sign(ui)  # the borrower's authorization
    mortgage = bank_mortgage(ui)
    choose(ui, mortgage)
    scan_review_sign(ui)
    on(ui, "step_done", 60)
    assert "face" not in seen  # the camera was never used
    case = ui.app.flow.journey.ctx.submitted
    assert case is not None
    _status, record = case_record(ui, case.case_number)
    assert record["identity"]["method"] == "operator_witness"
    assert record["identity"]["witness"] == f"{BANK}/op01"
    assert_filed_with_evidence(ui, record, "mortgage_cancellation")
    witnessed = ui.app.kiosk.audit_log.records("identity.witness")[-1]
    assert (witnessed.actor, witnessed.outcome) == (f"operator:{BANK}/op01", "verified")
    with registry(ui) as db:
        row = db.execute(
            "SELECT bank_code, operator_id, length(statement_sha256) FROM witnessed "
            "WHERE verification_id = ?",
            (record["identity"]["verification_id"],),
        ).fetchone()
    assert tuple(row) == (BANK, "op01", 64)


def test_maintenance_is_reached_from_the_operator_login_and_ends_the_operator_session(
    bank: UiDriver,
) -> None:
    ui = bank
    app = ui.app
    corner = (app.theme.mm(5), ui.window.height - app.theme.mm(5))
    screen = on(ui, "operator_login", 10)
    ui.tap_at(*corner)  # a short touch in the corner is nothing but a touch
    assert app.manager.current == "operator_login"
    ui.long_press(*corner, 0.5)
    assert app.manager.current == "maintenance_pin"
    app.leave_maintenance("test")
    assert app.manager.current == "operator_login"
    assert screen.values["operator_id"] == ""
    login(ui)
    workbench(ui)
    assert app.desk.session is not None
    app.open_maintenance_pin()  # e.g. from the out-of-service screen
    assert app.manager.current == "maintenance_pin" and app.desk.session is None
    assert app.kiosk.audit_log.records("operator.logout")[-1].outcome == "maintenance"
    app.leave_maintenance("test")
    assert app.manager.current == "operator_login"


@pytest.mark.parametrize("ended_by", ["idle", "out_of_service"])
def test_a_draft_kept_while_the_registry_is_away_goes_with_the_next_login(
    bank: UiDriver, ended_by: str
) -> None:
    """The operator's session ends while the registry is away — by idle (the drafts endpoint
    failing), or because the kiosk sees the registry down and goes out of service: the draft
    waits in the durable outbox (sealed), not lost, and reaches the registry once, with the
    operator's next login, before their workbench."""
    ui = bank
    app = ui.app
    link = app.kiosk.backend
    sandbox, outbox = link.sandbox, link.outbox
    idle_s = 6.0 if ended_by == "idle" else 120.0
    app.kiosk.config = dataclasses.replace(
        app.kiosk.config, bank=BankSection(bank_code=BANK, operator_idle_s=idle_s)
    )
    login(ui)
    start(ui, "bank_mortgage_cancellation")
    through_borrower(ui)
    journey = app.flow.journey
    choose(ui, bank_mortgage(ui))
    on(ui, "scan", 20)
    try:
        if ended_by == "idle":  # the drafts endpoint away (the heartbeat still answered)
            away = ["save_draft", "operator_logout"]
            sandbox.set_faults(m.Faults(status=503, count=100_000, routes=away))
            ui.idle(idle_s + app.shell.timing.warning_s + 1)  # past the countdown too
            assert ui.wait(lambda: app.manager.current == "operator_login", 10)
        else:  # the whole registry away, and the kiosk's heartbeat finds it so now
            sandbox.set_faults(m.Faults(status=503, count=100_000))
            threading.Thread(target=link.check_now, daemon=True).start()
            assert ui.wait(lambda: app.manager.current == "out_of_service", 60)
        assert app.desk.session is None and app.flow is None
        assert app.kiosk.audit_log.records("operator.logout")[-1].outcome == ended_by
        app.logout_job.join(30)
        assert app.kiosk.audit_log.records("bank.draft")[-1].outcome == "held"
        held = [
            i
            for i in outbox.items()
            if i.group == held_group(f"{BANK}/op01") and i.key.startswith(journey.id)
        ]
        assert [i.state for i in held] == [ItemState.PENDING]
    finally:
        sandbox.set_faults(m.Faults(count=0))
    with registry(ui) as db:
        assert db.execute(
            "SELECT COUNT(*) FROM drafts WHERE draft_id = ?", (journey.draft_id,)
        ).fetchone() == (0,)
    if ended_by == "out_of_service":  # the registry back: the kiosk is back at the login
        threading.Thread(target=link.check_now, daemon=True).start()
        assert ui.wait(lambda: app.manager.current == "operator_login", 60)
    app.kiosk.config = dataclasses.replace(
        app.kiosk.config, bank=BankSection(bank_code=BANK, operator_idle_s=120.0)
    )
    login(ui)
    bench = workbench(ui)
    assert bench.row(journey.draft_id) is not None  # there at once, to resume
    assert outbox.item(held[0].key).state is ItemState.SENT
    assert app.kiosk.audit_log.records("bank.draft")[-1].outcome == "sent_held"
    with registry(ui) as db:
        row = db.execute(
            "SELECT status, maker FROM drafts WHERE draft_id = ?", (journey.draft_id,)
        ).fetchone()
    assert tuple(row) == ("open", "op01")


def test_an_application_that_fails_at_submit_is_kept_as_the_operators_draft(
    bank: UiDriver,
) -> None:
    """The registry answers 503 at filing: the operator is told, may try again, and an
    application they then leave is their draft on the workbench, not lost."""
    ui = bank
    app = ui.app
    sandbox = app.kiosk.backend.sandbox
    login(ui)
    start(ui, "bank_mortgage_cancellation")
    through_borrower(ui)
    journey = app.flow.journey
    mortgage = bank_mortgage(ui)
    choose(ui, mortgage)
    filing = ["upload_attachment", "save_draft", "submit_draft"]  # the heartbeat still answers
    sandbox.set_faults(m.Faults(status=503, count=100_000, routes=filing))
    try:
        scan_review_sign(ui)
        work = on(ui, "step_work", 30)
        assert ui.wait(lambda: work.failed, 60), work.lead_en
        assert work.can_retry and "网络暂不可用" in work.lead_zh
        with registry(ui) as db:
            assert db.execute(
                "SELECT status FROM mortgages WHERE mortgage_id = ?", (mortgage,)
            ).fetchone() == ("active",)  # nothing was filed
    finally:
        sandbox.set_faults(m.Faults(count=0))
    ui.tap(work.ids.finish)
    bench = workbench(ui)
    app.logout_job.join(30)
    ui.tap(bench.ids.reload)
    bench = workbench(ui)
    resume = next(
        w
        for w in bench.row(journey.draft_id).children
        if getattr(w, "action", "").startswith("继续")
    )
    assert resume.action.startswith("继续")
    assert app.kiosk.audit_log.records("bank.draft")[-1].outcome == "kept"
    # a cancelled application is not kept: the operator chose to drop it
    drafts = len(app.desk.workbench().drafts)
    start(ui, "bank_mortgage_cancellation")
    through_borrower(ui)
    choose(ui, mortgage)
    on(ui, "scan", 20)
    app.end_session("cancel")
    workbench(ui)
    assert len(app.desk.workbench().drafts) == drafts


def test_a_checker_returns_an_application_and_its_maker_sees_why(bank: UiDriver) -> None:
    ui = bank
    draft_id = "DRETURN0001"
    body = {"summary": "抵押 张*国", "review": [{"name": "amount", "value": "800000"}]}
    with registry(ui) as conn:  # op01's complete application, waiting for a second operator
        conn.execute(
            "INSERT INTO drafts VALUES (?, ?, 'op01', '李经理1', 'mortgage_first', "
            "'awaiting_review', ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), '', '')",
            (draft_id, BANK, json.dumps(body, ensure_ascii=False)),
        )
    login(ui, "op02")
    bench = workbench(ui)
    review = next(
        w for w in bench.row(draft_id).children if getattr(w, "action", "") == "复核 Review"
    )
    ui.tap(review)
    approve = on(ui, "approve", 10)
    ui.frames(2)
    reasons = list(reversed(approve.ids.returns.children))
    assert len(reasons) == 3
    ui.tap(reasons[1])
    assert ui.wait(lambda: "已退回经办人" in approve.message, 20), approve.message
    with registry(ui) as conn:
        status, stored = conn.execute(
            "SELECT status, body FROM drafts WHERE draft_id = ?", (draft_id,)
        ).fetchone()
    assert status == "returned"
    assert json.loads(stored)["returned_reason"] == "合同或附件不全、不清晰"
    ui.tap(approve.ids.back)
    bench = workbench(ui)
    ui.tap(bench.ids.logout)
    login(ui, "op01")
    bench = workbench(ui)
    row = bench.row(draft_id)
    texts = [getattr(w, "text", "") for w in row.children]
    assert any("已退回 Returned" in t and "合同或附件不全" in t for t in texts), texts
    ui.tap(bench.ids.logout)
