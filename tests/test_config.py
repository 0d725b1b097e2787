from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import SiteConfig, SiteMode, load_config
from kiosk.strict import StrictConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DENGJI_KIOSK_CONFIG", raising=False)
    config = load_config()
    assert config.kiosk.profile == "sim"
    assert config.backend.url == "embedded"
    assert config.kiosk.site_mode is SiteMode.HALL
    assert config.kiosk.languages == ("zh_CN", "en")
    assert 0 < config.session.warning_s < config.session.idle_timeout_s


SITE = '[backend]\nurl = "https://registry.example.cn/gateway"\n'
REAL = '[kiosk]\nid = "HALL-07"\nprofile = "hall-example-k1"\n' + SITE


def test_a_file_overrides_some_keys(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[kiosk]\nid = "HALL-07"\nsite_mode = "bank"\nprofile = "bank-example-b1"\n'
            + SITE
            + "[session]\nwarning_s = 10\n",
        )
    )
    assert config.kiosk.id == "HALL-07"
    assert config.kiosk.site_mode is SiteMode.BANK
    assert config.session.warning_s == 10.0
    assert config.backend.timeout_s == SiteConfig().backend.timeout_s
    assert config.source.endswith("site.toml") and not config.training


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[kiosk]\nprofile = "hall-example-k1"\n', "backend.url"),  # no registry named
        (SITE, "kiosk.profile"),  # no devices named
        ('[kiosk]\nid = "K"\n', "backend.url"),
    ],
)
def test_a_site_file_names_its_registry_and_its_devices(
    tmp_path: Path, text: str, key: str
) -> None:
    with pytest.raises(StrictConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == key and "required in a site file" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[kiosk]\nprofile = "hall-example-k1"\n[backend]\nurl = "embedded"\n', "backend.url"),
        ('[kiosk]\nprofile = "sim"\n' + SITE, "kiosk.profile"),
    ],
)
def test_the_sandbox_or_the_emulators_in_a_site_file_need_training_said(
    tmp_path: Path, text: str, key: str
) -> None:
    with pytest.raises(StrictConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == key and "training = true" in str(caught.value)
    said = text.replace("[kiosk]\n", "[kiosk]\ntraining = true\n")
    assert load_config(write(tmp_path, said)).training


def test_no_site_file_is_a_training_kiosk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DENGJI_KIOSK_CONFIG", raising=False)
    assert load_config().training


def test_unknown_key_names_file_key_and_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "[session]\nidle_timout_s = 30\n")
    with pytest.raises(StrictConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "session.idle_timout_s" in message
    assert "did you mean 'idle_timeout_s'" in message


def test_unknown_section_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StrictConfigError, match=r"site.toml: sesion: unknown key"):
        load_config(write(tmp_path, "[sesion]\nwarning_s = 3\n"))


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[session]\nidle_timeout_s = "long"\n', "session.idle_timeout_s", "expected a number"),
        ("[ui]\nfullscreen = 1\n", "ui.fullscreen", "expected bool"),
        ('[kiosk]\nsite_mode = "mall"\n', "kiosk.site_mode", "is not one of"),
        ('[kiosk]\nlanguages = ["zh_CN", "fr"]\n', "kiosk.languages[1]", "unsupported language"),
        ("[session]\nidle_timeout_s = 5\nwarning_s = 9\n", "session.warning_s", "shorter"),
        ('[services]\nenabled = ["queue_ticket", "lottery"]\n', "services.enabled[1]", "unknown"),
    ],
)
def test_bad_values_are_refused_precisely(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    with pytest.raises(StrictConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == key
    assert problem in str(caught.value)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[kiosk\n")
    with pytest.raises(StrictConfigError, match="not valid TOML"):
        load_config(path)


def test_environment_variable_points_at_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = REAL.replace('id = "HALL-07"', 'id = "ENV-1"')
    monkeypatch.setenv("DENGJI_KIOSK_CONFIG", str(write(tmp_path, text)))
    assert load_config().kiosk.id == "ENV-1"
