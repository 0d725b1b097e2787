"""办事指南: what to bring, the fee and the time limit of each business, from the registry, on
the screen and on paper (no card: public information); its fees are the registry's bills'."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.base import Role, State
from kiosk.backend import models as m
from kiosk.flows.spec import StepKind
from kiosk.sandbox.handlers import FEES
from tests.backend_fixtures import Registry
from tests.runner_harness import Kit, play, start_kit


@pytest.fixture
def kit(registry: Registry, tmp_path: Path) -> Iterator[Kit]:
    yield from start_kit(registry, tmp_path)


def test_the_guides_fees_are_the_registrys_bills(registry: Registry) -> None:
    guides = {g.business: g for g in registry.client.list_guides().guides}
    for kind, fee in FEES.items():
        if kind.value in guides:
            assert guides[kind.value].fee_fen == fee, kind
    mortgage = guides[m.ApplicationType.PRIVATE_MORTGAGE.value]
    assert mortgage.fee_fen == 8000 and mortgage.at_kiosk
    assert any("抵押权人" in d for d in mortgage.documents)
    assert not guides[m.ApplicationType.MORTGAGE_FIRST.value].at_kiosk  # a bank's business


def test_a_guide_is_shown_and_printed_without_a_card(kit: Kit) -> None:
    kit.devices.reader.card = None  # nobody's card: none is asked for
    visit = kit.visit("service_guides")
    chooser = play(visit, until=StepKind.CHOOSE)
    key = m.ApplicationType.PRIVATE_MORTGAGE.value
    (offered,) = [c for c in chooser.choices if c.key == key]
    assert "¥80.00" in offered.second_zh and "5个工作日" in offered.second_zh
    visit.runner.choose(key)
    done = visit.screens.last
    assert done.kind is StepKind.DONE and done.heading_zh == "办事指南"
    assert done.outputs[0] == "个人之间抵押登记 Mortgage between individuals"
    assert any(line.startswith("· 借款合同") for line in done.outputs)
    (slip,) = kit.printers.printed
    assert slip.kind == "guide"
    text = "".join(str(getattr(op, "text", "")) for op in slip.what)
    assert "借款合同" in text and "80.00" in text
    assert visit.journey.ctx.document is None  # nothing personal was read


def test_with_the_receipt_printer_down_the_guide_is_on_the_screen(kit: Kit) -> None:
    kit.devices.states[Role.RECEIPT] = State.OFFLINE
    visit = kit.visit("service_guides")
    play(visit, until=StepKind.CHOOSE)
    visit.runner.choose("query_certificate")
    done = visit.screens.last
    assert done.kind is StepKind.DONE and "免费" in " ".join(done.outputs)
    assert kit.printers.printed == []
