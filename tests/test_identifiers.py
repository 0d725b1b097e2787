from __future__ import annotations

import datetime as dt

import pytest

from kiosk.identifiers import (
    id_number_problem,
    make_id_number,
    parse_certificate_number,
    unit_code_problem,
    uscc_check_char,
    uscc_problem,
)


@pytest.mark.parametrize("good", ["11010519491231002X", "932682198501010017", "911124198108030024"])
def test_good_id_numbers(good: str) -> None:
    assert id_number_problem(good) is None


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("110105194912310021", "check character"),
        ("11010519491331002X", "not a date"),
        ("1101051949123100X", "17 digits"),
        ("11010519491231002x", "17 digits"),
        ("110105219912310027", "out of range"),
    ],
)
def test_bad_id_numbers(bad: str, problem: str) -> None:
    assert problem in (id_number_problem(bad, dt.date(2026, 1, 1)) or "")


def test_made_numbers_are_valid() -> None:
    number = make_id_number("320102", dt.date(1980, 2, 29), 123)
    assert id_number_problem(number) is None and number[6:14] == "19800229"


def test_uscc() -> None:
    assert uscc_problem("91350100M000100Y43") is None
    assert "check" in (uscc_problem("91350100M000100Y44") or "")
    assert uscc_problem("91350100M0001TGQXM") is not None  # a genuine early code: warn only
    assert "18 characters" in (uscc_problem("91350100M000100YI3") or "")
    assert uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize("good", ["320684413219GB00029F00010002", "110105001001JC00001W00000000"])
def test_good_unit_codes(good: str) -> None:
    assert unit_code_problem(good) is None


@pytest.mark.parametrize(
    "bad",
    [
        "320684413219GB00029F0001000",  # 27
        "320684413219XB00029F00010002",  # ownership X
        "320684413219GK00029F00010002",  # parcel kind K
        "320684413219GB00029W00010002",  # W with a building
        "320684413219GB00029T00010002",  # fixture T
    ],
)
def test_bad_unit_codes(bad: str) -> None:
    assert unit_code_problem(bad) is not None


def test_certificate_numbers_parse_leniently() -> None:
    parsed = parse_certificate_number("鲁(2020)济南市不动产权第0001234号")
    assert parsed is not None and parsed.year == 2020 and parsed.kind == "权"
    spaced = parse_certificate_number("苏（2019） 南京市 不动产证明 第 12345678 号")
    assert spaced is not None and spaced.kind == "证明" and spaced.number == "12345678"
    assert parse_certificate_number("not a certificate") is None
