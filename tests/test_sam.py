"""GA 467 frames against the protocol notes, and the serial driver against the pty sam."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.errors import DeviceError, DeviceUnavailable, MediaError
from drivers.idcard.sam_emulator import DEMO_CARDS, SAM_ID, SamEmulator
from drivers.idcard.sam_protocol import (
    Command,
    Outcome,
    encode_command,
    encode_response,
    parse_response_payload,
    split_frame,
)
from drivers.idcard.sam_serial import SamSerialReader, SamSerialSettings

FIND_CARD_ANSWER = bytes.fromhex("AAAAAA9669000800009F0000000097")


def test_command_frames_match_the_protocol() -> None:
    assert encode_command(Command.FIND_CARD) == bytes.fromhex(
        "AAAAAA9669000320 0122".replace(" ", "")
    )
    assert encode_command(Command.SAM_STATUS) == bytes.fromhex(
        "AAAAAA96690003 11FF ED".replace(" ", "")
    )
    assert encode_command(Command.READ_TEXT_PHOTO) == bytes.fromhex(
        "AAAAAA9669000330 0132".replace(" ", "")
    )


def test_the_documented_find_card_answer() -> None:
    assert encode_response(0x9F, bytes(4)) == FIND_CARD_ANSWER
    payload, consumed = split_frame(FIND_CARD_ANSWER)
    assert consumed == len(FIND_CARD_ANSWER)
    assert payload is not None
    response = parse_response_payload(payload)
    assert response.outcome is Outcome.FIND_SUCCESS
    assert response.data == bytes(4)


def test_a_full_read_answer_is_1295_bytes() -> None:
    data = (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + bytes(1280)
    frame = encode_response(0x90, data)
    assert len(frame) == 1295
    assert frame[:14] == bytes.fromhex("AAAAAA9669050800009001000400")


def test_noise_before_the_preamble_is_skipped() -> None:
    payload, consumed = split_frame(b"\x00\x13\xaa" + FIND_CARD_ANSWER)
    assert payload is not None and consumed == 3 + len(FIND_CARD_ANSWER)


def test_partial_frames_wait_for_more() -> None:
    for cut in range(1, len(FIND_CARD_ANSWER)):
        payload, consumed = split_frame(FIND_CARD_ANSWER[:cut])
        assert payload is None
        assert consumed == 0


def test_a_bad_checksum_resynchronises_on_the_next_frame() -> None:
    broken = FIND_CARD_ANSWER[:-1] + b"\x00"
    buffer = broken + FIND_CARD_ANSWER
    payload, consumed = split_frame(buffer)
    assert payload is None
    while payload is None:
        buffer = buffer[consumed:]
        payload, consumed = split_frame(buffer)
    assert parse_response_payload(payload).outcome is Outcome.FIND_SUCCESS


def test_the_preamble_inside_data_does_not_cut_the_frame() -> None:
    data = (
        (256).to_bytes(2, "big") + (4).to_bytes(2, "big") + bytes(256) + bytes.fromhex("AAAAAA96")
    )
    frame = encode_response(0x90, data)
    payload, _ = split_frame(frame)
    assert payload is not None and parse_response_payload(payload).data == data


@given(st.binary(max_size=600))
def test_random_bytes_never_raise_and_always_progress(data: bytes) -> None:
    buffer = data
    for _ in range(len(data) + 2):
        payload, consumed = split_frame(buffer)
        if payload is not None:
            try:
                assert parse_response_payload(payload).outcome in Outcome
            except DeviceError:
                pass
        if consumed == 0:
            break
        buffer = buffer[consumed:]


@pytest.fixture
def reader(sam: SamEmulator) -> Iterator[SamSerialReader]:
    device = SamSerialReader(SamSerialSettings(port=str(sam.link), timeout_s=0.5))
    device.open()
    try:
        yield device
    finally:
        device.close()


def test_open_reads_the_sam_id(reader: SamSerialReader, sam: SamEmulator) -> None:
    assert SAM_ID.hex().upper() in reader.capabilities.model
    assert sam.received[:2] == [Command.SAM_STATUS.value, Command.SAM_ID.value]


def test_card_presence_follows_the_card(reader: SamSerialReader, sam: SamEmulator) -> None:
    assert reader.card_present()
    sam.remove_card()
    assert not reader.card_present()
    with pytest.raises(MediaError):
        reader.read_card()
    sam.place_card()
    assert reader.card_present()


@pytest.mark.parametrize("fingerprint", [False, True])
def test_read_card_returns_the_text_block(sam: SamEmulator, fingerprint: bool) -> None:
    reader = SamSerialReader(
        SamSerialSettings(port=str(sam.link), timeout_s=0.5, fingerprint=fingerprint)
    )
    reader.open()
    raw = reader.read_card()
    reader.close()
    assert len(raw.text) == 256 and len(raw.photo) == 1024
    assert len(raw.fingerprint) == (1024 if fingerprint else 0)
    assert raw.text[:6].decode("utf-16-le") == DEMO_CARDS[0].name
    assert raw.text[122:158].decode("utf-16-le") == DEMO_CARDS[0].number


def test_a_vanished_port_is_unavailable_and_comes_back(
    reader: SamSerialReader, sam: SamEmulator
) -> None:
    sam.stop()
    with pytest.raises(DeviceUnavailable):
        reader.poll()
    reader.close()
    sam.start()
    reader.open()
    assert reader.poll().usable


@pytest.mark.parametrize(
    ("command", "frame"),
    [
        (Command.RESET_SAM, "AAAAAA9669000310FFEC"),
        (Command.SAM_STATUS, "AAAAAA9669000311FFED"),
        (Command.SAM_ID, "AAAAAA9669000312FFEE"),
        (Command.FIND_CARD, "AAAAAA96690003200122"),
        (Command.SELECT_CARD, "AAAAAA96690003200221"),
        (Command.READ_TEXT_PHOTO, "AAAAAA96690003300132"),
        (Command.READ_TEXT_PHOTO_FINGERPRINT, "AAAAAA96690003301023"),
        (Command.READ_NEWEST_ADDRESS, "AAAAAA96690003300330"),
        ((0x60, 0x04), "AAAAAA96690003600467"),
        ((0x01, 0xFF), "AAAAAA9669000301FFFD"),
    ],
)
def test_every_command_frame_the_driver_sends(
    command: Command | tuple[int, int], frame: str
) -> None:
    assert encode_command(command) == bytes.fromhex(frame)
