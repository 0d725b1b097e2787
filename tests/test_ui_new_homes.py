"""A new flat's registration on the real app, with touches: found under 自助登记, the flat
chosen, the tax link's answer on the work screen when the deed tax is not paid, and after
paying (by phone) retry goes on to the review that shows the tax paid; then the visit ends
from the pad and nothing is filed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.sandbox.seed import DEMO_NOTICED_HOME
from tests.journey_steps import on, registry, tap_service, through_identity
from tests.ui_driver import UiDriver

pytestmark = pytest.mark.ui


def test_the_tax_link_holds_a_transfer_until_the_tax_is_paid_then_it_goes_on(
    home: UiDriver, tmp_path: Path
) -> None:
    ui = home
    with registry(ui) as db:
        db.execute(
            "UPDATE deed_taxes SET receipt_number = '', paid_on = '' WHERE contract_number = ?",
            (DEMO_NOTICED_HOME,),
        )
    tap_service(ui, "advance_to_ownership")  # through the registrations' tile
    choose = through_identity(ui, then="step_choose")
    assert ui.wait(lambda: not choose.loading, 20)
    ui.frames(2)
    ui.tap(next(b for b in choose.ids.cases.children if b.case_number == DEMO_NOTICED_HOME))
    work = on(ui, "step_work", 20)
    assert ui.wait(lambda: work.failed, 20)
    assert "契税尚未完税" in work.lead_zh and "deed tax" in work.lead_en and work.can_retry
    ui.save(tmp_path / "tax-unpaid.png")
    with registry(ui) as db:  # paid at the electronic tax office, by phone
        db.execute(
            "UPDATE deed_taxes SET receipt_number = 'WS-UI-PAID', paid_on = '2026-12-03' "
            "WHERE contract_number = ?",
            (DEMO_NOTICED_HOME,),
        )
    ui.tap(work.ids.retry)
    review = on(ui, "step_review", 30)
    assert "契税：已完税" in review.lines and "WS-UI-PAID" in review.lines
    assert f"购房合同备案号：{DEMO_NOTICED_HOME}" in review.lines
    ui.save(tmp_path / "review.png")
    ui.tap(review.ids.confirm)
    sign = on(ui, "step_sign", 20)
    assert sign.heading_zh.startswith("请买受人")
    ui.app.end_session("test")  # the person walks away from the pad: nothing is filed
    with registry(ui) as db:
        filed = db.execute(
            "SELECT COUNT(*) FROM cases WHERE type = 'advance_to_ownership'"
        ).fetchone()[0]
    assert filed == 0
