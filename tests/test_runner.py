"""Journeys through the runner without Kivy: every citizen flow of ``flows.toml`` to its end,
and the failure routes (the counter hand-off, a reprint, back to the form, home), on the real
sandbox registry and outbox with in-memory devices and printers."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Detail, Role, State, Status
from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.card_reader import VisitOver
from kiosk.flows import forms
from kiosk.flows.runner import FACE_HANDOFF, Answer, Phase
from kiosk.flows.spec import StepKind
from kiosk.messages import UserMessage
from kiosk.redact import mask_name
from kiosk.sandbox.seed import DEMO_FORMER_NAME, SANDBOX_PASSWORD
from tests.backend_fixtures import Registry
from tests.runner_harness import FLOWS, Kit, Verified, play, start_kit

HALL_FLOWS = sorted(name for name, flow in FLOWS.items() if flow.mode == "hall")
PAPER_OUT = UserMessage("paper_out", "打印机缺纸", "The printer is out of paper", True)


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


def db(kit: Kit) -> sqlite3.Connection:
    return sqlite3.connect(kit.registry.sandbox.db_path)


@pytest.mark.parametrize("name", HALL_FLOWS)
def test_every_citizen_flow_runs_to_its_end_without_a_screen(kit: Kit, name: str) -> None:
    visit = kit.visit(name)
    last = play(visit)
    assert last.kind is StepKind.DONE and last.phase is Phase.STEP, last
    assert visit.journey.ended == "finished"
    # the steps were shown in the flow's order, none twice in a row (none needed a retry)
    steps = [v.kind for v in visit.screens.views if v.phase is Phase.STEP]
    shown = [k for i, k in enumerate(steps) if i == 0 or steps[i - 1] is not k]
    flow_kinds = iter(s.kind for s in FLOWS[name].steps)
    assert all(kind in flow_kinds for kind in shown), shown
    assert all(v.phase in (Phase.STEP, Phase.WORKING) for v in visit.screens.views)
    if FLOWS[name].steps[0].kind is StepKind.ID_AUTH:  # the card first, said aloud
        assert visit.screens.said[0] == "请将身份证放在下方感应区"
    if any(s.kind is StepKind.PRINT for s in FLOWS[name].steps):
        assert visit.journey.ctx.outputs, "nothing to take away"
    else:  # nothing printed by design (my cases): the done screen says what is true
        assert last.outputs, "nothing on the done screen"
    actions = visit.actions()
    assert ("journey.start", "started") in actions and ("journey.end", "finished") in actions


def test_the_queue_ticket_is_the_number_the_registry_issued_once(kit: Kit) -> None:
    visit = kit.visit("queue_ticket")
    play(visit)
    ticket = visit.journey.ctx.ticket
    assert ticket is not None
    assert visit.screens.screens() == ["working", "working", "step_done"]
    (printed,) = kit.printers.printed
    assert printed.kind == "ticket"
    assert printed.action_id == f"ticket-{ticket.ticket_number}-{visit.journey.id}"
    with db(kit) as conn:
        issued = conn.execute(
            "SELECT COUNT(*) FROM tickets WHERE ticket_number LIKE ?",
            (ticket.ticket_number + "-%",),
        ).fetchone()[0]
    assert issued == 1


def test_a_failed_print_of_a_paid_certificate_says_it_can_be_printed_again_free(kit: Kit) -> None:
    kit.registry.sandbox.set_setting("query_fee_own", 2000)
    kit.printers.fail["query_certificate"] = PAPER_OUT
    visit = kit.visit("query_certificate")
    failed = play(visit)
    assert failed.phase is Phase.FAILED and failed.kind is StepKind.PRINT
    assert failed.message is not None and failed.message.code == "paper_out"
    assert "免费重新打印" in failed.lead_zh and "free" in failed.lead_en
    assert failed.can_retry and visit.journey.ended == "failed:paper_out"
    assert visit.screens.said[-1] == failed.lead_zh
    order = visit.journey.ctx.order
    # paper put in, try again: the same query prints, nothing is charged twice
    del kit.printers.fail["query_certificate"]
    visit.runner.retry(failed.message)
    assert visit.screens.last.kind is StepKind.DONE and visit.journey.ended == "finished"
    assert kit.printers.kinds().count("query_certificate") == 1
    assert order is not None
    with db(kit) as conn:
        orders = conn.execute(
            "SELECT COUNT(*) FROM orders WHERE target = ? AND status = 'SUCCESS'",
            (visit.journey.ctx.query.query_id if visit.journey.ctx.query else "",),
        ).fetchone()[0]
    assert orders == 1


def test_declining_the_face_check_prints_a_hand_off_slip_for_the_counter(kit: Kit) -> None:
    visit = kit.visit("query_certificate")
    at_face = play(visit, until=StepKind.FACE_CHECK)
    assert at_face.screen == "step_face_intro"
    visit.runner.face_finished(None, to_counter=True)
    handed = visit.screens.last
    assert handed.phase is Phase.HANDOFF and handed.message is FACE_HANDOFF
    assert handed.reference.startswith("H") and handed.reference in handed.lead_zh
    assert visit.journey.ended == "handoff:face_check_declined"
    (slip,) = kit.printers.printed
    assert slip.kind == "handoff"
    assert ("journey.handoff", "printed") in visit.actions()
    assert not visit.journey.ctx.verification_id  # nothing of the person's was looked up


def test_going_back_from_the_face_check_returns_to_its_notice(kit: Kit) -> None:
    visit = kit.visit("pay_fee")
    notice = play(visit, until=StepKind.FACE_CHECK)
    visit.runner.face_finished(None)
    back = visit.screens.last
    assert back.phase is Phase.STEP and back.screen == "step_face_intro" and back is not notice
    assert not back.bank and visit.journey.ended == ""
    assert ("identity.face", "back") in visit.actions()
    assert play(visit).kind is StepKind.DONE  # and the check can be taken after all


def test_a_hand_off_slip_that_cannot_be_printed_is_shown_on_the_screen(kit: Kit) -> None:
    kit.printers.fail["handoff"] = PAPER_OUT
    visit = kit.visit("query_certificate")
    play(visit, until=StepKind.FACE_CHECK)
    visit.runner.face_finished(None, to_counter=True)
    handed = visit.screens.last
    assert handed.phase is Phase.HANDOFF and handed.reference.startswith("H")
    assert handed.reference in handed.lead_zh and "未能打印" in handed.lead_zh
    assert handed.reference in handed.lead_en and "could not be printed" in handed.lead_en
    assert ("journey.handoff", "not_printed") in visit.actions()


def test_an_acknowledgment_that_cannot_be_printed_leaves_the_case_number_on_screen(
    kit: Kit,
) -> None:
    kit.printers.fail["acknowledgment"] = PAPER_OUT
    visit = kit.visit("address_change")
    failed = play(visit)
    case = visit.journey.ctx.submitted
    assert failed.phase is Phase.FAILED and failed.kind is StepKind.PRINT and case is not None
    assert case.case_number in failed.outputs[0] and case.case_number in failed.outputs[1]
    assert failed.qr == case.progress_url and failed.qr
    # the hand-off from here says the same, and does not send it to the empty printer only
    kit.printers.fail["handoff"] = PAPER_OUT
    visit.runner.handoff(failed.message or PAPER_OUT)
    handed = visit.screens.last
    assert handed.phase is Phase.HANDOFF and case.case_number in handed.outputs[0]


def test_a_maker_without_review_is_not_told_it_is_filed(kit: Kit) -> None:
    kit.maker_checker = frozenset({"mortgage_cancellation"})
    visit = kit.visit("bank_mortgage_cancellation", operator=operator(kit))
    done = play(visit)
    ctx = visit.journey.ctx
    assert done.kind is StepKind.DONE and ctx.submitted is None and ctx.awaiting_review
    assert done.heading_zh == "已提交本行复核" and done.heading_en == "Sent for review"
    assert f"草稿编号 Draft: {ctx.awaiting_review}" in done.outputs
    assert "复核" in done.lead_zh


def test_the_registry_away_ends_a_query_with_the_counter_not_a_crash(kit: Kit) -> None:
    visit = kit.visit("query_certificate")
    play(visit, until=StepKind.CONSENT)
    assert kit.link is not None
    kit.link.up = False
    visit.journey.give_consent()
    visit.runner.next()
    failed = visit.screens.last
    assert failed.phase is Phase.FAILED and failed.message is not None
    assert failed.message.code == "backend_down" and failed.kind is StepKind.QUERY
    assert visit.journey.ctx.query is None


def test_an_expired_card_is_refused_with_its_reason(kit: Kit) -> None:
    kit.devices.reader.card = DEMO_CARDS[1]  # valid to 2036
    kit.today = kit.today.replace(year=2037)
    visit = kit.visit("pay_fee")
    failed = play(visit)
    assert failed.phase is Phase.FAILED and failed.kind is StepKind.ID_AUTH
    assert failed.message is not None and failed.message.code == "expired"
    assert visit.journey.ctx.document is None


def test_a_wrong_authorization_code_goes_back_to_the_form(kit: Kit) -> None:
    visit = kit.visit("authorized_query")
    at_form = play(visit, until=StepKind.FORM)
    assert at_form.screen == "step_form"
    problems = visit.journey.fill_form({"authorization_code": "ZZZZ-ZZZZ-ZZZZ"})
    assert not problems
    visit.runner.next()
    failed = play(visit)  # consent, then the query the registry refuses
    assert failed.phase is Phase.FAILED and failed.message is not None
    assert failed.message.code == "not_authorized", failed.message
    visit.runner.retry(failed.message)
    assert visit.screens.last.kind is StepKind.FORM and visit.journey.ended == ""


def test_a_filing_with_the_network_down_waits_in_the_outbox_with_a_reference(kit: Kit) -> None:
    link = kit.link
    assert link is not None
    kit.hold_outbox()  # a kiosk started with the network down: nothing leaves yet
    assert link.outbox is not None
    visit = kit.visit("address_change")
    play(visit, until=StepKind.SIGN)
    link.up = False
    play(visit)
    ctx = visit.journey.ctx
    assert visit.screens.last.kind is StepKind.DONE
    assert ctx.submitted is None and ctx.queued.startswith("S")
    assert ("application.submit", "waiting") in visit.actions()
    keys = {i.key for i in link.outbox.items()}
    assert visit.journey.key("submit") in keys and visit.journey.key("signature") in keys
    # back online: sent once, the same keys however often the sender tries
    link.up = True
    sent = 0
    while delivered := link.outbox.deliver_due():
        sent += delivered
    assert sent == 3  # the signature, the scanned pages, then the application
    assert link.outbox.deliver_due() == 0
    with db(kit) as conn:
        filed = conn.execute("SELECT COUNT(*) FROM cases WHERE type = 'address_change'").fetchone()[
            0
        ]
    assert filed == 1


def test_the_receipt_printer_down_skips_the_payment_receipt_not_the_journey(kit: Kit) -> None:
    kit.devices.states[Role.RECEIPT] = State.ERROR
    visit = kit.visit("pay_fee")
    last = play(visit)
    assert last.kind is StepKind.DONE
    assert "payment" not in kit.printers.kinds()
    assert ("print.payment", "skipped_printer_down") in visit.actions()
    receipt = visit.journey.ctx.receipt
    assert receipt is not None and last.qr == receipt.verify_url  # the e-receipt, to scan
    assert any(receipt.receipt_number in line for line in last.outputs)


def test_receipt_paper_out_after_paying_puts_the_e_receipt_on_screen(kit: Kit) -> None:
    kit.registry.sandbox.set_setting("query_fee_own", 2000)
    kit.printers.fail["payment"] = PAPER_OUT
    visit = kit.visit("query_certificate")
    last = play(visit)
    assert last.kind is StepKind.DONE and last.phase is Phase.STEP  # the certificate came out
    assert kit.printers.kinds() == ["query_certificate"]
    receipt = visit.journey.ctx.receipt
    assert receipt is not None and last.qr == receipt.verify_url
    assert "请扫码保存电子票据" in "".join(last.outputs)
    assert ("print.payment", "not_printed") in visit.actions()


def test_the_payment_receipt_names_the_case_and_the_payer_masked(kit: Kit) -> None:
    visit = kit.visit("pay_fee")
    play(visit)
    (printed,) = [p for p in kit.printers.printed if p.kind == "payment"]
    text = " ".join(str(op) for op in printed.what)
    case = visit.journey.ctx.case
    document = visit.journey.ctx.document
    assert case is not None and document is not None
    assert case.case_number in text
    assert mask_name(document.name) in text and document.name not in text


def test_cancel_asks_the_app_to_end_the_visit(kit: Kit) -> None:
    visit = kit.visit("query_certificate")
    play(visit, until=StepKind.CONSENT)
    visit.runner.cancel()
    assert visit.screens.ended == ["cancel"]


def test_an_answer_after_the_visit_ended_is_dropped(kit: Kit) -> None:
    later: list[tuple[Callable[[], Any], Answer]] = []
    visit = kit.visit("queue_ticket")
    visit.runner.worker = lambda work, answer: later.append((work, answer))
    visit.runner.start()
    assert visit.screens.last.phase is Phase.WORKING
    visit.runner.close()
    work, answer = later.pop()
    answer(work())
    assert [v.phase for v in visit.screens.views] == [Phase.WORKING]
    assert not kit.printers.printed


def test_a_step_that_raises_anything_ends_on_the_failure_view(kit: Kit) -> None:
    visit = kit.visit("queue_ticket")

    def broken() -> None:
        raise ValueError("'XX' is not a valid CardType")

    visit.runner.run(broken, lambda _r: None)
    failed = visit.screens.last
    assert failed.phase is Phase.FAILED and failed.message is not None
    assert failed.lead_zh and failed.lead_en and not visit.runner.busy


def test_a_verification_from_elsewhere_opens_nothing(kit: Kit) -> None:
    """The face step's result is what the registry verified for this card, nothing else."""
    visit = kit.visit("pay_fee")
    play(visit, until=StepKind.FACE_CHECK)
    visit.runner.face_finished(Verified("not-a-verification"))
    failed = play(visit)  # the list of cases is asked for with it
    assert failed.phase is Phase.FAILED and failed.kind is StepKind.CHOOSE
    assert visit.journey.ctx.cases == []


def test_the_older_card_holder_is_offered_larger_text_and_the_answer_is_audited(
    kit: Kit,
) -> None:
    visit = kit.visit("pay_fee")
    visit.runner.start()
    offer = visit.screens.last
    assert offer.kind is StepKind.ID_AUTH and offer.offer == "elder"  # born 1949
    kit.devices.reader.card = None  # the card is watched from the read on
    assert visit.screens.removals == 1
    kit.devices.reader.card = DEMO_CARDS[0]
    visit.runner.elder_answer(True)
    assert visit.screens.last.kind is StepKind.FACE_CHECK
    assert ("elder_mode.offer", "accepted") in visit.actions()
    # with the larger text on already, nothing is offered
    again = kit.visit("pay_fee")
    again.screens.large = True
    again.runner.start()
    assert again.screens.last.kind is StepKind.FACE_CHECK


def test_a_tap_on_an_item_not_on_offer_does_nothing_and_one_tap_chooses_once(kit: Kit) -> None:
    visit = kit.visit("pay_fee")
    listed = play(visit, until=StepKind.CHOOSE)
    assert listed.choices and not listed.loading
    visit.runner.choose("YW-NOT-LISTED")
    assert visit.screens.last is listed
    key = listed.choices[0].key
    visit.runner.choose(key)
    assert visit.journey.ctx.case is not None and visit.journey.ctx.case.case_number == key
    views = len(visit.screens.views)
    visit.runner.choose(key)  # a second tap on the same button
    assert len(visit.screens.views) == views
    assert [r.outcome for r in visit.audit.records("journey.choose")] == ["case"]


def test_printing_here_is_shown_but_not_offered_with_the_certificate_printer_down(
    kit: Kit,
) -> None:
    kit.devices.states[Role.CERTIFICATE] = State.ERROR
    visit = kit.visit("print_certificate")
    play(visit, until=StepKind.CHOOSE)
    visit.runner.choose(visit.screens.last.choices[0].key)  # the registered case
    ways = visit.screens.last
    assert [c.key for c in ways.choices] == ["print", "ems", "electronic"]
    printing = ways.choices[0]
    assert not printing.available and "证书打印机暂不可用" in printing.note
    visit.runner.choose("print")
    assert visit.screens.last is ways and not visit.journey.ctx.delivery_choice
    visit.runner.choose("electronic")
    last = play(visit)
    assert last.kind is StepKind.DONE and last.qr.startswith("http")
    assert "certificate" not in kit.printers.kinds()


def test_an_expired_qr_offers_a_new_one_and_only_one_order_is_paid(kit: Kit) -> None:
    visit = kit.visit("pay_fee")
    waiting = play(visit, until=StepKind.PAY)
    assert waiting.status == "waiting" and waiting.pay is not None
    first = visit.journey.ctx.order
    assert first is not None and waiting.pay.qr_payload == first.qr_payload
    visit.runner.check_payment(now=waiting.pay.expires_at + dt.timedelta(seconds=1))
    expired = visit.screens.last
    assert expired.status == "expired" and ("payment.order", "expired") in visit.actions()
    visit.runner.new_order()
    second = visit.journey.ctx.order
    assert second is not None and second.order_id != first.order_id
    kit.registry.control.pay(second.order_id)
    visit.runner.check_payment()
    assert play(visit).kind is StepKind.DONE
    with db(kit) as conn:
        rows = dict(
            conn.execute(
                "SELECT order_id, status FROM orders WHERE order_id IN (?, ?)",
                (first.order_id, second.order_id),
            ).fetchall()
        )
    assert rows == {first.order_id: "CLOSED", second.order_id: "SUCCESS"}


def test_a_payment_question_that_fails_is_asked_again_not_a_failure(kit: Kit) -> None:
    visit = kit.visit("pay_fee")
    waiting = play(visit, until=StepKind.PAY)
    assert kit.link is not None
    kit.link.up = False  # the next question raises: the registry is away
    visit.runner.check_payment()
    assert visit.screens.last is waiting
    kit.link.up = True
    order = visit.journey.ctx.order
    assert order is not None
    kit.registry.control.pay(order.order_id)
    visit.runner.check_payment()
    assert visit.screens.last.kind is not StepKind.PAY


def test_the_done_view_says_what_to_take_away(kit: Kit) -> None:
    visit = kit.visit("query_certificate")
    done = play(visit)
    query = visit.journey.ctx.query
    assert query is not None
    assert f"查验码 Check code: {query.verification_code}" in done.outputs
    assert done.lead_zh.startswith("请取走查询结果证明") and not done.queued
    visit.runner.finish()
    assert visit.screens.ended == ["finished"]


BANK_FLOWS = sorted(name for name, flow in FLOWS.items() if flow.mode == "bank")


def operator(kit: Kit, who: str = "op01") -> m.OperatorSession:
    return kit.registry.client.operator_login(m.OperatorLogin("BOC-JN", who, SANDBOX_PASSWORD))


@pytest.mark.parametrize("name", BANK_FLOWS)
def test_every_bank_flow_runs_to_its_end_without_a_screen(kit: Kit, name: str) -> None:
    visit = kit.visit(name, operator=operator(kit))
    last = play(visit)
    assert last.kind is StepKind.DONE and last.phase is Phase.STEP, last
    ctx = visit.journey.ctx
    assert ctx.authorization is not None and ctx.signature and ctx.operator_signature
    assert ctx.submitted is not None or ctx.awaiting_review
    assert "acknowledgment" in kit.printers.kinds()
    assert all(r.actor.startswith("operator:") for r in visit.audit.records("journey.step"))


# what each bank filing leaves at the registry without maker-checker for its type
BANK_FILINGS = {
    "bank_mortgage_change": ("mortgage_change", "in_review"),
    "bank_mortgage_cancellation": ("mortgage_cancellation", "registered"),
    "bank_advance_mortgage": ("advance_mortgage", "in_review"),
    "bank_advance_to_mortgage": ("advance_to_mortgage", "in_review"),
}


@pytest.mark.parametrize("name", sorted(BANK_FILINGS))
def test_each_bank_filing_is_the_registrys_case_with_its_evidence(kit: Kit, name: str) -> None:
    kind, expected = BANK_FILINGS[name]
    visit = kit.visit(name, operator=operator(kit))
    play(visit)
    case, ctx = visit.journey.ctx.submitted, visit.journey.ctx
    assert case is not None
    with db(kit) as conn:
        status, body = conn.execute(
            "SELECT status, body FROM cases WHERE case_number = ?", (case.case_number,)
        ).fetchone()
        record = json.loads(body)
        assert status == expected
        assert (record["maker"], record["checker"]) == ("op01", "")
        assert record["type"] == kind and record["bank"]["code"] == "BOC-JN"
        assert record["parties"]["mortgagor"] == DEMO_CARDS[0].number
        assert record["parties"]["agent"].startswith("BOC-JN/")
        assert {s["signer"] for s in record["signatures"]} == {"applicant", "operator"}
        kinds = sorted(
            row[0]
            for row in conn.execute(
                "SELECT content_type FROM attachments "
                f"WHERE attachment_id IN ({','.join('?' * len(record['attachments']))})",
                record["attachments"],
            )
        )
        assert kinds == ["application/pdf", "image/jpeg", "image/jpeg"]
        if name == "bank_mortgage_cancellation":  # the mortgage chosen is gone
            mortgage = ctx.mortgage
            assert mortgage is not None and record["mortgage_id"] == mortgage.mortgage_id
            (gone,) = conn.execute(
                "SELECT status FROM mortgages WHERE mortgage_id = ?", (mortgage.mortgage_id,)
            ).fetchone()
            assert gone == "cancelled"
        if name == "bank_mortgage_change":  # the typed terms, and what was kept
            fields = {f["name"]: f["value"] for f in record["fields"]}
            assert fields["new_amount"] == "300000" and fields["max_period_to"] == "/"


def test_at_a_bank_the_way_without_the_face_is_the_operators_witness(kit: Kit) -> None:
    visit = kit.visit("bank_mortgage_cancellation", operator=operator(kit))
    notice = play(visit, until=StepKind.FACE_CHECK)
    assert notice.bank
    visit.runner.face_finished(None, to_counter=True)  # failed, and the other way chosen
    statement = visit.screens.last
    assert statement.screen == "step_face_intro" and "当面核对" in statement.statement_zh
    assert not kit.printers.printed  # no hand-off slip: a bank has no counter
    visit.runner.witness_back()
    assert not visit.screens.last.statement_zh
    visit.runner.without_face()
    visit.runner.witness()
    assert visit.journey.ctx.verification_id  # the registry recorded the witness
    assert visit.screens.last.kind is StepKind.SIGN


def test_a_card_placed_after_the_visit_ended_is_never_read_into_it(kit: Kit) -> None:
    kit.devices.reader.card = None  # nobody has put a card down yet
    held: list[tuple[Callable[[], Any], Answer]] = []
    visit = kit.visit("pay_fee")
    visit.runner.worker = lambda work, answer: held.append((work, answer))
    visit.runner.start()  # the read waits for a card on its worker
    ((read, answer),) = held
    visit.runner.close()  # the visit times out
    kit.devices.reader.card = DEMO_CARDS[0]  # the next person's card
    with pytest.raises(VisitOver):
        read()
    assert visit.journey.ctx.document is None
    assert ("journey.card", "read") not in visit.actions()
    answer(VisitOver("late"))  # and its answer changes nothing on screen
    assert [v.kind for v in visit.screens.views] == [StepKind.ID_AUTH]


def test_a_read_waiting_for_a_card_stops_when_the_visit_ends(kit: Kit) -> None:
    kit.devices.reader.card = None
    visit = kit.visit("pay_fee")
    visit.journey.close()
    with pytest.raises(VisitOver):
        visit.journey.read_card(timeout_s=30)  # returns at once, not after 30 s


def test_a_card_taken_away_mid_journey_asks_once_and_the_answer_is_audited(kit: Kit) -> None:
    visit = kit.visit("query_certificate")
    play(visit, until=StepKind.CONSENT)
    kit.devices.reader.card = None  # heard on the reader's thread; the screen hops over
    assert visit.screens.removals == 1 and not visit.screens.asked
    visit.runner.card_gone()
    assert visit.screens.asked == [20.0]
    assert visit.screens.said[-1].startswith("身份证已取走")
    visit.runner.card_answer(True)  # they go on without it
    visit.runner.card_gone()  # taken on purpose: not asked again this visit
    assert visit.screens.asked == [20.0] and not visit.screens.ended
    assert [a for a in visit.actions() if a[0] == "journey.card"][-2:] == [
        ("journey.card", "removed"),
        ("journey.card", "go_on"),
    ]
    assert play(visit).kind is StepKind.DONE


def test_a_card_taken_away_and_the_person_leaving_ends_the_visit(kit: Kit) -> None:
    visit = kit.visit("query_certificate")
    play(visit, until=StepKind.CONSENT)
    kit.devices.reader.card = None
    visit.runner.card_gone()
    visit.runner.card_answer(False)  # "leave", or nobody answered in time
    assert visit.screens.ended == ["card_removed"]
    assert ("journey.card", "left") in visit.actions()


def test_a_reader_fault_or_a_finished_visit_is_not_a_removal(kit: Kit) -> None:
    visit = kit.visit("query_certificate")
    play(visit, until=StepKind.CONSENT)
    offline = Status(State.OFFLINE, frozenset({Detail.DISCONNECTED}), "unplugged")
    kit.devices.bus.publish("idcard:status", offline)  # the reader failing says nothing
    assert visit.screens.removals == 0
    play(visit)
    visit.runner.card_gone()  # at the end, taking the card is what people should do
    assert not visit.screens.asked
    visit.runner.close()
    kit.devices.reader.card = None  # after the visit nobody listens
    assert visit.screens.removals == 0


def test_a_read_waits_on_the_readers_events_not_on_the_clock(kit: Kit) -> None:
    kit.devices.reader.card = None
    visit = kit.visit("pay_fee")
    result: list[Any] = []
    reading = threading.Thread(target=lambda: result.append(visit.journey.read_card(30)))
    reading.start()
    kit.devices.reader.card = DEMO_CARDS[0]  # placed: the waiting read wakes up
    reading.join(10)
    assert not reading.is_alive() and result[0].number == DEMO_CARDS[0].number


def test_ending_the_visit_wipes_the_journey_and_closes_its_unpaid_order(kit: Kit) -> None:
    kit.registry.sandbox.set_setting("query_fee_own", 2000)
    visit = kit.visit("query_certificate")
    play(visit, until=StepKind.PAY)
    order = visit.journey.ctx.order
    assert order is not None and visit.screens.last.status == "waiting"
    closing = visit.runner.end("idle")  # the person walked away from the QR
    assert closing is not None
    closing.join(10)
    ctx = visit.journey.ctx
    assert ctx.document is None and ctx.order is None and ctx.query is None
    assert visit.runner.closed and visit.journey.ended == "idle"
    with db(kit) as conn:
        (status,) = conn.execute(
            "SELECT status FROM orders WHERE order_id = ?", (order.order_id,)
        ).fetchone()
    assert status == "CLOSED"  # it can no longer be paid
    assert ("payment.order", "cancelled") in visit.actions()


def test_the_query_result_is_on_screen_before_anything_is_printed_or_paid(kit: Kit) -> None:
    kit.registry.sandbox.set_setting("query_fee_own", 2000)
    visit = kit.visit("query_certificate")
    shown = play(visit, until=StepKind.RESULT)
    query = visit.journey.ctx.query
    assert query is not None and not shown.loading
    assert shown.lead_zh.startswith("查询到") and "registered" in shown.lead_en
    text = "\n".join(shown.outputs)
    assert "单元号 Unit" in text and "证号 No." in text
    assert DEMO_CARDS[0].number not in text  # the screen never shows the ID number
    assert "20.00" in shown.statement_zh  # what printing costs, before choosing
    assert not kit.printers.printed and visit.journey.ctx.order is None
    visit.runner.no_print()  # seen, and that is enough
    assert visit.screens.ended == ["finished"]
    assert ("query.result", "not_printed") in visit.actions()
    assert visit.journey.ctx.order is None and not kit.printers.printed


def test_a_proof_of_ownership_says_whether_not_what(kit: Kit) -> None:
    visit = kit.visit("property_proof")
    shown = play(visit, until=StepKind.RESULT)
    assert shown.outputs == () and shown.lead_zh == "您名下有登记的不动产"
    assert "免费" in shown.statement_zh


def test_a_two_hour_outage_loses_no_filing(kit: Kit) -> None:
    """Fifty people file while the registry is away; it comes back two hours later (long
    after their face checks' 15 minutes): every filing is accepted, once, none lost."""
    link = kit.link
    assert link is not None
    kit.hold_outbox()  # a kiosk started with the network down: nothing leaves yet
    assert link.outbox is not None
    queued = []
    for _ in range(50):
        visit = kit.visit("address_change")
        play(visit, until=StepKind.SIGN)
        link.up = False  # gone before they sign
        assert play(visit).kind is StepKind.DONE
        queued.append(visit.journey.ctx.queued)
        link.up = True
    assert all(q.startswith("S") for q in queued) and len(set(queued)) == 50
    kit.registry.clock.offset += 2 * 3600  # the registry is back two hours later
    while link.outbox.deliver_due():
        pass
    assert link.outbox.needing_attention() == 0 and link.outbox.depth() == 0
    with db(kit) as conn:
        filed = conn.execute("SELECT COUNT(*) FROM cases WHERE type = 'address_change'").fetchone()[
            0
        ]
    assert filed == 50


def test_a_refused_filing_is_kept_and_counted_not_deleted(kit: Kit) -> None:
    link = kit.link
    assert link is not None
    kit.hold_outbox()  # a kiosk started with the network down: nothing leaves yet
    assert link.outbox is not None
    visit = kit.visit("address_change")
    play(visit, until=StepKind.SIGN)
    link.up = False
    play(visit)
    # meanwhile the person sold the flat: the registry refuses the change
    with db(kit) as conn:
        conn.execute("DELETE FROM holders WHERE id_number = ?", (DEMO_CARDS[0].number,))
    link.up = True
    while link.outbox.deliver_due():
        pass
    assert link.outbox.needing_attention() == 1
    refused = link.outbox.item(visit.journey.key("submit"))
    assert refused is not None and "not_holder" in refused.error
    with sqlite3.connect(kit.folder / "outbox.db") as conn:
        (body,) = conn.execute(
            "SELECT body FROM outbox WHERE key = ?", (visit.journey.key("submit"),)
        ).fetchone()
    assert body  # kept (sealed) for the counter to finish, not thrown away
    assert DEMO_CARDS[0].name.encode() not in bytes(body)  # and not in clear


def test_a_verification_from_another_kiosk_opens_nothing_here(kit: Kit) -> None:
    from kiosk.backend.client import ClientSettings, RegistryClient
    from kiosk.backend.errors import BackendNotFound
    from kiosk.sandbox.handlers import ENROLMENT_CODE

    other = RegistryClient(ClientSettings(kit.registry.sandbox.url, read_timeout_s=2.0))
    other.register("KIOSK-TEST-02", ENROLMENT_CODE)
    try:
        theirs = kit.registry.verify().verification_id  # verified at the first kiosk
        with pytest.raises(BackendNotFound):
            other.list_cases(theirs)
    finally:
        other.close()


def test_the_desk_decides_what_the_end_of_a_visit_means_for_the_operator(kit: Kit) -> None:
    from kiosk.bank import OperatorDesk

    desk = OperatorDesk(kit)  # type: ignore[arg-type]  # these decisions use no kiosk part
    assert desk.logs_out("finished")  # nobody logged in: nothing to stay for
    desk.session = operator(kit)
    assert desk.logs_out("idle") and desk.logs_out("out_of_service")
    assert not desk.logs_out("finished") and not desk.logs_out("cancel")
    visit = kit.visit("bank_mortgage_first", operator=desk.session)
    assert not desk.keeps(visit.journey)  # nothing failed
    visit.journey.ended = "failed:backend_down"
    assert desk.keeps(visit.journey) and not desk.keeps(None)
    draft = m.Draft(
        "D1", m.ApplicationType.ADVANCE_MORTGAGE, m.DraftStatus.OPEN, "", "op01", "", ""
    )
    assert desk.flow_for(draft, FLOWS) == "bank_advance_mortgage"


def test_a_name_change_is_offered_for_property_under_a_former_name_and_files_it(
    kit: Kit,
) -> None:
    visit = kit.visit("name_change")
    form = play(visit, until=StepKind.FORM)
    assert form.form is not None
    assert dict(form.form.values)["former_name"] == DEMO_FORMER_NAME  # the register's, not typed
    assert not next(f for f in form.form.fields if f.field.name == "former_name").editable
    prop = visit.journey.ctx.property
    assert prop is not None and DEMO_FORMER_NAME in prop.holders
    assert play(visit).kind is StepKind.DONE
    case = visit.journey.ctx.submitted
    assert case is not None
    with db(kit) as conn:
        body = json.loads(
            conn.execute(
                "SELECT body FROM cases WHERE case_number = ?", (case.case_number,)
            ).fetchone()[0]
        )
    fields = {f["name"]: f["value"] for f in body["fields"]}
    assert fields["former_name"] == DEMO_FORMER_NAME and fields["new_name"] == DEMO_CARDS[0].name


def test_with_the_register_already_in_the_current_name_there_is_no_name_change(kit: Kit) -> None:
    with db(kit) as conn:  # the name change was registered already
        conn.execute("UPDATE holders SET registered_name = ''")
    visit = kit.visit("name_change")
    view = play(visit, until=StepKind.CHOOSE)
    assert view.kind is StepKind.CHOOSE and not view.choices and not view.loading
    assert "已是现用名" in view.lead_zh and "current name" in view.lead_en


def test_change_from_the_review_goes_back_to_the_form(kit: Kit) -> None:
    visit = kit.visit("address_change")
    play(visit, until=StepKind.REVIEW)
    visit.runner.change()
    assert visit.screens.last.kind is StepKind.FORM
    assert visit.journey.ctx.form  # what was typed is still there to change


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "零元整"),
        (5, "伍元整"),
        (1005, "壹仟零伍元整"),
        (10010, "壹万零壹拾元整"),
        (800000, "捌拾万元整"),
        (1200000, "壹佰贰拾万元整"),
        (100000001, "壹亿零壹元整"),
        (30500600, "叁仟零伍拾万零陆佰元整"),
    ],
)
def test_amounts_are_read_back_in_capitals(amount: int, words: str) -> None:
    assert forms.yuan_in_words(amount) == words


def test_the_review_reads_the_amount_back_grouped_and_in_capitals(kit: Kit) -> None:
    visit = kit.visit("bank_mortgage_first", operator=operator(kit))
    play(visit, until=StepKind.REVIEW)
    lines = {zh: value for zh, _en, value in visit.journey.review_lines()}
    assert lines["债权数额/最高债权额（元）"] == "800,000 元（捌拾万元整）"
    assert visit.journey.ctx.form["amount"] == "800000"  # filed as typed


def test_a_change_form_starts_from_what_is_registered(kit: Kit) -> None:
    visit = kit.visit("bank_mortgage_change", operator=operator(kit))
    form = play(visit, until=StepKind.FORM)
    mortgage = visit.journey.ctx.mortgage
    assert form.form is not None and mortgage is not None
    values = dict(form.form.values)
    assert values["new_amount"] == str(mortgage.amount_fen // 100)
    assert values["new_term_to"] == mortgage.term_to.replace("-", "")
    editable = {f.field.name for f in form.form.fields if f.editable}
    assert {"new_amount", "new_term_to"} <= editable  # only what changes is typed
