"""What each registration issues, as print-certificate gets it from the registry: a title for
the buyers of a new flat (in their shares), a registration proof for an advance notice (the
buyers' right, the developer bound) and for an objection (its objector's, the holders masked),
nothing for a cancellation — and an objection's case is its objector's, not the holder's."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import cv2
import pytest

from drivers.idcard.sam_emulator import DEMO_CARDS
from kiosk.backend import models as m
from kiosk.backend.errors import BackendError
from kiosk.documents.certificate_overlay import Calibration, certificate_overlay_pdf, co_ownership
from kiosk.documents.scan import ScanBatch
from kiosk.flows.choices import progress
from kiosk.flows.done import proof_check_lines
from kiosk.flows.spec import StepKind
from kiosk.sandbox.seed import (
    DEMO_CONTRACT,
    DEMO_MORTGAGED_HOME,
    DEMO_NEW_HOME,
    DEVELOPER,
    SANDBOX_PASSWORD,
)
from tests.backend_fixtures import Registry
from tests.qr import decode_qr
from tests.runner_harness import play, start_kit
from tests.test_new_home_rules import Filing, pay_and_register
from tests.test_objections import HOLDER, OBJECTOR, holders_unit, objection, verified

BUYER, CO_BUYER = DEMO_CARDS[0], DEMO_CARDS[2]
T = m.ApplicationType


def data(registry: Registry, case: str, card: object = BUYER) -> m.CertificateData:
    return registry.client.certificate_data(case, verified(registry, card))


def test_a_new_flat_transferred_issues_its_buyers_a_title_in_their_shares(
    registry: Registry,
) -> None:
    case = Filing(registry).file(T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,))
    assert case.issues == "certificate"
    pay_and_register(registry, case)
    title = data(registry, case.case_number)
    assert title.kind == "certificate" and "不动产权第" in title.certificate_number
    assert sorted(title.holders) == sorted([BUYER.name, CO_BUYER.name])
    assert title.shares == ["1/2", "1/2"]
    stated = co_ownership(title.holders, title.shares)
    assert stated.startswith("按份共有") and f"{BUYER.name}占1/2" in stated
    assert data(registry, case.case_number, CO_BUYER).case_number == case.case_number


def test_an_advance_notice_issues_a_proof_of_the_buyers_right(registry: Registry) -> None:
    case = Filing(registry).file(T.ADVANCE_NOTICE, DEMO_CONTRACT)
    assert case.issues == "proof"
    registry.control.register_case(case.case_number)
    proof = data(registry, case.case_number)
    fields = {f.name: f.value for f in proof.fields}
    assert proof.kind == "proof" and proof.certificate_number.startswith("不动产证明第")
    assert fields["matter"] == "预告登记" and fields["holder"] == BUYER.name
    assert fields["obligors"] == DEVELOPER and DEMO_CONTRACT in fields["other"]
    assert proof.holders == [BUYER.name]


def test_an_objection_issues_its_objector_a_proof_and_the_holder_cannot_open_it(
    registry: Registry,
) -> None:
    unit = holders_unit(registry)
    case = objection(registry, unit)
    proof = data(registry, case.case_number, OBJECTOR)
    fields = {f.name: f.value for f in proof.fields}
    assert fields["matter"] == "异议登记" and fields["holder"] == OBJECTOR.name
    assert HOLDER.name not in fields["obligors"] and "张**" in fields["obligors"]
    assert "异议登记期间" in fields["other"]
    for attempt in (
        lambda: registry.client.certificate_data(case.case_number, verified(registry, HOLDER)),
        lambda: registry.client.get_case(case.case_number, verified(registry, HOLDER)),
    ):
        with pytest.raises(BackendError) as caught:
            attempt()
        assert caught.value.error == "not_found"  # the objector's case, not the holder's


def test_a_cancellation_issues_nothing_to_print(registry: Registry) -> None:
    unit = holders_unit(registry)
    objection(registry, unit)
    (standing,) = registry.client.list_objections(verified(registry)).objections
    cancel = objection(
        registry,
        unit,
        OBJECTOR,
        T.OBJECTION_CANCELLATION,
        {"objection_id": standing.objection_id},
    )
    assert cancel.status is m.CaseStatus.REGISTERED and cancel.issues == ""
    with pytest.raises(BackendError) as caught:
        data(registry, cancel.case_number, OBJECTOR)
    assert caught.value.error == "nothing_issued"
    zh = progress(cancel)
    assert zh[0] == "已办结" and "无需领取" in zh[2]


# -- the check code printed on what is issued (证明核验 by QR or code) ------------------------


def test_a_printed_title_carries_a_check_code_anyone_can_scan_at_the_kiosk(
    registry: Registry, tmp_path: Path
) -> None:
    case = Filing(registry).file(T.NEW_HOME_TRANSFER, DEMO_NEW_HOME, (CO_BUYER,))
    pay_and_register(registry, case)
    title = data(registry, case.case_number)
    assert title.check_code and data(registry, case.case_number).check_code == title.check_code
    pdf = tmp_path / "title.pdf"
    pdf.write_bytes(certificate_overlay_pdf(title, Calibration()))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "title")],
        check=True,
    )
    page = cv2.imread(str(tmp_path / "title.png"))
    assert decode_qr(page).endswith(f"code={title.check_code}")
    check = registry.client.verify_certificate(title.check_code)
    assert check.valid and check.kind == "certificate" and check.current
    assert check.certificate_number == title.certificate_number
    assert set(check.holder.split("、")) == {BUYER.name, CO_BUYER.name}
    # a school clerk scans it at any kiosk: genuine, the holders masked on the screen
    for kit in start_kit(registry, tmp_path / "kit"):
        visit = kit.visit("check_proof")
        play(visit, until=StepKind.CHOOSE)
        visit.runner.choose("scan")
        batch = ScanBatch()
        batch.add(page)
        visit.runner.scanned(batch)
        done = visit.screens.last
        assert done.heading_zh == "证书证明真实有效", done.heading_zh
        text = " ".join(done.outputs)
        assert "不动产权证书" in text and title.certificate_number in text
        assert "张**" in text and BUYER.name not in text and CO_BUYER.name not in text


def test_a_proof_whose_mortgage_was_cancelled_checks_as_no_longer_current(
    registry: Registry,
) -> None:
    proof = data(registry, "YW20261101000002")  # the demo holder's registered mortgage
    assert proof.kind == "proof" and proof.check_code
    assert proof.certificate_number.endswith("不动产证明第0000002号")
    check = registry.client.verify_certificate(proof.check_code.lower())  # either case
    assert check.valid and check.current and check.matter == "抵押权"
    with sqlite3.connect(registry.sandbox.db_path) as conn:
        conn.execute("UPDATE mortgages SET status = 'cancelled'")
    later = registry.client.verify_certificate(proof.check_code)
    assert later.valid and not later.current
    heading, lines = proof_check_lines(later)
    assert heading[0] == "证书证明真实，但登记已变更或注销" and any("人工窗口" in x for x in lines)


def test_the_buyers_title_and_the_banks_proof_of_one_case_have_codes_of_their_own(
    registry: Registry, tmp_path: Path
) -> None:
    from tests.journey_steps import pdf_text

    case = Filing(registry).file(T.NEW_HOME_TRANSFER_MORTGAGE, DEMO_MORTGAGED_HOME)
    pay_and_register(registry, case)
    title = data(registry, case.case_number)
    boc = registry.client.operator_login(m.OperatorLogin("BOC-JN", "op01", SANDBOX_PASSWORD))
    path = tmp_path / "proof.pdf"
    path.write_bytes(registry.client.registration_proof(case.case_number, boc.operator_token))
    text = pdf_text(path)
    code = text.split("核验码：")[1].split()[0]
    assert code != title.check_code
    bank = registry.client.verify_certificate(code)
    assert bank.kind == "proof" and bank.matter == "抵押权" and bank.holder == "中国银行济南分行"
    assert registry.client.verify_certificate(title.check_code).kind == "certificate"
