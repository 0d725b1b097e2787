"""OpenCV capture (device index or path, video file, image sequence) for the face camera.

``grab`` reads one frame (self-tests, snapshots); ``stream`` delivers frames at the profile's
rate to a callback until stopped, on the thread that calls it (the device's worker thread, via
the device manager), and reopens the camera by itself when it drops for a moment (a USB
camera re-enumerating, a network stream hiccup). Only when it stays away does ``stream``
raise, and the supervisor takes over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
    reconnect_s: float = 5.0  # a stream tries to reopen a dropped camera for this long
    # the face detector this machine should run (its CPU decides): "" = the site's choice
    face_detector: str = ""  # haar | yunet | auto
    face_model: str = ""  # the YuNet model file for this machine


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

    def stream(
        self,
        on_frame: Callable[[np.ndarray[Any, Any]], None],
        stop: threading.Event,
        max_frames: int | None = None,
    ) -> int:
        """Deliver frames to ``on_frame`` until ``stop`` is set (or ``max_frames``). Files and
        image sequences are paced at the configured fps; a live camera paces itself. Returns
        the number of frames delivered."""
        period = 1.0 / self.settings.fps if self.settings.fps > 0 else 0.0
        paced = not self.settings.source.isdigit()
        delivered = 0
        next_at = time.monotonic()
        while not stop.is_set() and (max_frames is None or delivered < max_frames):
            try:
                frame = self.grab()
            except DeviceUnavailable:
                self._reconnect(stop)
                continue
            on_frame(frame)
            delivered += 1
            if paced:
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    stop.wait(delay)
                else:
                    next_at = time.monotonic()  # running late: do not try to catch up
        return delivered

    def _reconnect(self, stop: threading.Event) -> None:
        deadline = time.monotonic() + self.settings.reconnect_s
        pause = 0.05
        while not stop.is_set():
            try:
                self.open()
                return
            except DeviceUnavailable as err:
                if time.monotonic() >= deadline:
                    self._status = Status(State.OFFLINE, frozenset({Detail.NO_FRAME}), str(err))
                    raise
            stop.wait(pause)
            pause = min(pause * 2, 0.5)
