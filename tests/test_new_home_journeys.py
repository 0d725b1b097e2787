"""The citizen registrations of a new flat and the objections, through the runner without
Kivy on the real sandbox registry and outbox: every buyer in turn, the tax link before filing,
the bank's part converted with the transfer; an objection's unit found by its code. And the
ways a sitting ends short: a co-buyer failing the face check, the wrong person at a buyer's
turn, a buyer taking their card and leaving, the idle timeout between buyers, the tax unpaid."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.flows.runner import FACE_HANDOFF, Phase
from kiosk.flows.spec import StepKind
from kiosk.redact import mask_name
from kiosk.sandbox.seed import (
    DEMO_MORTGAGED_HOME,
    DEMO_NEW_HOME,
    DEMO_NOTICE,
    DEMO_NOTICED_HOME,
    DEMO_OBJECTED_UNIT,
    DEMO_OBJECTION_UNIT,
)
from tests.backend_fixtures import Registry
from tests.runner_harness import Kit, Verified, Visit, play, start_kit
from tests.test_parties import Deferred, slip_text

BUYER, CO_BUYER, STRANGER = DEMO_CARDS[0], DEMO_CARDS[2], DEMO_CARDS[4]


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


def db(kit: Kit) -> sqlite3.Connection:
    conn = sqlite3.connect(kit.registry.sandbox.db_path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def to_the_shared_contract(kit: Kit) -> Visit:
    """The demo holder at the kiosk, the flat bought with the co-buyer chosen: the co-buyer's
    card is read next (their face check's notice)."""
    visit = kit.visit("new_home_transfer")
    chooser = play(visit, until=StepKind.CHOOSE)
    (offered,) = [c for c in chooser.choices if c.available]
    assert offered.key == DEMO_NEW_HOME
    assert "南京江东置业有限公司" in offered.second_zh and "陈** 1/2" in offered.second_zh
    assert CO_BUYER.name not in offered.second_zh
    visit.runner.choose(DEMO_NEW_HOME)
    return visit


def test_both_buyers_verify_the_tax_is_checked_each_signs_and_the_flat_becomes_theirs(
    kit: Kit,
) -> None:
    visit = to_the_shared_contract(kit)
    notice = visit.screens.last
    assert notice.screen == "step_face_intro" and notice.lead_zh == "买受人（共同购房人） 陈**"
    last = play(visit)
    assert last.kind is StepKind.DONE, last.lead_en
    review = dict(
        (label, value)
        for label, _en, value in next(
            v for v in visit.screens.views if v.kind is StepKind.REVIEW and v.phase is Phase.STEP
        ).review
    )
    assert review["购房合同备案号"] == DEMO_NEW_HOME
    assert review["出卖人（开发企业）"] == "南京江东置业有限公司"
    assert review["登记费"].startswith("¥80.00（受理后在本机「缴纳登记费」缴纳")  # before signing
    assert review["契税"].startswith("已完税 paid") and "WS" in review["契税"]
    assert "份额 Share 1/2" in review["买受人"] and CO_BUYER.number not in str(review)
    signs = [v.sign_texts[0] for v in visit.screens.views if v.kind is StepKind.SIGN]
    assert signs == [
        f"请买受人 {mask_name(BUYER.name)} 签名（1/2）",
        "请买受人（共同购房人） 陈** 签名（2/2）",
    ]
    case = visit.journey.ctx.submitted
    assert case is not None and case.fee_fen == 8000
    with db(kit) as conn:
        parties = conn.execute(
            "SELECT id_number, role FROM case_parties WHERE case_number = ?", (case.case_number,)
        ).fetchall()
        conn.execute(
            "UPDATE cases SET paid = 1, status = 'in_review' WHERE case_number = ?",
            (case.case_number,),
        )
    assert [tuple(p) for p in parties] == [(CO_BUYER.number, "buyer")]
    assert ("tax.status", "paid") in visit.actions()
    kit.registry.control.register_case(case.case_number)
    with db(kit) as conn:
        holders = conn.execute(
            "SELECT id_number, share FROM holders WHERE unit_code = ?", (case.unit_code,)
        ).fetchall()
    assert sorted(tuple(h) for h in holders) == sorted(
        [(BUYER.number, "1/2"), (CO_BUYER.number, "1/2")]
    )


def test_with_the_deed_tax_unpaid_nothing_is_filed_and_retry_goes_on_once_paid(kit: Kit) -> None:
    with db(kit) as conn:
        conn.execute(
            "UPDATE deed_taxes SET receipt_number = '', paid_on = '' WHERE contract_number = ?",
            (DEMO_NEW_HOME,),
        )
    visit = to_the_shared_contract(kit)
    stopped = play(visit)
    assert stopped.phase is Phase.FAILED and stopped.kind is StepKind.TAX
    assert stopped.message is not None and stopped.message.code == "tax_unpaid"
    assert "契税" in stopped.message.zh and stopped.can_retry
    assert "（应缴 ¥88,500.00）" in stopped.message.zh and "¥88,500.00 due" in stopped.message.en
    assert ("tax.status", "unpaid") in visit.actions()
    with db(kit) as conn:  # paid by phone, at the electronic tax office
        conn.execute(
            "UPDATE deed_taxes SET receipt_number = 'WS-PAID', paid_on = '2026-12-03' "
            "WHERE contract_number = ?",
            (DEMO_NEW_HOME,),
        )
    visit.runner.retry(stopped.message)
    assert play(visit).kind is StepKind.DONE
    assert visit.journey.ctx.submitted is not None


def test_the_wrong_person_at_a_buyers_turn_is_refused_and_the_turn_waits(kit: Kit) -> None:
    kit.card.line = [STRANGER, CO_BUYER]
    visit = to_the_shared_contract(kit)
    verification = kit.registry.verify(STRANGER.number, STRANGER.name).verification_id
    visit.runner.face_finished(Verified(verification))
    refused = visit.screens.last
    assert refused.phase is Phase.FAILED and refused.message is not None
    assert refused.message.code == "not_co_buyer" and refused.can_retry
    visit.runner.retry(refused.message)
    assert visit.journey.person_document().number == CO_BUYER.number  # type: ignore[union-attr]
    assert play(visit).kind is StepKind.DONE
    assert ("journey.party", "not_co_buyer") in visit.actions()


def test_a_co_buyer_failing_the_face_check_ends_the_sitting_with_a_slip(kit: Kit) -> None:
    visit = to_the_shared_contract(kit)
    visit.runner.face_finished(None, to_counter=True)
    handed = visit.screens.last
    assert handed.phase is Phase.HANDOFF and handed.message is FACE_HANDOFF
    text = slip_text(kit)
    assert "买受人：已核验" in text and "买受人（共同购房人）：已读证，待核验" in text
    assert "陈**" not in text and CO_BUYER.name not in text
    with db(kit) as conn:
        assert (
            conn.execute("SELECT COUNT(*) FROM cases WHERE type LIKE 'new_home%'").fetchone()[0]
            == 0
        )


def test_a_co_buyer_taking_their_card_and_leaving_ends_with_a_slip(kit: Kit) -> None:
    visit = to_the_shared_contract(kit)
    kit.devices.reader.card = None
    visit.runner.card_gone()
    visit.runner.card_answer(False)
    closing = visit.runner.end("card_removed")
    assert closing is not None
    closing.join(5)
    text = slip_text(kit)
    assert "买受人（共同购房人）：已读证，待核验" in text and "申请未提交" in text


def test_the_idle_timeout_waiting_for_the_co_buyer_ends_the_sitting_with_a_slip(
    kit: Kit,
) -> None:
    kit.card.line = []  # nobody comes: the reader waits, the kiosk times out
    visit = kit.visit("new_home_transfer")
    play(visit, until=StepKind.CHOOSE)
    deferred = Deferred()
    visit.runner.worker = deferred
    visit.runner.choose(DEMO_NEW_HOME)
    waiting = visit.screens.last
    assert waiting.screen == "step_party" and waiting.lead_zh.startswith("请买受人（共同购房人）")
    closing = visit.runner.end("timeout")
    assert closing is not None
    closing.join(5)
    text = slip_text(kit)
    assert "买受人（共同购房人）：未到场" in text and "申请未提交" in text
    assert visit.journey.ctx.parties == [] and visit.journey.ctx.sale is None


def test_advance_notice_to_ownership_names_the_notice_it_converts(kit: Kit) -> None:
    visit = kit.visit("advance_to_ownership")
    last = play(visit)
    assert last.kind is StepKind.DONE
    review = next(
        v for v in visit.screens.views if v.kind is StepKind.REVIEW and v.phase is Phase.STEP
    ).review
    assert ("预告登记", "Advance notice", DEMO_NOTICE) in review
    case = visit.journey.ctx.submitted
    assert case is not None and case.type.value == "advance_to_ownership"
    assert visit.journey.ctx.sale is not None
    assert visit.journey.ctx.sale.contract_number == DEMO_NOTICED_HOME


def test_transfer_with_the_mortgage_shows_the_banks_part_it_converts(kit: Kit) -> None:
    visit = kit.visit("new_home_transfer_mortgage")
    assert play(visit).kind is StepKind.DONE
    review = dict(
        (label, value)
        for label, _en, value in next(
            v for v in visit.screens.views if v.kind is StepKind.REVIEW and v.phase is Phase.STEP
        ).review
    )
    assert review["购房合同备案号"] == DEMO_MORTGAGED_HOME
    assert review["抵押权人"].startswith("中国银行") and "抵押预告转本" in review["抵押权人"]
    case = visit.journey.ctx.submitted
    assert case is not None and case.fee_fen == 16000


def test_an_objection_typed_wrong_goes_back_to_the_code_then_stands_at_once(kit: Kit) -> None:
    visit = kit.visit("objection")
    form = play(visit, until=StepKind.FORM)
    assert form.form is not None and form.form.name == "objection_unit"
    journey = visit.journey
    wrong = DEMO_OBJECTION_UNIT[:-4] + "9999"  # a real format, nobody's unit
    assert not journey.fill_form({"unit_code": wrong})
    visit.runner.next()
    refused = visit.screens.last
    assert refused.phase is Phase.FAILED and refused.message is not None
    assert refused.message.code == "unit_not_found" and refused.can_retry
    visit.runner.retry(refused.message)  # back to the code, to type it again
    again = visit.screens.last
    assert again.kind is StepKind.FORM and again.form is not None
    assert again.form.name == "objection_unit"
    assert play(visit).kind is StepKind.DONE  # the right code (the play types the demo's)
    review = dict(
        (label, value)
        for label, _en, value in next(
            v for v in visit.screens.views if v.kind is StepKind.REVIEW and v.phase is Phase.STEP
        ).review
    )
    assert review["不动产单元号"] == DEMO_OBJECTION_UNIT and "经七路" in review["不动产坐落"]
    assert review["异议事项"] == "权利人登记有误"
    assert "权利人" not in "".join(k for k in review if k != "异议事项")  # no holder shown
    case = journey.ctx.submitted
    assert case is not None and case.status.value == "registered" and case.fee_fen == 0
    assert "acknowledgment" in kit.printers.kinds()


def test_an_objector_withdraws_their_standing_objection(kit: Kit) -> None:
    visit = kit.visit("objection_cancellation")
    chooser = play(visit, until=StepKind.CHOOSE)
    assert [c.key for c in chooser.choices] == ["YY2026DEMO0001"]
    assert play(visit).kind is StepKind.DONE
    case = visit.journey.ctx.submitted
    assert case is not None and case.unit_code == DEMO_OBJECTED_UNIT
    with db(kit) as conn:
        status = conn.execute(
            "SELECT status FROM objections WHERE objection_id = 'YY2026DEMO0001'"
        ).fetchone()[0]
    assert status == "cancelled"


def test_the_review_says_the_fee_or_that_the_acknowledgment_will(kit: Kit) -> None:
    """The fee is the registry's (its service guide): free for an objection; with the
    registry away at the review (it works offline) the acknowledgment says it."""
    visit = kit.visit("objection")
    review = play(visit, until=StepKind.REVIEW)
    assert ("登记费", "Fee", "免费 free") in review.review
    offline = kit.visit("address_change")
    play(offline, until=StepKind.SCAN)
    assert kit.link is not None
    kit.link.up = False
    play(offline, until=StepKind.REVIEW)
    shown = offline.screens.last
    assert shown.phase is Phase.STEP and shown.kind is StepKind.REVIEW
    assert ("登记费", "Fee", "以受理回执为准 as the acknowledgment says") in shown.review
