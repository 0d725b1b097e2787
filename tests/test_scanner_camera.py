"""SANE through its real test backend, and the OpenCV camera on the emulator's footage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivers.base import State
from drivers.camera.emulator import CameraEmulator
from drivers.camera.opencv import OpenCvCamera, OpenCvCameraSettings
from drivers.errors import ConfigurationError, DeviceUnavailable
from drivers.scanner.sane import SaneScanner, SaneSettings
from drivers.scanner.sane_emulator import SaneEmulator


@pytest.fixture(scope="module")
def sane_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sane")
    SaneEmulator(folder).start()
    return folder


def test_a_rejected_setting_is_a_configuration_error_and_frees_the_device(sane_dir: Path) -> None:
    bad = SaneScanner(SaneSettings(device="test:0", source="Tray 9", config_dir=str(sane_dir)))
    with pytest.raises(ConfigurationError, match="rejected"):
        bad.open()
    good = SaneScanner(SaneSettings(device="test:0", resolution=75, config_dir=str(sane_dir)))
    good.open()
    try:
        assert good.status().state is State.READY
        assert "Automatic Document Feeder" in good.capabilities.sources
        page = good.scan_page()
        assert page.size == (236, 295)  # the test backend's page at 75 dpi
    finally:
        good.close()


def test_a_missing_scanner_is_unavailable(sane_dir: Path) -> None:
    with pytest.raises(DeviceUnavailable):
        SaneScanner(SaneSettings(device="test:9", config_dir=str(sane_dir))).open()


def test_the_camera_plays_the_emulator_footage_in_a_loop(tmp_path: Path) -> None:
    endpoint = CameraEmulator(tmp_path / "camera.avi").start()
    camera = OpenCvCamera(OpenCvCameraSettings(source=str(endpoint["source"]), loop=True))
    camera.open()
    try:
        frames = [camera.grab() for _ in range(150)]  # more than the clip: it loops
        assert frames[0].shape == (480, 640, 3)
        assert not np.array_equal(frames[0], frames[10])  # the face moves
        assert camera.self_test().ok
    finally:
        camera.close()


def test_no_camera_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DeviceUnavailable):
        OpenCvCamera(OpenCvCameraSettings(source=str(tmp_path / "none.avi"))).open()
