"""Capture quality gates: one face, big enough, centred, lit, sharp — with the guidance a
person at the screen needs to fix what is wrong (Chinese first, English too)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

from kiosk.identity.faces import Face

Frame = np.ndarray[Any, Any]


class Guidance(StrEnum):
    NO_FACE = "no_face"
    MANY_FACES = "many_faces"
    TOO_FAR = "too_far"
    TOO_CLOSE = "too_close"
    OFF_CENTRE = "off_centre"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRY = "blurry"
    GOOD = "good"


GUIDANCE_TEXT: dict[Guidance, tuple[str, str]] = {
    Guidance.NO_FACE: ("请正对摄像头", "Please face the camera"),
    Guidance.MANY_FACES: ("请确保画面中只有您一人", "Only one person in the picture, please"),
    Guidance.TOO_FAR: ("请靠近一些", "Please come closer"),
    Guidance.TOO_CLOSE: ("请离远一些", "Please move back a little"),
    Guidance.OFF_CENTRE: ("请将面部移到框内中央", "Please move your face to the centre"),
    Guidance.TOO_DARK: ("光线太暗，请正对屏幕", "Too dark: please face the screen"),
    Guidance.TOO_BRIGHT: ("光线太强，请避开强光", "Too bright: please avoid strong light"),
    Guidance.BLURRY: ("请保持不动", "Please hold still"),
    Guidance.GOOD: ("很好，请保持", "Good, hold it there"),
}


@dataclass(frozen=True)
class QualitySettings:
    min_face_ratio: float = 0.18  # face width / frame width
    max_face_ratio: float = 0.60
    max_offset: float = 0.18  # face centre from frame centre, as a share of the frame
    min_brightness: float = 70.0  # mean grey level of the face
    max_brightness: float = 215.0
    min_sharpness: float = 25.0  # variance of the Laplacian of the face at 128 px wide


@dataclass(frozen=True)
class Quality:
    guidance: Guidance
    face: Face | None = None
    brightness: float = 0.0
    sharpness: float = 0.0

    @property
    def ok(self) -> bool:
        return self.guidance is Guidance.GOOD

    @property
    def score(self) -> float:
        """For choosing the best frame: sharper and closer to mid-grey is better."""
        return self.sharpness - abs(self.brightness - 140.0)


def assess(frame: Frame, faces: list[Face], settings: QualitySettings) -> Quality:
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape[:2]
    if not faces:
        # in a dark hall the detector finds nothing: say why, not just "no face"
        level = float(grey.mean())
        guidance = Guidance.TOO_DARK if level < settings.min_brightness * 0.6 else Guidance.NO_FACE
        return Quality(guidance, brightness=level)
    if len(faces) > 1:
        return Quality(Guidance.MANY_FACES)
    face = faces[0]
    region = grey[max(0, face.y) : face.y + face.h, max(0, face.x) : face.x + face.w]
    brightness = float(region.mean()) if region.size else 0.0
    small = cv2.resize(region, (128, max(1, int(128 * face.h / max(1, face.w)))))
    sharpness = float(cv2.Laplacian(small, cv2.CV_64F).var())
    ratio = face.w / width
    cx, cy = face.centre
    offset = max(abs(cx - width / 2) / width, abs(cy - height / 2) / height)
    guidance = Guidance.GOOD
    if brightness < settings.min_brightness:
        guidance = Guidance.TOO_DARK
    elif brightness > settings.max_brightness:
        guidance = Guidance.TOO_BRIGHT
    elif ratio < settings.min_face_ratio:
        guidance = Guidance.TOO_FAR
    elif ratio > settings.max_face_ratio:
        guidance = Guidance.TOO_CLOSE
    elif offset > settings.max_offset:
        guidance = Guidance.OFF_CENTRE
    elif sharpness < settings.min_sharpness:
        guidance = Guidance.BLURRY
    return Quality(guidance, face, brightness, sharpness)
