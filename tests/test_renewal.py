"""A face check that would lapse before its person signs is renewed first (the registry keeps a
verification 15 minutes and judges it at the signature): a long sitting of several, or one
person with many pages, ends filed instead of refused at the end. Without the renewal the
filing is refused, and the message says the face check lapsed (not "the authorization")."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.backend.api import VERIFICATION_VALID_S
from kiosk.backend.errors import BackendConflict
from kiosk.flows import party_steps
from kiosk.flows.runner import FACE_HANDOFF, Phase
from kiosk.flows.spec import StepKind
from kiosk.messages import message_for
from kiosk.sandbox.seed import DEMO_SHARED_UNIT
from tests.backend_fixtures import Registry
from tests.runner_harness import Kit, Visit, play, start_kit

LATE_S = VERIFICATION_VALID_S + 30  # past the registry's validity


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


def age_every_check(kit: Kit, visit: Visit, seconds: float) -> None:
    """As if the sitting had gone on ``seconds`` since each face check: on the kiosk's clock
    and in the registry's record of each verification."""
    ctx = visit.journey.ctx
    ids = [ctx.verification_id, *(p.verification_id for p in ctx.parties)]
    ctx.verified_at -= seconds
    for party in ctx.parties:
        party.verified_at -= seconds
    with sqlite3.connect(kit.registry.sandbox.db_path) as conn:
        conn.executemany(
            "UPDATE verifications SET created = created - ? WHERE verification_id = ?",
            [(seconds, v) for v in set(ids)],
        )


def at_the_pad(kit: Kit) -> Visit:
    visit = kit.visit("private_mortgage")
    chooser = play(visit, until=StepKind.CHOOSE)
    assert DEMO_SHARED_UNIT in [c.key for c in chooser.choices]
    visit.runner.choose(DEMO_SHARED_UNIT)
    assert play(visit, until=StepKind.SIGN).kind is StepKind.SIGN
    return visit


def test_a_long_sitting_renews_each_lapsing_check_before_its_signature_and_is_filed(
    kit: Kit,
) -> None:
    visit = at_the_pad(kit)
    before = [p.verification_id for p in visit.journey.ctx.parties]
    age_every_check(kit, visit, LATE_S)
    last = play(visit)
    assert last.kind is StepKind.DONE, (last.phase, last.message)
    notices = [
        v for v in visit.screens.views if v.kind is StepKind.SIGN and v.screen != "step_sign"
    ]
    assert [v.screen for v in notices] == ["step_face_intro"] * 3  # each, before signing
    assert notices[1].lead_zh.startswith("抵押人（共有人） 陈**：人脸核验已近15分钟有效期")
    after = [p.verification_id for p in visit.journey.ctx.parties]
    assert not set(before) & set(after)  # the renewed checks are the ones filed
    assert visit.actions().count(("identity.renewed", "verified")) == 3
    case = visit.journey.ctx.submitted
    assert case is not None
    with sqlite3.connect(kit.registry.sandbox.db_path) as conn:
        filed = {
            r[0]
            for r in conn.execute(
                "SELECT verification_id FROM case_parties WHERE case_number = ?",
                (case.case_number,),
            )
        }
    assert filed == set(after[1:])


def test_a_check_lapsing_while_the_pad_is_open_is_renewed_and_signed_again(kit: Kit) -> None:
    visit = at_the_pad(kit)
    age_every_check(kit, visit, LATE_S)  # the pad was shown in time; the signature comes late
    from tests.backend_fixtures import signature_jpeg

    visit.runner.signed(signature_jpeg("late"))
    assert visit.screens.last.screen == "step_face_intro"
    assert not visit.journey.ctx.parties[0].signature  # not taken: signed again after
    assert ("journey.sign", "not_taken") in visit.actions()
    assert play(visit).kind is StepKind.DONE


def test_one_person_with_a_lapsing_check_renews_it_before_signing(kit: Kit) -> None:
    visit = kit.visit("address_change")
    assert play(visit, until=StepKind.SIGN).kind is StepKind.SIGN
    age_every_check(kit, visit, LATE_S)
    visit.runner.show_step()  # the pad again (the person came back to it)
    notice = visit.screens.last
    assert notice.screen == "step_face_intro" and notice.lead_zh.startswith("人脸核验已近15分钟")
    assert play(visit).kind is StepKind.DONE
    assert visit.journey.ctx.submitted is not None


def test_declining_the_renewal_goes_to_the_counter_with_the_slip(kit: Kit) -> None:
    visit = at_the_pad(kit)
    age_every_check(kit, visit, LATE_S)
    visit.runner.show_step()
    visit.runner.face_finished(None, to_counter=True)
    handed = visit.screens.last
    assert handed.phase is Phase.HANDOFF and handed.message is FACE_HANDOFF
    assert [p.kind for p in kit.printers.printed].count("handoff") == 1


def test_without_the_renewal_the_filing_is_refused_as_a_lapsed_face_check(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(party_steps, "_lapsing", lambda _at: False)  # the old kiosk
    visit = at_the_pad(kit)
    age_every_check(kit, visit, LATE_S)
    refused = play(visit)
    assert refused.phase is Phase.FAILED and refused.kind is StepKind.SUBMIT
    assert refused.message is not None and refused.message.code == "verification_expired"
    assert "人脸核验" in refused.message.zh and "授权" not in refused.message.zh


def test_a_lapsed_verification_on_a_route_reads_as_a_lapsed_face_check(
    registry: Registry,
) -> None:
    from kiosk.backend import models as m

    verification = registry.verify().verification_id
    registry.clock.offset = LATE_S
    try:
        with pytest.raises(BackendConflict) as caught:
            registry.client.list_records(m.RecordsQuery(verification))
    finally:
        registry.clock.offset = 0
    assert message_for(caught.value).code == "verification_expired"
