"""Receipt layouts: golden bytes per printer profile, decoded back to text and QR."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from drivers.base import Role
from drivers.receipt.encoder import EncoderModel, encode
from drivers.receipt.escpos_decoder import decode, render
from kiosk.documents.text_fit import columns, wrap
from kiosk.profiles import list_profiles, load_profile
from tests.qr import decode_qr
from tests.receipt_samples import EXPECTED_TEXT, QR_PAYLOADS, layouts

GOLDEN = Path(__file__).parent / "data" / "receipts"
PROFILES = sorted(list_profiles())


def model_of(profile: str) -> tuple[EncoderModel, int]:
    settings = (
        load_profile(profile)
        .devices[Role.RECEIPT]
        .settings_with({"transport": "network", "host": "x"})
    )
    return (
        EncoderModel(settings.kanji_mode, settings.native_qr, settings.cutter),
        settings.chars_per_line,
    )


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("layout", ["queue_ticket", "acknowledgment", "payment_receipt"])
def test_golden_bytes_and_what_comes_out(profile: str, layout: str, tmp_path: Path) -> None:
    model, width = model_of(profile)
    data = encode(layouts(width)[layout], model)
    golden = GOLDEN / f"{layout}-{profile}.hex"
    assert data == bytes.fromhex(golden.read_text()), f"bytes changed: {golden}"
    receipts = decode(data, kanji_required=model.kanji_mode)
    assert len(receipts) == 1 and receipts[0].cuts == 1 and receipts[0].unreadable == 0
    lines = [line.text for line in receipts[0].lines]
    for expected in EXPECTED_TEXT[layout]:
        assert expected in lines, (expected, lines)
    assert all(columns(line) <= width for line in lines)
    payload = QR_PAYLOADS[layout]
    if payload:
        image = cv2.imread(str(render(receipts[0], tmp_path / "receipt.png")))
        assert decode_qr(image) == payload


def test_kanji_mode_is_what_makes_chinese_readable_on_such_printers() -> None:
    data = encode(layouts(48)["queue_ticket"], EncoderModel(kanji_mode=False))
    assert decode(data, kanji_required=True)[0].unreadable > 0
    assert b"\x1c&" not in data
    with_kanji = encode(layouts(48)["queue_ticket"], EncoderModel(kanji_mode=True))
    assert b"\x1c&" in with_kanji and decode(with_kanji)[0].unreadable == 0


def test_long_chinese_wraps_without_losing_a_character() -> None:
    address = "江苏省南京市玄武区中山路十八号紫金大厦东塔三十二层三千二百零一室（临时地址）"
    lines = wrap(f"坐落 Address: {address}", 32)
    assert all(columns(line) <= 32 for line in lines) and len(lines) > 2
    assert "".join(lines).replace(" ", "") == f"坐落 Address: {address}".replace(" ", "")
    assert wrap("x" * 70, 32) == ["x" * 32, "x" * 32, "x" * 6]


def regenerate() -> None:  # pragma: no cover - run by hand after an intended layout change
    for profile in PROFILES:
        model, width = model_of(profile)
        for name, ops in layouts(width).items():
            (GOLDEN / f"{name}-{profile}.hex").write_text(encode(ops, model).hex() + "\n")


if __name__ == "__main__":  # pragma: no cover
    regenerate()


def test_an_approved_filing_names_the_maker_as_agent_and_the_checker_apart() -> None:
    from kiosk.documents.receipts import acknowledgment
    from tests.receipt_samples import CASE

    ops = acknowledgment(
        CASE,
        CASE.type,
        "*",
        "https://registry.example.cn/case/1",
        48,
        agent="中国银行济南分行 李经理1（op01）",
        checker="王经理2（op02）",
    )
    text = " ".join(str(op) for op in ops)
    assert "代理人 Agent: 中国银行济南分行 李经理1（op01）" in text
    assert "复核人 Checked by: 王经理2（op02）" in text


def test_an_acknowledgment_has_a_qr_only_for_a_page_a_phone_can_open() -> None:
    from kiosk.documents.receipts import acknowledgment
    from kiosk.documents.samples import CASE

    queued = acknowledgment(None, CASE.type, "张**", "", 48, local_reference="S1234ABCD")
    assert not [op for op in queued if type(op).__name__ == "Qr"]
    assert "凭上述编号" in " ".join(str(op) for op in queued)
