"""A sitting of several at one kiosk (个人之间抵押): every holder of the flat and the lender, each
with their own card and face check, in turn, then each signing; and every way it can end short
of filing — a party failing or declining the face check, taking their card and leaving, the
wrong person at a co-owner's turn, nobody coming — without Kivy, on the real sandbox registry
and outbox."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.base import Role, State
from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.card_reader import CardReader, VisitOver
from kiosk.flows.runner import FACE_HANDOFF, Answer, Phase, StepView
from kiosk.flows.spec import StepKind
from kiosk.redact import mask_name
from kiosk.sandbox.seed import DEMO_SHARED_UNIT
from tests.backend_fixtures import Registry
from tests.runner_harness import Kit, Verified, Visit, play, start_kit

APPLICANT, CO_OWNER, LENDER = DEMO_CARDS[0], DEMO_CARDS[2], DEMO_CARDS[4]


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


def db(kit: Kit) -> sqlite3.Connection:
    conn = sqlite3.connect(kit.registry.sandbox.db_path)
    conn.row_factory = sqlite3.Row
    return conn


def to_the_shared_flat(kit: Kit) -> Visit:
    """The demo holder at the kiosk, the co-owned flat chosen: the co-owner's turn is next."""
    visit = kit.visit("private_mortgage")
    chooser = play(visit, until=StepKind.CHOOSE)
    assert DEMO_SHARED_UNIT in [c.key for c in chooser.choices if c.available]
    shared = next(c for c in chooser.choices if c.key == DEMO_SHARED_UNIT)
    assert "按份共有" in shared.second_zh and "陈** 1/2" in shared.second_zh
    # the play's person goes along: the next view after the choice is the co-owner's notice
    visit.runner.choose(DEMO_SHARED_UNIT)
    return visit


def party_views(visit: Visit) -> list[StepView]:
    return [v for v in visit.screens.views if v.kind is StepKind.PARTY]


def test_every_holder_and_the_lender_verify_and_sign_in_turn_and_the_registry_has_each(
    kit: Kit,
) -> None:
    visit = to_the_shared_flat(kit)
    notice = visit.screens.last  # the co-owner's card was read: their face check next
    assert notice.screen == "step_face_intro" and notice.lead_zh == "抵押人（共有人） 陈**"
    # who is done, who is at the machine, who is still to come
    assert notice.parties == (
        ("抵押人", "Mortgagor", mask_name(APPLICANT.name), "verified"),
        ("抵押人（共有人）", "Mortgagor (co-owner)", "陈**", "now"),
    )
    waiting = next(v for v in party_views(visit) if v.screen == "step_party")
    assert waiting.lead_zh == "请抵押人（共有人） 陈**将本人身份证放在感应区"
    last = play(visit)
    assert last.kind is StepKind.DONE and last.phase is Phase.STEP, last.lead_en
    lender = [v for v in party_views(visit) if v.screen == "step_party"][-1]
    assert lender.parties[-1] == ("抵押权人", "Mortgagee", "", "now")
    assert [p[3] for p in lender.parties[:2]] == ["verified", "verified"]
    # each signed in turn, named on the pad; the review named all three, ID numbers masked
    signs = [v.sign_texts[0] for v in visit.screens.views if v.kind is StepKind.SIGN]
    assert signs == [
        f"请抵押人 {mask_name(APPLICANT.name)} 签名（1/3）",
        "请抵押人（共有人） 陈** 签名（2/3）",
        "请抵押权人 玛* 签名（3/3）",
    ]
    review = next(
        v for v in visit.screens.views if v.kind is StepKind.REVIEW and v.phase is Phase.STEP
    ).review
    people = [line for line in review if line[1].startswith("Mortgag")]
    assert [p[0] for p in people] == ["抵押人", "抵押人（共有人）", "抵押权人"]
    assert all(card.number not in p[2] for p in people for card in (APPLICANT, CO_OWNER, LENDER))
    assert "份额 Share 1/2" in people[0][2] and "份额" not in people[2][2]
    case = visit.journey.ctx.submitted
    assert case is not None and case.fee_fen == 8000
    with db(kit) as conn:
        parties = conn.execute(
            "SELECT id_number, role FROM case_parties WHERE case_number = ? ORDER BY role",
            (case.case_number,),
        ).fetchall()
        row = conn.execute(
            "SELECT applicant, body FROM cases WHERE case_number = ?", (case.case_number,)
        ).fetchone()
    assert [tuple(p) for p in parties] == [
        (LENDER.number, "mortgagee"),
        (CO_OWNER.number, "mortgagor"),
    ]
    assert row["applicant"] == APPLICANT.number
    assert '"signature_sha256"' in row["body"] and '"verification_id"' in row["body"]
    actions = visit.actions()
    assert actions.count(("journey.party", "verified")) == 2
    assert actions.count(("journey.sign", "signed")) == 3
    # the lender follows the case at any kiosk: it is theirs too (not the co-owner's record)
    lender_check = kit.registry.verify(LENDER.number, LENDER.name).verification_id
    listed = kit.registry.client.list_cases(lender_check).cases
    assert case.case_number in [c.case_number for c in listed]


def test_nothing_of_one_party_is_shown_to_the_next(kit: Kit) -> None:
    visit = to_the_shared_flat(kit)
    play(visit, until=StepKind.FORM)
    shown = [
        text
        for view in visit.screens.views
        if view.kind is StepKind.PARTY
        for text in (view.lead_zh, view.lead_en, *[" ".join(p) for p in view.parties])
    ]
    for card in (APPLICANT, CO_OWNER, LENDER):
        assert not any(card.number in text or card.name in text for text in shown), card.name


def test_a_sole_holder_brings_no_co_owner_only_the_lender(kit: Kit) -> None:
    kit.card.line = [LENDER]
    visit = kit.visit("private_mortgage")
    chooser = play(visit, until=StepKind.CHOOSE)
    sole = next(c for c in chooser.choices if c.available and "Sole" in c.second_en)
    visit.runner.choose(sole.key)
    assert play(visit).kind is StepKind.DONE
    case = visit.journey.ctx.submitted
    assert case is not None and case.unit_code == sole.key
    assert [p.role for p in visit.journey.ctx.parties] == ["mortgagor", "mortgagee"]
    roles = [r.fields.get("role") for r in visit.audit.records() if r.action == "journey.party"]
    assert set(roles) == {"mortgagee"}


def test_a_seized_property_is_shown_but_not_offered(kit: Kit) -> None:
    with db(kit) as conn:
        conn.execute(
            "INSERT INTO seizures VALUES (?, '某区人民法院', '2026-11-30')", (DEMO_SHARED_UNIT,)
        )
    visit = kit.visit("private_mortgage")
    chooser = play(visit, until=StepKind.CHOOSE)
    shared = next(c for c in chooser.choices if c.key == DEMO_SHARED_UNIT)
    assert not shared.available and "查封" in shared.note
    visit.runner.choose(DEMO_SHARED_UNIT)
    assert visit.screens.last is chooser  # a tap on it does nothing


def slip_text(kit: Kit) -> str:
    (slip,) = [p for p in kit.printers.printed if p.kind == "handoff"]
    return "".join(str(getattr(op, "text", "")) for op in slip.what)  # wrapped lines joined


def test_a_party_declining_the_face_check_ends_the_sitting_with_a_slip_naming_each(
    kit: Kit,
) -> None:
    visit = to_the_shared_flat(kit)
    play(visit, until=StepKind.PARTY)  # the co-owner's face notice
    visit.runner.face_finished(
        Verified(kit.registry.verify(CO_OWNER.number, CO_OWNER.name).verification_id)
    )
    at_lender = visit.screens.last
    assert at_lender.screen == "step_face_intro" and at_lender.lead_en == "Mortgagee 玛*"
    visit.runner.face_finished(None, to_counter=True)  # failed, and chose the counter
    handed = visit.screens.last
    assert handed.phase is Phase.HANDOFF and handed.message is FACE_HANDOFF
    text = slip_text(kit)
    assert "抵押人：已核验" in text and "抵押人（共有人）：已核验" in text
    assert "抵押权人：已读证，待核验" in text
    assert CO_OWNER.name not in text and "陈**" not in text  # nothing personal on the slip
    with db(kit) as conn:
        filed = conn.execute(
            "SELECT COUNT(*) FROM cases WHERE type = 'private_mortgage'"
        ).fetchone()[0]
    assert filed == 0
    visit.runner.end("finished")  # the person takes the slip: no second one
    assert [p.kind for p in kit.printers.printed].count("handoff") == 1


def test_the_wrong_person_at_a_co_owners_turn_is_refused_and_the_turn_waits(kit: Kit) -> None:
    kit.card.line = [LENDER, CO_OWNER, LENDER]  # the lender steps up first by mistake
    visit = to_the_shared_flat(kit)
    wrong = visit.journey.person_document()
    assert wrong is not None and wrong.number == LENDER.number
    verification = kit.registry.verify(LENDER.number, LENDER.name).verification_id
    visit.runner.face_finished(Verified(verification))
    refused = visit.screens.last
    assert refused.phase is Phase.FAILED and refused.message is not None
    assert refused.message.code == "not_co_owner" and refused.can_retry
    visit.runner.retry(refused.message)  # the right person now
    assert visit.journey.person_document().number == CO_OWNER.number  # type: ignore[union-attr]
    assert play(visit).kind is StepKind.DONE
    assert ("journey.party", "not_co_owner") in visit.actions()


def test_one_card_cannot_be_two_parties(kit: Kit) -> None:
    kit.card.line = [CO_OWNER, CO_OWNER, LENDER]  # the co-owner places their card again
    visit = to_the_shared_flat(kit)
    verification = kit.registry.verify(CO_OWNER.number, CO_OWNER.name).verification_id
    visit.runner.face_finished(Verified(verification))
    twice = visit.screens.last
    assert twice.phase is Phase.FAILED and twice.message is not None
    assert twice.message.code == "party_twice" and twice.can_retry
    visit.runner.retry(twice.message)
    assert play(visit).kind is StepKind.DONE


class Deferred:
    """A worker that keeps the work until the test runs it: the step waits, as on a kiosk."""

    def __init__(self) -> None:
        self.pending: list[tuple[Callable[[], Any], Answer]] = []

    def __call__(self, work: Callable[[], Any], answer: Answer) -> None:
        self.pending.append((work, answer))

    def run_next(self) -> None:
        work, answer = self.pending.pop(0)
        try:
            result = work()
        except Exception as err:
            result = err
        answer(result)


def test_the_idle_timeout_between_parties_ends_the_sitting_with_a_slip(kit: Kit) -> None:
    visit = to_the_shared_flat(kit)
    verification = kit.registry.verify(CO_OWNER.number, CO_OWNER.name).verification_id
    deferred = Deferred()
    visit.runner.worker = deferred
    visit.runner.face_finished(Verified(verification))  # the co-owner's holding is checked
    deferred.run_next()
    waiting = visit.screens.last  # the lender's turn: nobody comes, the kiosk times out
    assert waiting.screen == "step_party" and waiting.lead_en.startswith("Mortgagee")
    closing = visit.runner.end("timeout")
    assert closing is not None
    closing.join(5)
    text = slip_text(kit)
    assert "抵押人（共有人）：已核验" in text and "抵押权人：未到场" in text
    assert "申请未提交" in text
    # the read still waiting gives up; a card placed now belongs to nobody
    deferred.run_next()
    assert visit.screens.last is waiting and not deferred.pending
    assert visit.journey.ctx.parties == [] and visit.journey.ctx.document is None
    assert ("journey.end", "timeout") in visit.actions()
    assert ("journey.handoff", "printed") in visit.actions()


def test_nobody_coming_for_a_turn_says_so_and_retry_waits_again(kit: Kit) -> None:
    kit.card.line = [CO_OWNER]  # the lender is not here
    visit = to_the_shared_flat(kit)
    stopped = play(visit)
    assert stopped.phase is Phase.FAILED and stopped.message is not None
    assert stopped.message.code == "card_not_taken" and stopped.can_retry
    kit.card.line = [LENDER]  # they arrive
    visit.runner.retry(stopped.message)
    assert play(visit).kind is StepKind.DONE


def test_a_party_taking_their_card_and_leaving_ends_with_a_slip(kit: Kit) -> None:
    visit = to_the_shared_flat(kit)
    # the applicant's card left the reader for the co-owner's: expected, nobody is asked
    assert visit.screens.asked == []
    kit.devices.reader.card = None  # the co-owner takes theirs before their face check
    visit.runner.card_gone()
    assert visit.screens.asked == [visit.runner.card_grace_s]
    visit.runner.card_answer(False)
    assert visit.screens.ended == ["card_removed"]
    closing = visit.runner.end("card_removed")
    assert closing is not None
    closing.join(5)
    text = slip_text(kit)
    assert "抵押人：已核验" in text and "抵押人（共有人）：已读证，待核验" in text
    assert "抵押权人" not in text  # their turn had not come: not yet listed
    assert ("journey.card", "left") in visit.actions()


def test_every_party_signs_with_their_own_hand(kit: Kit) -> None:
    visit = to_the_shared_flat(kit)
    play(visit, until=StepKind.SIGN)
    from tests.runner_harness import SIGNATURE

    visit.runner.signed(SIGNATURE)
    visit.runner.signed(SIGNATURE)  # the co-owner's pad gets the applicant's strokes again
    refused = visit.screens.last
    assert refused.phase is Phase.FAILED and refused.message is not None
    assert refused.message.code == "signature_reused" and refused.can_retry
    visit.runner.retry(refused.message)
    again = visit.screens.last
    assert again.kind is StepKind.SIGN and again.sign_texts[0].startswith("请抵押人（共有人）")
    assert ("journey.sign", "reused") in visit.actions()
    assert play(visit).kind is StepKind.DONE  # each then signs in their own hand


def test_waiting_for_the_card_before_to_go_ends_with_the_visit_and_a_fault_is_no_removal(
    kit: Kit,
) -> None:
    reader = CardReader(kit.devices, kit.devices.bus)  # the kiosk's own, not the line's
    over = threading.Event()
    kit.devices.states[Role.IDCARD] = State.OFFLINE  # the reader failing says nothing
    assert reader.wait_removed(over, 0.05) is False
    kit.devices.states[Role.IDCARD] = State.READY
    assert reader.wait_removed(over, 0.05) is False  # the card still lies there
    over.set()
    with pytest.raises(VisitOver):
        reader.wait_removed(over, 5)
    kit.devices.reader.card = None
    assert reader.wait_removed(threading.Event(), 5) is True
    reader.close()


def test_once_registered_the_lender_prints_a_proof_of_the_mortgage_not_of_ownership(
    kit: Kit, tmp_path: Path
) -> None:
    from kiosk.backend import models as m
    from kiosk.documents.certificate_overlay import Calibration, certificate_overlay_pdf
    from tests.journey_steps import pdf_text

    visit = to_the_shared_flat(kit)
    assert play(visit).kind is StepKind.DONE
    case = visit.journey.ctx.submitted
    assert case is not None
    registry = kit.registry
    payer = registry.verify().verification_id  # the applicant pays the fee
    order = registry.client.create_order(
        m.CreateOrder(
            f"C-{case.case_number}", m.OrderKind.CASE, case.case_number, m.Channel.WECHAT, payer
        )
    )
    registry.control.pay(order.order_id)
    registry.control.register_case(case.case_number)
    # the holders' record shows the mortgage, the lender's name masked
    (record,) = [
        p
        for p in registry.client.list_records(m.RecordsQuery(payer)).properties
        if p.unit_code == DEMO_SHARED_UNIT
    ]
    assert [(g.creditor, g.amount_fen) for g in record.mortgages] == [("玛*", 80_000_000)]
    lender = registry.verify(LENDER.number, LENDER.name).verification_id
    data = registry.client.certificate_data(case.case_number, lender)
    fields = {f.name: f.value for f in data.fields}
    assert data.kind == "proof" and "不动产证明" in data.certificate_number
    assert fields["matter"] == "抵押权" and fields["holder"] == LENDER.name
    assert fields["obligors"] == f"{APPLICANT.name}、{CO_OWNER.name}"
    assert "800,000.00 元" in fields["other"] and "一般抵押" in fields["other"]
    path = tmp_path / "proof.pdf"
    path.write_bytes(certificate_overlay_pdf(data, Calibration()))
    text = pdf_text(path)
    assert "抵押权" in text and LENDER.name in text and "800,000.00" in text
    assert "平方米" not in text  # no ownership fields on a mortgage's proof


def test_my_cases_lists_every_case_with_its_status_and_what_happens_next(kit: Kit) -> None:
    visit = to_the_shared_flat(kit)
    assert play(visit).kind is StepKind.DONE
    filed = visit.journey.ctx.submitted
    assert filed is not None
    kit.card.line = []
    kit.devices.reader.card = LENDER  # the lender follows it too
    mine = kit.visit("my_cases")
    chooser = play(mine, until=StepKind.CHOOSE)
    assert chooser.choices[0].key == filed.case_number  # newest first
    assert "待缴费" in chooser.choices[0].lead_zh
    mine.runner.choose(filed.case_number)
    done = mine.screens.last
    assert done.kind is StepKind.DONE and done.heading_zh == "办件进度"
    assert f"业务编号 Case: {filed.case_number}  个人之间抵押登记" in done.outputs[0]
    assert "待缴费" in done.outputs[1] and "缴纳登记费" in done.lead_zh
    assert done.qr == filed.progress_url
