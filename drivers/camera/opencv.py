"""OpenCV capture (device index or path, video file, image sequence) for the face camera."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from drivers.base import (
    NOT_OPENED,
    CameraCapabilities,
    Detail,
    Role,
    SelfTestResult,
    SelfTestStep,
    State,
    Status,
)
from drivers.errors import DeviceUnavailable


@dataclass(frozen=True)
class OpenCvCameraSettings:
    """Profile keys of an ``opencv`` camera. ``source`` is an index ("0"), a path or a URL."""

    source: str
    width: int = 640
    height: int = 480
    fps: float = 30.0
    loop: bool = False  # for files: start again at the end (demo and tests)


class OpenCvCamera:
    role = Role.CAMERA
    settings_type = OpenCvCameraSettings

    def __init__(self, settings: OpenCvCameraSettings) -> None:
        self.settings = settings
        self._capture: Any = None
        self._status = NOT_OPENED
        self._size = (settings.width, settings.height)

    @property
    def capabilities(self) -> CameraCapabilities:
        return CameraCapabilities(
            model=f"OpenCV {self.settings.source}",
            width=self._size[0],
            height=self._size[1],
            fps=self.settings.fps,
        )

    def open(self) -> None:
        self.close()
        source: int | str = (
            int(self.settings.source) if self.settings.source.isdigit() else self.settings.source
        )
        capture = cv2.VideoCapture(source)
        if not capture.isOpened():
            capture.release()
            raise DeviceUnavailable(f"cannot open camera {self.settings.source}")
        if isinstance(source, int):
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.settings.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.settings.height)
            capture.set(cv2.CAP_PROP_FPS, self.settings.fps)
        self._capture = capture
        try:
            frame = self.grab()
        except DeviceUnavailable:
            self.close()
            raise
        self._size = (int(frame.shape[1]), int(frame.shape[0]))
        self._status = Status(State.READY)

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()
        self._status = NOT_OPENED

    def status(self) -> Status:
        return self._status

    def poll(self) -> Status:
        try:
            self.grab()
        except DeviceUnavailable as err:
            self._status = Status(State.OFFLINE, frozenset({Detail.NO_FRAME}), str(err))
            raise
        self._status = Status(State.READY)
        return self._status

    def self_test(self) -> SelfTestResult:
        try:
            frame = self.grab()
        except DeviceUnavailable as err:
            return SelfTestResult((SelfTestStep("grab", False, str(err)),))
        mean = float(np.mean(frame))
        steps = (
            SelfTestStep("grab", True, f"{frame.shape[1]}x{frame.shape[0]}"),
            SelfTestStep("not_black", mean > 2.0, f"mean level {mean:.1f}"),
        )
        return SelfTestResult(steps)

    def grab(self) -> np.ndarray[Any, Any]:
        capture = self._capture
        if capture is None:
            raise DeviceUnavailable("camera is not open")
        ok, frame = capture.read()
        if not ok and self.settings.loop:
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = capture.read()
        if not ok or frame is None:
            raise DeviceUnavailable("camera delivered no frame")
        return np.asarray(frame)
