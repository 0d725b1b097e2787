"""Proofs that identify their person: the query certificate and the 有无房产证明 name the
applicant in full with their ID number (a school or a household registration office accepts
nothing less), the check by code says the same, and every date is Beijing's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.backend import models as m
from kiosk.documents.china_time import china_date, china_minute
from kiosk.flows.spec import StepKind
from tests.backend_fixtures import DEMO, Registry
from tests.journey_steps import pdf_text


@pytest.mark.parametrize(
    ("utc", "date", "minute"),
    [
        ("2026-12-03T15:59:00Z", "2026-12-03", "2026-12-03 23:59"),
        ("2026-12-03T16:00:00Z", "2026-12-04", "2026-12-04 00:00"),  # midnight in Beijing
        ("2026-12-31T17:30:00Z", "2027-01-01", "2027-01-01 01:30"),  # and a new year
        ("2026-12-03T09:00:00+08:00", "2026-12-03", "2026-12-03 09:00"),
        ("2026-12-03", "2026-12-03", "2026-12-03 08:00"),  # a date alone is UTC midnight
    ],
)
def test_registry_times_are_read_in_beijing_time(utc: str, date: str, minute: str) -> None:
    assert china_date(utc) == date and china_minute(utc) == minute


def test_a_time_that_is_not_one_is_shown_as_given() -> None:
    assert china_date("soon") == "soon" and china_minute("") == ""


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        (m.QueryKind.OWN, "不动产登记信息查询结果证明"),
        (m.QueryKind.OWNERSHIP, "有无房产查询结果证明"),
    ],
)
def test_the_proof_and_its_check_name_the_person_in_full(
    registry: Registry, tmp_path: Path, kind: m.QueryKind, title: str
) -> None:
    # 17:30 UTC is 01:30 the next day in Beijing: the proof carries Beijing's date
    registry.clock.offset = _seconds_until_utc(17, 30)
    try:
        verification = registry.verify().verification_id
        result = registry.client.create_query(m.CreateQuery(verification, kind, "子女入学"))
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(registry.clock()))
    finally:
        registry.clock.offset = 0
    path = tmp_path / "proof.pdf"
    path.write_bytes(registry.client.query_certificate(result.query_id))
    text = pdf_text(path)
    assert title in text
    assert f"查询人：{DEMO.name}" in text and f"证件号码：{DEMO.number}" in text
    beijing = china_date(issued)
    assert beijing != issued[:10]  # the case this test is about
    assert f"出具日期：{beijing}" in text and issued[:10] not in text
    check = registry.client.verify_certificate(result.verification_code)
    assert check.valid and check.holder == DEMO.name and check.id_number == DEMO.number
    assert check.issued_on == beijing and check.kind == kind.value
    assert check.owns_property is result.owns_property


def _seconds_until_utc(hour: int, minute: int) -> float:
    """How far to shift the registry's clock for it to be hour:minute UTC (today or later)."""
    now = time.time()
    today = now - now % 86400
    target = today + hour * 3600 + minute * 60
    return target - now if target > now else target + 86400 - now


def test_a_proof_is_checked_at_the_kiosk_by_its_code_with_the_person_masked(
    registry: Registry, tmp_path: Path
) -> None:
    from tests.runner_harness import play, start_kit

    for kit in start_kit(registry, tmp_path):
        verification = registry.verify().verification_id
        proof = registry.client.create_query(
            m.CreateQuery(verification, m.QueryKind.OWNERSHIP, "子女入学")
        )
        visit = kit.visit("check_proof")
        form = play(visit, until=StepKind.FORM)
        assert form.form is not None and form.form.fields[0].field.name == "verification_code"
        problems = visit.journey.fill_form({"verification_code": proof.verification_code.lower()})
        assert not problems
        visit.runner.next()
        done = visit.screens.last
        assert done.kind is StepKind.DONE and done.heading_zh == "证明真实有效"
        assert done.outputs[0].startswith("有无房产查询结果证明")
        person = next(line for line in done.outputs if line.startswith("查询人"))
        assert "张**" in person and "110***********002X" in person  # masked on a public screen
        assert DEMO.name not in " ".join(done.outputs) and DEMO.number not in person
        assert "名下有不动产" in done.outputs[-1]
        assert ("proof.check", "genuine") in visit.actions()
        # a code nobody issued: not found, and what to do
        other = kit.visit("check_proof")
        play(other, until=StepKind.FORM)
        assert not other.journey.fill_form({"verification_code": "FFFFFFFFFFFF"})
        other.runner.next()
        assert other.screens.last.heading_zh == "未找到该证明"
        assert ("proof.check", "not_found") in other.actions()


def test_case_numbers_carry_the_beijing_day_they_were_filed(registry: Registry) -> None:
    """A case filed at 01:30 in Beijing (17:30 UTC the day before) is numbered by Beijing's
    day, as its acknowledgment's time says (the numbers used the UTC date)."""
    from tests.backend_fixtures import signed

    registry.clock.offset = _seconds_until_utc(17, 30)
    try:
        client = registry.client
        verification = registry.verify().verification_id
        unit = client.list_records(m.RecordsQuery(verification)).properties[0].unit_code
        attachment, signature = signed(client)
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(registry.clock()))
        signature = m.Signature(signature.signer, signature.image_sha256, at)  # signed then
        case = client.submit_application(
            m.Application(
                m.ApplicationType.ADDRESS_CHANGE,
                unit,
                verification,
                [m.FieldValue("new_address", "山东省济南市历下区泉城路1号")],
                [attachment],
                [signature],
            )
        )
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(registry.clock()))
    finally:
        registry.clock.offset = 0
    beijing = china_date(now).replace("-", "")
    assert case.case_number.startswith(f"YW{beijing}") and beijing != now[:10].replace("-", "")
