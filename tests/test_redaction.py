from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from kiosk.logs import setup_logging
from kiosk.redact import REDACTOR, mask_id_number, mask_name, mask_phone


def test_id_number_keeps_first_three_and_last_four() -> None:
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张建国") == "张**"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = setup_logging("DEBUG", stream)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        REDACTOR.forget_names()


def entries(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_free_text_is_masked(log_lines: io.StringIO) -> None:
    logging.getLogger("kiosk.test").info(
        "card 11010519491231002X read, phone +86 138-1234-5678, lower x 11010519491231002x"
    )
    text = entries(log_lines)[0]["msg"]
    assert text == "card 110***********002X read, phone 138****5678, lower x 110***********002x"


def test_arguments_and_extra_fields_are_masked(log_lines: io.StringIO) -> None:
    logging.getLogger("kiosk.test").warning(
        "applicant %s",
        "11010519491231002X",
        extra={"applicant": "张建国", "phone": "13812345678", "note": "id 11010519491231002X"},
    )
    entry = entries(log_lines)[0]
    assert entry["msg"] == "applicant 110***********002X"
    assert entry["applicant"] == "张**"
    assert entry["phone"] == "138****5678"
    assert entry["note"] == "id 110***********002X"


def test_registered_names_are_masked_anywhere(log_lines: io.StringIO) -> None:
    REDACTOR.register_name("张建国")
    logging.getLogger("kiosk.test").info("greeting 张建国 at the kiosk")
    REDACTOR.forget_names()
    logging.getLogger("kiosk.test").info("greeting 张建国 again")
    first, second = entries(log_lines)
    assert first["msg"] == "greeting 张** at the kiosk"
    assert second["msg"] == "greeting 张建国 again"  # forgotten with the session


def test_exception_text_is_masked(log_lines: io.StringIO) -> None:
    try:
        raise ValueError("bad id 11010519491231002X")
    except ValueError:
        logging.getLogger("kiosk.test").exception("failed")
    entry = entries(log_lines)[0]
    assert "11010519491231002X" not in json.dumps(entry, ensure_ascii=False)
    assert "110***********002X" in str(entry["exc"])


def test_ordinary_numbers_survive(log_lines: io.StringIO) -> None:
    logging.getLogger("kiosk.test").info(
        "job 123456 printed on queue 42, unit 320684413219GB00029F00010002"
    )
    assert entries(log_lines)[0]["msg"] == (
        "job 123456 printed on queue 42, unit 320684413219GB00029F00010002"
    )


def test_libraries_speak_at_warning_and_the_kiosk_at_its_level(log_lines: io.StringIO) -> None:
    logging.getLogger("fontTools.subset").info("glyph names: uni4E00 uni4E01 …")
    logging.getLogger("kiosk.documents.fonts").info("font subset cached")
    logging.getLogger("fontTools.ttLib").warning("table missing")
    lines = log_lines.getvalue()
    assert "glyph names" not in lines
    assert "font subset cached" in lines and "table missing" in lines


def test_digits_inside_a_hex_id_are_not_a_phone_but_a_phone_in_words_is() -> None:
    """A session id once held "17862324086" between hex letters and came out of the audit
    log masked ("473aa178****4086ae9…"): an id is not a phone number."""
    session = "473aa17862324086ae9dd33a666e6bc8"
    assert REDACTOR(f"session {session} ended") == f"session {session} ended"
    assert REDACTOR("电话13812345678请回电") == "电话138****5678请回电"
    assert REDACTOR("tel:13812345678;") == "tel:138****5678;"
