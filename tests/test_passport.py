"""ICAO passports through the real pcscd, the vpcd driver and the project's chip emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.base import Detail
from drivers.errors import DeviceUnavailable, MediaError
from drivers.idcard.identity import CardType, PhotoState
from drivers.idcard.passport_emulator import DEMO_PASSPORT, PassportEmulator
from drivers.idcard.pcsc import MrzKey, PcscReader, PcscSettings, passport_document
from drivers.idcard.pcsc_emulator import PcscEmulator
from kiosk.profiles import list_profiles
from tests.test_devices import boots_to_ready, uses_pcscd

pytestmark = pytest.mark.stack
KEY = MrzKey(DEMO_PASSPORT.number, DEMO_PASSPORT.birth, DEMO_PASSPORT.expiry)


@pytest.fixture
def pcscd(tmp_path: Path) -> Iterator[PcscEmulator]:
    daemon = PcscEmulator(tmp_path / "pcscd")
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def reader(pcscd: PcscEmulator) -> Iterator[PcscReader]:
    device = PcscReader(PcscSettings("Virtual PCD 00 00"))
    device.open()
    yield device
    device.close()


def wait_for(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def passport(pcscd: PcscEmulator, reader: PcscReader) -> Iterator[PassportEmulator]:
    chip = PassportEmulator()
    try:
        chip.insert()
    except ConnectionRefusedError:
        # the pcscd found running was one on its way out (an earlier test's kiosk stopped
        # it): it is gone now, so this starts the test's own
        pcscd.start()
        chip.insert()
    assert wait_for(reader.card_present)
    assert chip.served.wait(10), "vpcd never spoke to this chip: another one is on the reader"
    yield chip
    chip.remove()


def test_dg1_and_dg2_through_real_pcscd(reader: PcscReader, passport: PassportEmulator) -> None:
    assert Detail.CARD_PRESENT in reader.poll().details
    document = reader.read_passport(KEY)
    assert document.card_type is CardType.PASSPORT
    assert document.name == "ZHANG WEI" and document.number == "EA1234567"
    assert document.nationality == "CHN" and document.sex == "male"
    assert document.birth_date is not None and document.birth_date.isoformat() == "1990-01-01"
    assert document.valid_to is not None and document.valid_to.isoformat() == "2030-01-01"
    assert document.photo_state is PhotoState.DECODED and document.photo_format == "jpeg"
    face = cv2.imdecode(np.frombuffer(document.photo, np.uint8), cv2.IMREAD_COLOR)
    assert face is not None and face.shape[:2] == (126, 102)
    ins = [c[1] for c in passport.commands]
    assert ins[:3] == [0xA4, 0x84, 0x82]  # select, get challenge, external authenticate
    assert all(c[0] & 0x0C == 0x0C for c in passport.commands[3:])  # then only SM


def test_a_wrong_mrz_is_refused_clearly(reader: PcscReader, passport: PassportEmulator) -> None:
    with pytest.raises(MediaError) as caught:
        reader.read_passport(MrzKey("EA1234568", DEMO_PASSPORT.birth, DEMO_PASSPORT.expiry))
    assert caught.value.code == "bac_failed" and "MRZ" in str(caught.value)
    assert reader.read_passport(KEY).number == "EA1234567"  # the right one still works


def test_a_document_pulled_mid_read(reader: PcscReader, passport: PassportEmulator) -> None:
    passport.pull_after_reads = 3
    with pytest.raises(MediaError) as caught:
        reader.read_passport(KEY)
    assert caught.value.code in ("card_removed", "no_card")
    assert wait_for(lambda: not reader.card_present())
    time.sleep(0.5)  # vpcd takes the next card once it has noticed the last one leave
    passport.insert()
    assert wait_for(reader.card_present)
    assert reader.read_passport(KEY).number == "EA1234567"


def test_pcscd_restart_is_survived(pcscd: PcscEmulator, reader: PcscReader) -> None:
    if pcscd._process is None:
        pytest.skip("a system pcscd is running: this test restarts only its own")
    pcscd.stop()
    with pytest.raises(DeviceUnavailable):
        reader.poll()
    pcscd.start()
    assert wait_for(lambda: reader.poll().usable)
    chip = PassportEmulator()
    chip.insert()
    try:
        assert wait_for(reader.card_present)
        assert reader.read_passport(KEY).number == "EA1234567"
    finally:
        chip.remove()


def test_files_that_are_not_a_passport_are_protocol_errors() -> None:
    from drivers.errors import ProtocolError

    with pytest.raises(ProtocolError):
        passport_document(b"\x61\x03\x5f\x1f\x00", b"")


def test_a_profile_with_a_pcsc_reader_boots_to_ready_on_emulators(tmp_path: Path) -> None:
    """No shipped profile reads passports only (a journey's card step needs a resident card):
    a profile of a passport desk is made here, on the bank profile's other devices."""
    assert not [n for n in list_profiles() if uses_pcscd(n)]
    profile = tmp_path / "bank-passport-p1.toml"
    profile.write_text('inherits = "bank-example-b1"\n[idcard]\ndriver = "pcsc"\nreader = ""\n')
    boots_to_ready(tmp_path, str(profile))  # (cupsd's socket path must stay short: no subfolder)
