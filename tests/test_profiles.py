from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from drivers.base import Role
from drivers.registry import DRIVERS
from kiosk.profiles import list_profiles, load_profile
from kiosk.strict import StrictConfigError

SHIPPED = sorted(list_profiles())


def test_the_shipped_set() -> None:
    assert "sim" in SHIPPED
    assert any(name.startswith("hall-") for name in SHIPPED)
    assert any(name.startswith("bank-") for name in SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_profile_loads_and_builds_its_settings(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.description
    assert set(profile.devices) == set(Role)
    for spec in profile.devices.values():
        assert DRIVERS[spec.driver].role is spec.role
        if not spec.emulator:
            settings = spec.settings_with({})
            assert dataclasses.is_dataclass(settings)


def test_sim_puts_every_role_on_an_emulator() -> None:
    profile = load_profile("sim")
    assert all(spec.emulator for spec in profile.devices.values())


def profile_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_unknown_device_key_names_file_and_key(tmp_path: Path) -> None:
    path = profile_file(
        tmp_path,
        "hall-acme-x1",
        '[receipt]\ndriver = "escpos"\ntransport = "network"\n'
        'host = "127.0.0.1"\npaper_widht_mm = 58\n',
    )
    with pytest.raises(StrictConfigError) as caught:
        load_profile(str(path))
    assert caught.value.source == str(path)
    assert caught.value.key == "receipt.paper_widht_mm"
    assert "paper_width_mm" in caught.value.hint


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "hall-acme-x1", '[printer]\ndriver = "escpos"\n')
    with pytest.raises(StrictConfigError, match=r"hall-acme-x1.toml: printer: unknown key"):
        load_profile(str(path))


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[idcard]\ndriver = "escpos"\n', "idcard.driver", "is a receipt driver"),
        ('[idcard]\ndriver = "magic"\n', "idcard.driver", "unknown driver"),
        ('[idcard]\ndriver = "sam_serial"\n', "idcard.port", "required key is missing"),
        (
            '[idcard]\ndriver = "sam_serial"\nport = "/dev/x"\nbaud = "fast"\n',
            "idcard.baud",
            "expected an integer",
        ),
        (
            '[idcard]\ndriver = "sam_serial"\nemulator = "escpos"\n',
            "idcard.emulator",
            "cannot stand in",
        ),
    ],
)
def test_bad_device_tables(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = profile_file(tmp_path, "hall-acme-x1", text)
    with pytest.raises(StrictConfigError) as caught:
        load_profile(str(path))
    assert caught.value.key == key
    assert problem in str(caught.value)


def test_one_level_of_inherits(tmp_path: Path) -> None:
    profile_file(
        tmp_path,
        "hall-acme-base",
        '[receipt]\ndriver = "escpos"\ntransport = "network"\n'
        'host = "10.0.0.5"\npaper_width_mm = 80\n',
    )
    child = profile_file(
        tmp_path, "hall-acme-x2", 'inherits = "hall-acme-base"\n[receipt]\npaper_width_mm = 58\n'
    )
    profile = load_profile(str(child), (str(tmp_path),))
    receipt = profile.devices[Role.RECEIPT]
    assert receipt.settings["paper_width_mm"] == 58
    assert receipt.settings["host"] == "10.0.0.5"


def test_a_child_that_changes_driver_starts_afresh(tmp_path: Path) -> None:
    profile_file(tmp_path, "hall-acme-base", '[idcard]\ndriver = "sam_serial"\nport = "/dev/x"\n')
    child = profile_file(
        tmp_path, "hall-acme-x3", 'inherits = "hall-acme-base"\n[idcard]\ndriver = "pcsc"\n'
    )
    assert load_profile(str(child), (str(tmp_path),)).devices[Role.IDCARD].settings == {}


def test_two_levels_of_inherits_are_refused(tmp_path: Path) -> None:
    profile_file(tmp_path, "hall-acme-a", 'description = "a"\n')
    profile_file(tmp_path, "hall-acme-b", 'inherits = "hall-acme-a"\n')
    child = profile_file(tmp_path, "hall-acme-c", 'inherits = "hall-acme-b"\n')
    with pytest.raises(StrictConfigError, match="one level of inherits only"):
        load_profile(str(child), (str(tmp_path),))


def test_file_name_rule(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "MyKiosk", 'description = "x"\n')
    with pytest.raises(StrictConfigError, match="naming rule"):
        load_profile(str(path))


def test_profile_dirs_come_before_shipped(tmp_path: Path) -> None:
    profile_file(tmp_path, "sim", 'description = "site sim"\n')
    assert load_profile("sim", (str(tmp_path),)).description == "site sim"
