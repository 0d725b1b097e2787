"""Scripted journeys: the real app, headless, driven with touches from the home screen to the
end, writing a screenshot of every screen, the printed receipts (PNG) and documents (PDF), and
``summary.json``. ``kiosk demo --journey NAME --out DIR``; ``kiosk demo --list``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.simulation import collect_outputs
from screens.headless import HeadlessDriver


@dataclass
class Recorder:
    """Walks the app with a driver; a screenshot each time a new screen comes up."""

    driver: HeadlessDriver
    out: Path
    screens: list[str] = field(default_factory=list)
    card_taps: int = 0  # taps before the card was read (not counted against the target)
    cut_off: dict[str, list[str]] = field(default_factory=dict)  # text that does not fit
    _last: str = ""
    _seen: list[str] = field(default_factory=list)  # screens since the last wait

    def __post_init__(self) -> None:
        self.driver.on_frame = self._frame

    def _frame(self) -> None:
        """Every frame: a screen that just came up is photographed once it has drawn."""
        current = self.driver.app.manager.current
        if current != self._last:
            self._last = current
            self._seen.append(current)
            self.shoot()

    def shoot(self, label: str = "") -> None:
        name = label or self.driver.app.manager.current
        self.screens.append(name)
        self._check(f"{len(self.screens):02d}-{name}")

    def _check(self, label: str) -> None:
        self.driver.save(self.out / f"{label}.png")
        # every label on the screen and in any dialog over it, checked as photographed
        cut = [c for w in self.driver.window.children for c in self.driver.overflowing(w)]
        if cut:
            self.cut_off[label] = cut

    def until(self, screen: str, timeout: float = 60.0) -> None:
        """Wait until ``screen`` is up or has come and gone since the last wait."""
        app = self.driver.app
        if not self.driver.wait(lambda: screen in self._seen, timeout):
            raise RuntimeError(f"expected the {screen} screen, still on {app.manager.current}")
        self._seen = self._seen[self._seen.index(screen) + 1 :]

    def tap_id(self, screen: str, widget: str) -> None:
        self.driver.tap(self.driver.app.manager.get_screen(screen).ids[widget])

    def tap_service(self, name: str) -> None:
        """The service's tile, through its group's tile when it is in one."""
        home = self.driver.app.manager.get_screen("home")
        own, group = home.tile_for(name)
        if own is None and group is not None:
            self.driver.tap(group)
            self.driver.frames(3)
            self.shoot(f"home-{group.group_name}")
            own, _ = home.tile_for(name)
        if own is None:
            raise RuntimeError(f"no tile for {name}")
        self.driver.tap(own)


def _pick(rec: Recorder, shot: str, key: str = "", timeout: float = 30) -> Any:
    """The choose screen's list, once loaded: a screenshot (``shot``, unless ""), then a tap on
    the item ``key`` (the first listed when ""). Returns the screen."""
    rec.until("step_choose", timeout)
    screen = rec.driver.app.manager.get_screen("step_choose")
    rec.driver.wait(lambda: not screen.loading, 20)
    rec.driver.frames(5)
    if shot:
        rec.shoot(shot)
    buttons = screen.ids.cases.children
    rec.driver.tap(next(b for b in buttons if b.case_number == key) if key else buttons[-1])
    return screen


def _start(rec: Recorder) -> None:
    driver = rec.driver
    driver.tap_at(driver.window.width / 2, driver.window.height / 2)
    rec.until("home")


def _finish(rec: Recorder) -> None:
    rec.until("step_done")
    rec.tap_id("step_done", "finish")
    rec.until("attract")


def queue_ticket(rec: Recorder) -> None:
    _start(rec)
    rec.tap_service("queue_ticket")
    _finish(rec)


def _query(rec: Recorder, service: str) -> None:
    _start(rec)
    rec.tap_service(service)
    _identity(rec)
    rec.until("step_consent", 20)
    rec.tap_id("step_consent", "agree")
    _result(rec)
    app = rec.driver.app
    rec.driver.wait(lambda: app.manager.current in ("step_pay", "step_done", "step_work"), 30)
    _pay_by_phone(rec)
    _finish(rec)


def _result(rec: Recorder) -> None:
    """What the query found, on screen; the person asks for the certificate."""
    rec.until("step_result", 30)
    screen = rec.driver.app.manager.get_screen("step_result")
    rec.driver.wait(lambda: not screen.loading, 20)
    rec.driver.frames(5)
    rec.shoot("step_result")
    rec.tap_id("step_result", "print")


def _pay_by_phone(rec: Recorder) -> None:
    app = rec.driver.app
    journey = app.flow.journey
    # a fee due: the pay screen; none: straight on to the end (no waiting for a pay screen)
    rec.driver.wait(lambda: bool({"step_pay", "step_done"} & set(rec._seen)), 60)
    if "step_pay" in rec._seen:
        rec.driver.wait(lambda: journey.ctx.order is not None, 20)
        rec.driver.frames(5)
        rec.shoot()
        # the person pays with a phone: the sandbox's payment simulator stands in for it
        sandbox = app.kiosk.backend.sandbox
        assert sandbox is not None, "the demo runs on the embedded sandbox"
        control = sandbox.control()
        try:
            control.pay(journey.ctx.order.order_id)
        finally:
            control.close()


def _identity(rec: Recorder) -> None:
    app = rec.driver.app
    # the card is on the reader already: its screen may come and go between two frames
    if not rec.driver.wait(
        lambda: "step_card" in rec._seen or app.flow.journey.ctx.document is not None, 30
    ):
        raise RuntimeError(f"expected the card step, still on {app.manager.current}")
    rec.card_taps = rec.driver.taps
    # the demo card's holder was born in 1949: the senior mode is offered; the demo says no
    rec.driver.wait(lambda: app.notice is not None or app.manager.current != "step_card", 30)
    if app.notice is not None and type(app.notice).__name__ == "ElderOffer":
        rec.driver.frames(5)
        rec.shoot("senior-offer")
        rec.driver.tap(app.notice.ids.no)
    _face(rec)


def _face(rec: Recorder) -> None:
    """The face check's notice, then the check on the emulated camera (retried if the
    random challenge came at the wrong moment of the footage's loop)."""
    app = rec.driver.app
    rec.until("step_face_intro", 30)
    rec.driver.frames(3)
    rec.tap_id("step_face_intro", "start")
    rec.until("face", 30)
    face = app.manager.get_screen("face")
    for _attempt in range(3):  # the random challenge may come at the wrong moment of the loop
        rec.driver.wait(
            lambda: (
                face.phase in ("challenge", "passed", "failed", "gave_up")
                or app.manager.current != "face"
            ),
            40,
        )
        if face.phase == "challenge":
            rec.shoot("face-challenge")
        rec.driver.wait(
            lambda: face.phase in ("passed", "failed", "gave_up") or app.manager.current != "face",
            40,
        )
        if face.phase != "failed":
            break
        rec.shoot("face-retry")
        rec.driver.tap(face.ids.retry)


def query_certificate(rec: Recorder) -> None:
    _query(rec, "query_certificate")


def property_proof(rec: Recorder) -> None:
    _query(rec, "property_proof")


def pay_fee(rec: Recorder) -> None:
    _start(rec)
    rec.tap_service("pay_fee")
    _identity(rec)
    _pick(rec, "step_choose-cases")  # the first case listed
    _pay_by_phone(rec)
    _finish(rec)


def print_certificate(rec: Recorder) -> None:
    app = rec.driver.app
    ledger = app.kiosk.print_service.ledger
    if ledger is not None and ledger.next_serial() is None:  # staff loaded paper this morning
        ledger.load_batch("A0000001", "A0000050", "demo")
    _start(rec)
    rec.tap_service("print_certificate")
    _identity(rec)
    screen = _pick(rec, "step_choose-ready")
    rec.driver.wait(lambda: screen.items == "delivery", 10)
    rec.driver.frames(5)
    rec.shoot("step_choose-delivery")
    rec.driver.tap(screen.ids.cases.children[-1])  # print it here (EMS and e-certificate below)
    _finish(rec)


def authorized_query(rec: Recorder) -> None:
    from kiosk.simulation import DEMO_AUTHORIZATION

    _start(rec)
    rec.tap_service("authorized_query")
    _identity(rec)
    rec.until("step_form", 30)
    form = rec.driver.app.manager.get_screen("step_form")
    type_keys(rec.driver, form.ids.keyboard, DEMO_AUTHORIZATION)  # the code the holder gave
    rec.shoot("step_form-filled")
    rec.tap_id("step_form", "next")
    rec.until("step_consent", 20)
    rec.tap_id("step_consent", "agree")
    _result(rec)
    app = rec.driver.app
    rec.driver.wait(lambda: app.manager.current in ("step_pay", "step_done", "step_work"), 30)
    _pay_by_phone(rec)
    _finish(rec)


def type_keys(driver: HeadlessDriver, keyboard: Any, text: str) -> None:
    """Tap the keys of ``text`` on the form's keyboard (digits, letters, "-")."""
    for char in text:
        driver.tap(keyboard.key_button(char))


def type_pinyin(driver: HeadlessDriver, keyboard: Any, letters: str, want: str) -> None:
    """Type the letters, then pick candidates (paging on) until ``want`` is in the field."""
    for letter in letters:
        driver.tap(keyboard.key_button(letter.upper()))
    while want:
        for _page in range(10):
            match = next(
                (b for b in keyboard.candidate_buttons() if want.startswith(b.candidate.text)),
                None,
            )
            if match is not None:
                break
            driver.tap(next(b for b in keyboard.bar.children if b.key == "more"))
        else:
            raise RuntimeError(f"no candidate for {want!r}")
        want = want[len(match.candidate.text) :]
        driver.tap(match)


def write_signature(driver: HeadlessDriver, pad: Any, hand: int = 0) -> None:
    """A zig-zag finger stroke across the signature pad; each ``hand`` writes its own."""
    x, y = pad.to_window(pad.x, pad.y)
    w, h = pad.width, pad.height
    low, rise = 0.3 + 0.05 * hand, 0.3 - 0.04 * hand
    driver.drag([(x + w * (0.15 + 0.07 * i), y + h * (low + rise * (i % 2))) for i in range(11)])


def sign(rec: Recorder) -> None:
    rec.until("step_sign", 20)
    write_signature(rec.driver, rec.driver.app.manager.get_screen("step_sign").ids.pad)
    rec.shoot("step_sign-signed")
    rec.tap_id("step_sign", "confirm")


def _scan(rec: Recorder) -> None:
    rec.until("scan", 20)
    screen = rec.driver.app.manager.get_screen("scan")
    if not rec.driver.wait(lambda: screen.pages >= 1, 60):
        raise RuntimeError("no page was scanned")
    rec.driver.frames(5)
    rec.shoot("scan-page")
    rec.tap_id("scan", "done")


def _application(rec: Recorder, service: str, fill: Callable[[Recorder], None] | None) -> None:
    _start(rec)
    rec.tap_service(service)
    _identity(rec)
    _pick(rec, "step_choose-list")  # the first listed
    if fill is not None:
        rec.until("step_form", 20)
        fill(rec)
        rec.shoot("step_form-filled")
        rec.tap_id("step_form", "next")
    _scan(rec)
    rec.until("step_review", 20)
    rec.tap_id("step_review", "confirm")
    sign(rec)
    _finish(rec)


DEMO_PHONE = "13800138000"


def _phone(rec: Recorder) -> None:
    form = rec.driver.app.manager.get_screen("step_form")
    rec.driver.tap(form.boxes["phone"])
    type_keys(rec.driver, form.ids.keyboard, DEMO_PHONE)


def mortgage_cancellation(rec: Recorder) -> None:
    _application(rec, "mortgage_cancellation", None)


def address_change(rec: Recorder) -> None:
    _application(rec, "address_change", _phone)  # the new address is the card's


def name_change(rec: Recorder) -> None:
    _application(rec, "name_change", _phone)  # the former name is the register's


def my_cases(rec: Recorder) -> None:
    _start(rec)
    rec.tap_service("my_cases")
    _identity(rec)
    _pick(rec, "step_choose-my-cases")  # the newest
    rec.until("step_done", 20)
    rec.driver.frames(5)
    rec.shoot("step_done-progress")
    rec.tap_id("step_done", "finish")
    rec.until("attract")


def check_proof(rec: Recorder) -> None:
    """A school clerk types the code printed on a 有无房产证明 (no card, no face)."""
    from kiosk.simulation import DEMO_PROOF_CODE

    _start(rec)
    rec.tap_service("check_proof")
    _pick(rec, "step_choose-how", "type", timeout=20)
    rec.until("step_form", 20)
    form = rec.driver.app.manager.get_screen("step_form")
    type_keys(rec.driver, form.ids.keyboard, DEMO_PROOF_CODE)
    rec.shoot("step_form-filled")
    rec.tap_id("step_form", "next")
    _finish(rec)


def service_guides(rec: Recorder) -> None:
    """The guide of the private mortgage: on the screen, and on the receipt printer."""
    _start(rec)
    rec.tap_service("service_guides")
    _pick(rec, "step_choose-guides", "private_mortgage", timeout=20)
    _finish(rec)


def issue_authorization(rec: Recorder) -> None:
    """The demo holder lets 李娜 query their first flat for 30 days."""
    _start(rec)
    rec.tap_service("issue_authorization")
    _identity(rec)
    _pick(rec, "")
    rec.until("step_form", 20)
    form = rec.driver.app.manager.get_screen("step_form")
    rec.driver.tap(form.boxes["grantee_name"])
    type_pinyin(rec.driver, form.ids.keyboard, "li", "李")  # a name: one syllable at a time
    type_pinyin(rec.driver, form.ids.keyboard, "na", "娜")
    rec.driver.tap(form.boxes["grantee_id_number"])
    type_keys(rec.driver, form.ids.keyboard, "320102198806151246")
    rec.shoot("step_form-filled")
    rec.tap_id("step_form", "next")
    rec.until("step_review", 20)
    rec.driver.frames(5)
    rec.shoot("step_review")
    rec.tap_id("step_review", "confirm")
    _finish(rec)


def _list_of(rec: Recorder, screen: Any, items: str) -> None:
    if not rec.driver.wait(lambda: screen.items == items and not screen.loading, 30):
        raise RuntimeError(f"expected the {items} list, have {screen.items}")


def book_appointment(rec: Recorder) -> None:
    """A counter appointment: the service, the second day offered, its first free time."""
    _start(rec)
    rec.tap_service("book_appointment")
    _identity(rec)
    rec.until("step_choose", 30)
    screen = rec.driver.app.manager.get_screen("step_choose")
    for items, index in (("booking_services", -1), ("booking_days", -2), ("booking_times", -1)):
        _list_of(rec, screen, items)
        rec.driver.frames(5)
        rec.shoot(f"step_choose-{items}")
        rec.driver.tap(screen.ids.cases.children[index])
    _finish(rec)


def check_in(rec: Recorder) -> None:
    _start(rec)
    rec.tap_service("appointment_check_in")
    _identity(rec)
    _pick(rec, "step_choose-appointments")  # the first listed
    _finish(rec)


def _next_party(rec: Recorder, card: int) -> None:
    """A party's turn: the screen says who; the person before takes their card, this one
    places theirs (on the reader's emulator), then their face check."""
    from kiosk.simulation import hand_card_to

    app = rec.driver.app
    rec.until("step_party", 30)
    rec.driver.frames(5)
    rec.shoot("step_party")
    card_reader = app.flow.journey.services.card
    hand_card_to(app.kiosk.harness, None)
    if not rec.driver.wait(lambda: not card_reader.present(), 10):  # the reader saw it go
        raise RuntimeError("the card taken away was not seen")
    hand_card_to(app.kiosk.harness, card)
    _face(rec)


def _sign_in_turn(rec: Recorder, parties: int) -> None:
    """Each party signs on the pad in turn; the heading names who signs next."""
    screen = rec.driver.app.manager.get_screen("step_sign")
    rec.until("step_sign", 20)
    for turn in range(parties):
        heading = screen.heading_zh
        rec.driver.frames(3)
        write_signature(rec.driver, screen.ids.pad, hand=turn)
        rec.shoot(f"step_sign-party-{turn + 1}")
        rec.tap_id("step_sign", "confirm")
        if turn + 1 < parties and not _heading_changes(rec, screen, heading):
            raise RuntimeError("the next party's signature was not asked for")


def _heading_changes(rec: Recorder, screen: Any, heading: str) -> bool:
    return bool(rec.driver.wait(lambda: screen.heading_zh != heading, 10))


def private_mortgage(rec: Recorder) -> None:
    """个人之间抵押 of the co-owned demo flat: the demo holder, the co-owner (the Hong Kong
    card) and the lender (the 2023 permanent-residence card), each in turn."""
    from kiosk.simulation import DEMO_PARTIES, DEMO_SHARED_UNIT, hand_card_to

    _start(rec)
    rec.tap_service("private_mortgage")
    _identity(rec)
    app = rec.driver.app
    _pick(rec, "step_choose-to-mortgage", DEMO_SHARED_UNIT)
    try:
        for card in DEMO_PARTIES:
            _next_party(rec, card)
        _private_mortgage_terms(rec)
    finally:  # the next visit starts with the demo holder's card, as every demo does
        hand_card_to(app.kiosk.harness, 0)


def _private_mortgage_terms(rec: Recorder) -> None:
    app = rec.driver.app
    rec.until("step_form", 30)
    form = app.manager.get_screen("step_form")
    for name, value in (("amount", "500000"), ("term_from", "20261201"), ("term_to", "20291130")):
        rec.driver.tap(form.boxes[name])
        type_keys(rec.driver, form.ids.keyboard, value)
    rec.shoot("step_form-filled")
    rec.tap_id("step_form", "next")
    _scan(rec)
    rec.until("step_review", 20)
    rec.driver.frames(5)
    rec.shoot("step_review")
    rec.tap_id("step_review", "confirm")
    _sign_in_turn(rec, 3)
    _finish(rec)


def _new_home(rec: Recorder, service: str, contract: str, others: tuple[int, ...] = ()) -> None:
    """A new flat's registration: the demo holder chooses the contract, each other buyer on
    it comes in turn (``others``: their demo cards), the tax link answers, each signs."""
    from kiosk.simulation import hand_card_to

    _start(rec)
    rec.tap_service(service)
    _identity(rec)
    app = rec.driver.app
    _pick(rec, "step_choose-contracts", contract)
    try:
        for card in others:
            _next_party(rec, card)
        if service == "advance_notice_cancellation":
            _scan(rec)  # the agreement rescinding the contract
        rec.until("step_review", 30)
        rec.driver.frames(5)
        rec.shoot("step_review")
        rec.tap_id("step_review", "confirm")
        _sign_in_turn(rec, 1 + len(others))
        _finish(rec)
    finally:  # the next visit starts with the demo holder's card, as every demo does
        hand_card_to(app.kiosk.harness, 0)


def advance_notice(rec: Recorder) -> None:
    from kiosk.simulation import DEMO_CONTRACT

    _new_home(rec, "advance_notice", DEMO_CONTRACT)


def advance_notice_cancellation(rec: Recorder) -> None:
    from kiosk.simulation import DEMO_NOTICED_HOME

    _new_home(rec, "advance_notice_cancellation", DEMO_NOTICED_HOME)


def new_home_transfer(rec: Recorder) -> None:
    """The flat the demo holder bought with the Hong Kong card's holder, half each."""
    from kiosk.simulation import DEMO_NEW_HOME, DEMO_PARTIES

    _new_home(rec, "new_home_transfer", DEMO_NEW_HOME, DEMO_PARTIES[:1])


def advance_to_ownership(rec: Recorder) -> None:
    from kiosk.simulation import DEMO_NOTICED_HOME

    _new_home(rec, "advance_to_ownership", DEMO_NOTICED_HOME)


def new_home_transfer_mortgage(rec: Recorder) -> None:
    from kiosk.simulation import DEMO_MORTGAGED_HOME

    _new_home(rec, "new_home_transfer_mortgage", DEMO_MORTGAGED_HOME)


def objection(rec: Recorder) -> None:
    """The demo holder, an heir, objects to the registration of a flat held by someone else:
    its unit code typed from the certificate, found (where, not who), the interest and what is
    wrong chosen, the evidence scanned, signed; it stands at once."""
    from kiosk.simulation import DEMO_OBJECTION_UNIT

    _start(rec)
    rec.tap_service("objection")
    _identity(rec)
    rec.until("step_form", 30)
    form = rec.driver.app.manager.get_screen("step_form")
    type_keys(rec.driver, form.ids.keyboard, DEMO_OBJECTION_UNIT)
    rec.shoot("step_form-unit-code")
    rec.tap_id("step_form", "next")
    if not rec.driver.wait(lambda: "reason" in form.boxes, 30):  # the unit was found
        raise RuntimeError("the unit code was not found")
    rec.driver.frames(5)
    _phone(rec)
    rec.shoot("step_form-objection")
    rec.tap_id("step_form", "next")
    _scan(rec)
    rec.until("step_review", 20)
    rec.driver.frames(5)
    rec.shoot("step_review")
    rec.tap_id("step_review", "confirm")
    sign(rec)
    _finish(rec)


def objection_cancellation(rec: Recorder) -> None:
    _start(rec)
    rec.tap_service("objection_cancellation")
    _identity(rec)
    _pick(rec, "step_choose-objections")
    rec.until("step_review", 20)
    rec.tap_id("step_review", "confirm")
    sign(rec)
    _finish(rec)


JOURNEYS: dict[str, Callable[[Recorder], None]] = {
    "queue-ticket": queue_ticket,
    "query-certificate": query_certificate,
    "property-proof": property_proof,
    "authorized-query": authorized_query,
    "my-cases": my_cases,
    "check-proof": check_proof,
    "service-guides": service_guides,
    "issue-authorization": issue_authorization,
    "book-appointment": book_appointment,
    "pay-fee": pay_fee,
    "mortgage-cancellation": mortgage_cancellation,
    "address-change": address_change,
    "name-change": name_change,
    "private-mortgage": private_mortgage,
    "advance-notice": advance_notice,
    "advance-notice-cancellation": advance_notice_cancellation,
    "new-home-transfer": new_home_transfer,
    "advance-to-ownership": advance_to_ownership,
    "new-home-transfer-mortgage": new_home_transfer_mortgage,
    "objection": objection,
    "objection-cancellation": objection_cancellation,
    "print-certificate": print_certificate,
    "check-in": check_in,
}


def record_journey(
    driver: HeadlessDriver,
    name: str,
    out: Path,
    large_text: bool = False,
) -> dict[str, Any]:
    """Walk one journey on a running app; the summary says what happened (the app goes on)."""
    out.mkdir(parents=True, exist_ok=True)
    app = driver.app
    if large_text != app.shell.large_text:
        app.toggle_large_text()
    taps_before = driver.taps
    recorder = Recorder(driver, out)
    ok, error = True, ""
    try:
        JOURNEYS[name](recorder)
    except Exception as err:  # the summary says what went wrong; the screenshots show where
        ok, error = False, str(err)
        recorder.shoot("error")
    finally:
        driver.on_frame = None
        if large_text and app.shell.large_text:
            app.toggle_large_text()
    taps = driver.taps - taps_before
    card_taps = recorder.card_taps - taps_before if recorder.card_taps else 0
    summary: dict[str, Any] = {
        "journey": name,
        "large_text": large_text,
        "taps": taps,
        "taps_after_card": taps - card_taps if recorder.card_taps else None,
        "screens": recorder.screens,
        "cut_off": recorder.cut_off,
        "ok": ok,
    }
    if error:
        summary["error"] = error
    return summary


def run_journey(app: Any, name: str, out: Path, large_text: bool = False) -> dict[str, Any]:
    """``kiosk demo``: the journey, then the printed outputs collected, then the app closed."""
    driver = HeadlessDriver(app)
    try:
        summary = record_journey(driver, name, out, large_text)
        summary["outputs"] = collect_outputs(app.kiosk.harness, out)
    finally:
        driver.stop()
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return summary
