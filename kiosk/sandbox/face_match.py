"""The sandbox's stand-in for the centre's face comparison service.

It compares the live face with the photo on record by HOG descriptors of the equalised face
(cosine similarity): enough to tell the demo portrait from another person's photo, and
deterministic for tests. The real service uses a trained face-recognition model; the kiosk
does not depend on how it decides, only on its answer.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import cv2
import numpy as np

from kiosk.identity.faces import Face, HaarDetector

MATCH_THRESHOLD = 0.85
Image = np.ndarray[Any, Any]


@cache
def _hog() -> Any:
    return cv2.HOGDescriptor((64, 64), (16, 16), (8, 8), (8, 8), 9)


@cache
def _detector() -> HaarDetector:
    return HaarDetector(min_face_px=30, downscale=1.0)


def _descriptor(grey: Image) -> Image:
    patch = cv2.equalizeHist(cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA))
    vector = np.asarray(_hog().compute(patch)).ravel()
    return vector / (float(np.linalg.norm(vector)) or 1.0)


def _largest(faces: list[Face]) -> Face | None:
    return max(faces, key=lambda f: f.w) if faces else None


def live_descriptor(grey: Image) -> Image | None:
    face = _largest(_detector().detect(grey))
    if face is None:
        return None
    return _descriptor(grey[face.y : face.y + face.h, face.x : face.x + face.w])


def record_descriptor(grey: Image) -> Image:
    """An ID photo: the detected face (upscaled: ID photos are small), else the central area
    where ID photo rules put the face."""
    scale = max(1.0, 300 / grey.shape[1])
    big = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    face = _largest(_detector().detect(big))
    if face is not None:
        return _descriptor(big[face.y : face.y + face.h, face.x : face.x + face.w])
    h, w = grey.shape[:2]
    return _descriptor(grey[int(h * 0.2) : int(h * 0.72), int(w * 0.16) : int(w * 0.84)])


def similarity(live: Image, record: Image) -> float | None:
    """Cosine similarity of the live face and the photo on record; None: no face live."""
    return similarity_to(live, record_descriptor(record))


def similarity_to(live: Image, record: Image) -> float | None:
    """``similarity`` against a record's descriptor worked out before (a register's photos
    do not change between two checks of the same person)."""
    descriptor = live_descriptor(live)
    if descriptor is None:
        return None
    return float(descriptor @ record)
