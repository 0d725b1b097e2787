"""Active liveness: the person is asked, at random, to blink or to turn the head left or
right, and must do it within a time limit. A still photo does neither; a printed photo moved in
the hand shifts as a whole, without the eyes closing or the features moving inside the head.

* Blink: eyes found open, then not found for 1–10 frames, then open again (OpenCV's eye
  cascade searched in the upper half of the face).
* Turn: the yaw is where the eyes sit between the cheeks' edges (skin on the cheek band), or,
  with YuNet's landmarks, where the nose sits between the eyes; measured against the person's
  own frontal pose — the one they held still to pass the quality gates, when the check knows
  it, else the first frames of the challenge — it must pass a threshold in the asked
  direction for a few frames.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kiosk.identity.faces import Face

Frame = np.ndarray[Any, Any]


TURN_THRESHOLD = 0.035  # the yaw change that is a turn (a clear 15–20° with the Haar measure)


class Challenge(StrEnum):
    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"


CHALLENGE_TEXT: dict[Challenge, tuple[str, str]] = {
    Challenge.BLINK: ("请眨眨眼", "Please blink"),
    Challenge.TURN_LEFT: ("请向左转头，再转回来", "Please turn your head to the left, then back"),
    Challenge.TURN_RIGHT: ("请向右转头，再转回来", "Please turn your head to the right, then back"),
}


def choose_challenge(
    allowed: tuple[Challenge, ...] = tuple(Challenge), rng: random.Random | None = None
) -> Challenge:
    """Random, so a replayed video of an earlier check does not answer the next one."""
    return (rng or random.SystemRandom()).choice(allowed)


class EyeFinder:
    def __init__(self) -> None:
        path = Path(cv2.data.haarcascades) / "haarcascade_eye.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(str(path))

    def eyes(self, grey: Frame, face: Face) -> list[tuple[float, float]]:
        """Centres of the open eyes found in the upper half of the face (frame pixels)."""
        top = face.y + int(face.h * 0.15)
        roi = grey[max(0, top) : face.y + int(face.h * 0.6), max(0, face.x) : face.x + face.w]
        if roi.size == 0:
            return []
        size = max(8, face.w // 8)
        found = self._cascade.detectMultiScale(roi, 1.1, 4, minSize=(size, size))
        return [
            (face.x + x + w / 2, top + y + h / 2) for (x, y, w, h) in (found if len(found) else [])
        ]


def yaw(frame: Frame, face: Face, eyes: list[tuple[float, float]]) -> float | None:
    """Signed head turn: positive when the person turns to their left (the camera's right)."""
    if len(face.landmarks) >= 3:  # YuNet: right eye, left eye, nose tip
        (rx, _), (lx, _), (nx, _) = face.landmarks[:3]
        span = abs(lx - rx)
        return (nx - (rx + lx) / 2) / span if span > 1 else None
    if not eyes:
        return None
    mid = float(np.mean([x for x, _ in eyes]))
    eye_y = int(np.mean([y for _, y in eyes]))
    x0, x1 = max(0, face.x - face.w // 2), min(frame.shape[1], face.x + face.w + face.w // 2)
    band = frame[eye_y + face.h // 8 : eye_y + face.h // 4, x0:x1]
    if band.size == 0 or band.ndim != 3:
        return None
    ycc = cv2.cvtColor(band, cv2.COLOR_BGR2YCrCb)
    skin = (ycc[:, :, 1] > 135) & (ycc[:, :, 1] < 180) & (ycc[:, :, 2] > 85) & (ycc[:, :, 2] < 135)
    # the cheeks' edges: the run of skin columns around the eyes (not stray skin-coloured
    # pixels elsewhere in the band, which made the yaw jump between frames of a still photo)
    columns = skin.mean(axis=0) > 0.5
    centre = int(mid) - x0
    if not 0 <= centre < len(columns) or not columns[centre]:
        return None
    left = centre
    while left > 0 and columns[left - 1]:
        left -= 1
    right = centre
    while right < len(columns) - 1 and columns[right + 1]:
        right += 1
    if right - left < 5:
        return None
    return float((mid - x0 - (left + right) / 2) / (right - left))


def pose(frame: Frame, face: Face, finder: EyeFinder) -> tuple[int, float | None]:
    """How many open eyes are seen, and the yaw (None when it cannot be measured)."""
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    eyes = finder.eyes(grey, face)
    return len(eyes), yaw(frame, face, eyes)


@dataclass
class LivenessCheck:
    """Fed one good frame at a time; ``passed`` once the challenge is met."""

    challenge: Challenge
    turn_threshold: float = TURN_THRESHOLD
    frames_needed: int = 3
    eye_finder: EyeFinder = field(default_factory=EyeFinder)
    passed: bool = False
    frames: int = 0
    _open: int = 0
    _closed: int = 0
    _blinked: bool = False
    _baseline: list[float] = field(default_factory=list)
    _recent: list[float] = field(default_factory=list)
    _turned: int = 0
    best_turn: float = 0.0
    frontal: float | None = None  # the yaw of the pose held while aligning, when known

    def __post_init__(self) -> None:
        if self.frontal is not None:
            self._baseline = [self.frontal]

    @property
    def progress(self) -> float:
        """0..1 for the progress ring."""
        if self.passed:
            return 1.0
        if self.challenge is Challenge.BLINK:
            return 0.6 if self._blinked else min(0.3, self._open / 10)
        return min(0.9, 0.2 + 0.7 * self.best_turn / self.turn_threshold)

    def _signed(self, value: float) -> float:
        return value if self.challenge is Challenge.TURN_LEFT else -value

    def feed(self, frame: Frame, face: Face) -> bool:
        self.frames += 1
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        eyes = self.eye_finder.eyes(grey, face)
        if self.challenge is Challenge.BLINK:
            self._feed_blink(len(eyes) > 0)
        else:
            self._feed_turn(yaw(frame, face, eyes))
        return self.passed

    def _feed_blink(self, open_: bool) -> None:
        if open_:
            if self._blinked and self._open >= 1:
                self.passed = True
            if 2 <= self._closed <= 10 and self._open >= 3:  # one missed frame is noise
                self._blinked, self._open = True, 0
            self._open += 1
            self._closed = 0
        else:
            self._closed += 1
            if self._closed > 10:  # eyes shut or covered for long: start again
                self._open, self._blinked = 0, False

    def _feed_turn(self, value: float | None) -> None:
        """Against the person's own frontal baseline (the first frames of the challenge: they
        were facing the screen to pass the quality gates); values are the median of the last
        five, so one or two bad frames are no turn. A turn the other way, and back, is no turn."""
        if value is None:
            return
        self._recent = [*self._recent[-4:], value]
        if len(self._recent) < 5:
            return
        smooth = statistics.median(self._recent)
        if self.frontal is None and len(self._baseline) < 5:
            self._baseline.append(smooth)
            return
        delta = self._signed(smooth - statistics.median(self._baseline))
        self.best_turn = max(self.best_turn, delta)
        if delta >= self.turn_threshold:
            self._turned += 1
            if self._turned >= self.frames_needed:
                self.passed = True
        else:
            self._turned = 0
