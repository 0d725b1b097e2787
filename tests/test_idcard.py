"""ID cards through the SAM serial driver and the pty sam: layouts, faults, photos."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import Detail, State
from drivers.errors import DeviceError, DeviceTimeout, MediaError, ProtocolError
from drivers.idcard.identity import CardType, PhotoState, decode_text
from drivers.idcard.sam_emulator import DEMO_CARDS, DemoCard, Fault, SamEmulator
from drivers.idcard.sam_protocol import Command, encode_response, split_frame
from drivers.idcard.sam_serial import SamSerialReader, SamSerialSettings
from drivers.idcard.wlt import BMP_SIZE
from kiosk.identity.documents import DocumentRefused, check_document, document_problem

TODAY = dt.date(2026, 11, 22)
DATA = Path(__file__).parent / "data" / "sam"
RESIDENT, YOUNG, HMT, FOREIGN_2017, FOREIGN_2023, EXPIRED = DEMO_CARDS


def make_reader(sam: SamEmulator, **settings: object) -> SamSerialReader:
    reader = SamSerialReader(
        SamSerialSettings(port=str(sam.link), timeout_s=0.3, **settings)  # type: ignore[arg-type]
    )
    reader.open()
    return reader


@pytest.fixture
def reader(sam: SamEmulator) -> Iterator[SamSerialReader]:
    device = make_reader(sam)
    try:
        yield device
    finally:
        device.close()


# -- recorded frames --------------------------------------------------------------------------


def recorded(name: str) -> bytes:
    return bytes.fromhex((DATA / f"{name}.hex").read_text())


def read_answer(card: DemoCard, fingerprint: bool) -> bytes:
    parts = [card.text_block(), card.photo()] + ([bytes(1024)] if fingerprint else [])
    header = b"".join(len(p).to_bytes(2, "big") for p in parts)
    return encode_response(0x90, header + b"".join(parts))


@pytest.mark.parametrize(
    ("name", "card", "fingerprint"),
    [
        ("resident_3001", RESIDENT, False),
        ("hmt_3010", HMT, True),
        ("foreign2017_3001", FOREIGN_2017, False),
        ("foreign2023_3010", FOREIGN_2023, True),
    ],
)
def test_recorded_read_answers_are_what_the_emulator_sends(
    name: str, card: DemoCard, fingerprint: bool
) -> None:
    frame = recorded(name)
    assert frame == read_answer(card, fingerprint)
    assert len(frame) == (2321 if fingerprint else 1295)


def decode_recorded(name: str, fingerprint: bool) -> object:
    payload, _ = split_frame(recorded(name))
    assert payload is not None
    text_at = 3 + (6 if fingerprint else 4)
    return decode_text(payload[text_at : text_at + 256])


def test_resident_card_fields() -> None:
    doc = decode_recorded("resident_3001", False)
    assert doc.card_type is CardType.RESIDENT  # type: ignore[attr-defined]
    assert (doc.name, doc.sex, doc.nation, doc.nation_name) == ("张建国", "male", "01", "汉")  # type: ignore[attr-defined]
    assert doc.birth_date == dt.date(1949, 12, 31)  # type: ignore[attr-defined]
    assert doc.number == "11010519491231002X"  # type: ignore[attr-defined]
    assert doc.address == "北京市东城区东长安街1号"  # type: ignore[attr-defined]
    assert doc.issuer == "北京市公安局东城分局"  # type: ignore[attr-defined]
    assert doc.long_term and doc.valid_to is None  # type: ignore[attr-defined]
    assert doc.age(TODAY) == 76  # type: ignore[attr-defined]


def test_hmt_permit_fields() -> None:
    doc = decode_recorded("hmt_3010", True)
    assert doc.card_type is CardType.HMT_PERMIT  # type: ignore[attr-defined]
    assert doc.number == "810000199001010019" and doc.pass_number == "H12345678"  # type: ignore[attr-defined]
    assert doc.issue_count == "01" and doc.nation == ""  # type: ignore[attr-defined]
    assert doc.valid_to == dt.date(2029, 3, 1)  # type: ignore[attr-defined]


def test_foreign_2017_fields() -> None:
    doc = decode_recorded("foreign2017_3001", False)
    assert doc.card_type is CardType.FOREIGN_PERMANENT_2017  # type: ignore[attr-defined]
    assert doc.english_name == "SMITH, JOHN" and doc.name == "约翰"  # type: ignore[attr-defined]
    assert doc.number == "USA310080101238" and doc.nationality == "USA"  # type: ignore[attr-defined]
    assert doc.birth_date == dt.date(1980, 1, 1)  # type: ignore[attr-defined]
    assert doc.valid_to == dt.date(2027, 6, 1)  # type: ignore[attr-defined]


def test_foreign_2023_is_not_misread_as_a_resident_card() -> None:
    doc = decode_recorded("foreign2023_3010", True)
    assert doc.card_type is CardType.FOREIGN_PERMANENT_2023  # type: ignore[attr-defined]
    assert doc.name == "玛丽" and doc.number == "932682198501010017"  # type: ignore[attr-defined]
    assert doc.english_name == "MARTIN, MARIE CLAIRE" and doc.nationality == "FRA"  # type: ignore[attr-defined]
    assert doc.address == "" and doc.issuer == ""  # type: ignore[attr-defined]


def test_an_unknown_marker_or_length_is_a_protocol_error() -> None:
    block = bytearray(RESIDENT.text_block())
    block[248:250] = "Q".encode("utf-16-le")
    with pytest.raises(ProtocolError, match="unknown card type"):
        decode_text(bytes(block))
    with pytest.raises(ProtocolError):
        decode_text(bytes(200))


# -- the kiosk's judgement --------------------------------------------------------------------


def test_documents_are_checked() -> None:
    for card in (RESIDENT, YOUNG, HMT, FOREIGN_2017, FOREIGN_2023):
        assert document_problem(decode_text(card.text_block()), TODAY) is None, card.name
    with pytest.raises(DocumentRefused) as caught:
        check_document(decode_text(EXPIRED.text_block()), TODAY)
    assert caught.value.problem.code == "expired"
    assert "2020年03月08日过期" in caught.value.problem.zh
    assert "expired on 2020-03-08" in caught.value.problem.en
    forged = DemoCard("张三", "1", "19491231", "110105194912310021", "20150101", "长期")
    problem = document_problem(decode_text(forged.text_block()), TODAY)
    assert problem is not None and problem.code == "bad_number"


# -- the driver against the sam ----------------------------------------------------------


@pytest.mark.parametrize("card", DEMO_CARDS, ids=lambda c: c.name)
def test_every_demo_card_reads(reader: SamSerialReader, sam: SamEmulator, card: DemoCard) -> None:
    sam.place_card(card)
    doc = reader.read_identity()
    assert doc.number == card.number and doc.name == card.name
    assert doc.photo_state is PhotoState.UNDECODED and doc.raw_photo == card.photo()


def test_the_commands_on_the_wire(reader: SamSerialReader, sam: SamEmulator) -> None:
    sam.received.clear()
    reader.read_identity()
    assert sam.received == [
        Command.FIND_CARD.value,
        Command.SELECT_CARD.value,
        Command.READ_TEXT_PHOTO.value,
    ]


def test_fingerprint_and_newest_address(sam: SamEmulator) -> None:
    reader = make_reader(sam, fingerprint=True, newest_address=True)
    try:
        sam.received.clear()
        doc = reader.read_identity()
        assert len(doc.fingerprint) == 1024 and doc.address == RESIDENT.address
        assert Command.READ_TEXT_PHOTO_FINGERPRINT.value in sam.received
        assert Command.READ_NEWEST_ADDRESS.value in sam.received
        sam.place_card(HMT)
        assert reader.read_identity().address == HMT.address  # 91: item absent, kept
    finally:
        reader.close()


def test_reset_and_baud_commands_follow_the_profile(sam: SamEmulator) -> None:
    reader = make_reader(sam, reset_command="01FF", baud_command="6004")
    try:
        reader.reset_sam()
        reader.change_baud()
        assert sam.received[-2:] == [(0x01, 0xFF), (0x60, 0x04)]
    finally:
        reader.close()


def test_a_no_card_fault_and_a_removed_card(reader: SamSerialReader, sam: SamEmulator) -> None:
    sam.inject(Fault.NO_CARD)
    assert not reader.card_present()
    assert reader.card_present()
    sam.remove_card()
    with pytest.raises(MediaError) as caught:
        reader.read_identity()
    assert caught.value.code == "no_card"


def test_a_read_error_then_the_next_read_works(reader: SamSerialReader, sam: SamEmulator) -> None:
    sam.inject(Fault.READ_ERROR)
    with pytest.raises(MediaError) as caught:
        reader.read_identity()
    assert caught.value.code == "read_failed"
    assert reader.read_identity().number == RESIDENT.number


def test_a_sam_fault_shows_in_the_status_and_clears(
    reader: SamSerialReader, sam: SamEmulator
) -> None:
    sam.inject(Fault.SAM_FAULT)
    test = reader.self_test()
    assert not test.ok and "SAM_SELF_TEST_FAILED" in test.steps[0].detail
    assert reader.poll().state is State.READY


@pytest.mark.parametrize(
    "fault", [Fault.BAD_CHECKSUM, Fault.TRUNCATED, Fault.GARBAGE, Fault.SILENCE]
)
def test_one_spoiled_answer_is_survived(
    reader: SamSerialReader, sam: SamEmulator, fault: Fault
) -> None:
    sam.inject(fault)
    assert reader.read_identity().number == RESIDENT.number


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.BAD_CHECKSUM, ProtocolError),
        (Fault.SILENCE, DeviceTimeout),
        (Fault.TRUNCATED, DeviceTimeout),
    ],
)
def test_repeated_spoiled_answers_fail_clearly_then_recover(
    reader: SamSerialReader, sam: SamEmulator, fault: Fault, error: type[DeviceError]
) -> None:
    sam.inject(fault, times=3)
    with pytest.raises(error):
        reader.read_identity()
    assert reader.read_identity().number == RESIDENT.number  # the next card reads


def test_a_reader_that_decodes_on_board_gives_a_jpeg(tmp_path: Path) -> None:
    emu = SamEmulator(tmp_path / "idcard.tty", photo="jpeg")
    emu.start()
    try:
        reader = make_reader(emu, photo_format="jpeg")
        doc = reader.read_identity()
        reader.close()
    finally:
        emu.stop()
    assert doc.photo_state is PhotoState.DECODED and doc.photo.startswith(b"\xff\xd8")


# -- the vendor's WLT decoder, isolated -------------------------------------------------------

VENDOR_C = r"""
#include <string.h>
#include <unistd.h>
int unpack(const char *wlt, char *bmp, int flag) {
    memset(bmp, 0, 38862);
    bmp[0] = 'B'; bmp[1] = 'M'; bmp[2] = 0x ## 4E; bmp[3] = 0x97;
    for (int i = 54; i < 38862; i++) bmp[i] = wlt[i % 1024];
    return 1;
}
int crash(const char *wlt, char *bmp, int flag) { return *(volatile int *)0; }
int hang(const char *wlt, char *bmp, int flag) { sleep(60); return 1; }
""".replace("0x ## ", "0x")


@pytest.fixture(scope="module")
def vendor_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vendor")
    (folder / "wlt.c").write_text(VENDOR_C)
    library = folder / "libwlt.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(folder / "wlt.c")], check=True
    )
    return library


def test_the_vendor_library_decodes_the_photo(sam: SamEmulator, vendor_library: Path) -> None:
    reader = make_reader(sam, photo_decoder=str(vendor_library))
    try:
        doc = reader.read_identity()
        assert doc.photo_state is PhotoState.DECODED and doc.photo_format == "bmp"
        assert len(doc.photo) == BMP_SIZE and doc.photo.startswith(b"BM")
        assert doc.photo[54:64] == RESIDENT.photo()[54:64]
    finally:
        reader.close()


@pytest.mark.parametrize("symbol", ["crash", "hang", "no_such_symbol"])
def test_a_crashing_or_hanging_decoder_cannot_take_the_kiosk_down(
    sam: SamEmulator, vendor_library: Path, symbol: str
) -> None:
    reader = make_reader(sam, photo_decoder=str(vendor_library), photo_decoder_symbol=symbol)
    try:
        first = reader.read_identity()
        second = reader.read_identity()  # a fresh worker, the same honest answer
    finally:
        reader.close()
    for doc in (first, second):
        assert doc.photo_state is PhotoState.FAILED and doc.photo == b""
        assert doc.number == RESIDENT.number  # the text is still good


# -- robustness -------------------------------------------------------------------------------


class FakePort:
    def __init__(self, data: bytes) -> None:
        self.data = data

    @property
    def in_waiting(self) -> int:
        return len(self.data)

    def read(self, size: int) -> bytes:
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


GOOD = read_answer(RESIDENT, False)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)).map(
            lambda m: GOOD[: m[0]] + bytes([m[1]]) + GOOD[m[0] + 1 :]
        ),
        st.integers(1, len(GOOD)).map(lambda n: GOOD[:n]),
        st.binary(max_size=40).map(lambda noise: noise + GOOD),
    )
)
def test_random_and_mutated_answers_end_in_a_driver_error_or_a_document(data: bytes) -> None:
    reader = SamSerialReader(SamSerialSettings(port="unused", timeout_s=0.01))
    try:
        response = reader._read_response(FakePort(data))
        response.outcome  # noqa: B018 - may raise ProtocolError for unknown codes
        if len(response.data) >= 4 + 256:
            decode_text(response.data[4:260])
    except DeviceError:
        pass


def test_card_events_reach_the_bus(tmp_path: Path) -> None:
    from kiosk.core import Kiosk
    from tests.conftest import fast_config

    kiosk = Kiosk.from_config(fast_config(tmp_path), runtime_dir=tmp_path / "run")
    events: list[str] = []
    kiosk.bus.subscribe("idcard:*", lambda name, _payload: events.append(name))
    with kiosk:
        kiosk.wait_started()
        manager = kiosk.device_manager
        assert manager.wait_until(lambda s: Detail.CARD_PRESENT in s[Role.IDCARD].details, 5)
        sam = kiosk.harness.emulators[Role.IDCARD]  # type: ignore[union-attr]
        assert isinstance(sam, SamEmulator)
        sam.remove_card()
        assert manager.wait_until(lambda s: Detail.NO_CARD in s[Role.IDCARD].details, 5)
        sam.place_card(YOUNG)
        assert manager.wait_until(lambda s: Detail.CARD_PRESENT in s[Role.IDCARD].details, 5)
        document = manager.submit(Role.IDCARD, lambda r: r.read_identity()).result(5)  # type: ignore[attr-defined]
    assert document.number == YOUNG.number
    assert events.count("idcard:inserted") == 2 and events.count("idcard:removed") == 1
    assert events.index("idcard:removed") < len(events) - 1 - events[::-1].index("idcard:inserted")


def test_the_card_reader_waits_reads_and_hears_a_removal_on_the_real_reader(
    tmp_path: Path,
) -> None:
    """The journeys' card reader on the SAM emulator: the supervisor's find-card poll is the
    only one; the wait wakes on its event, the removal is heard, a visit's end stops a wait."""
    import threading

    from kiosk.card_reader import VisitOver
    from kiosk.core import Kiosk
    from tests.conftest import fast_config

    kiosk = Kiosk.from_config(fast_config(tmp_path), runtime_dir=tmp_path / "run")
    with kiosk:
        kiosk.wait_started()
        sam = kiosk.harness.emulators[Role.IDCARD]  # type: ignore[union-attr]
        assert isinstance(sam, SamEmulator)
        card = kiosk.card_reader
        sam.remove_card()
        assert kiosk.device_manager.wait_until(
            lambda s: Detail.NO_CARD in s[Role.IDCARD].details, 5
        )
        over = threading.Event()
        placed: list[bool] = []
        waiting = threading.Thread(target=lambda: placed.append(card.wait_placed(over, 10)))
        waiting.start()
        sam.received.clear()
        sam.place_card(YOUNG)
        waiting.join(10)
        assert placed == [True]
        # nothing but the supervisor asked the reader meanwhile: find-card frames only
        assert set(sam.received) == {Command.FIND_CARD.value}
        assert card.read().number == YOUNG.number
        removed = threading.Event()
        stop = card.on_removed(removed.set)
        sam.remove_card()
        assert removed.wait(5)
        stop()
        over.set()  # the visit ended: a wait for the next card returns at once
        with pytest.raises(VisitOver):
            card.wait_placed(over, 30)


from drivers.base import Role  # noqa: E402
