"""Face detection: OpenCV's Haar cascade (ships with the opencv wheel) or YuNet (when a model
file is configured; faster and far better with turned heads and uneven light).

Both answer the same question — where are the faces in this BGR frame — so the quality gates,
the liveness check and the maintenance camera test do not care which one runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

Frame = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Face:
    """A face box in frame pixels; ``landmarks`` (eyes, nose, mouth corners) when the detector
    gives them (YuNet does, Haar does not)."""

    x: int
    y: int
    w: int
    h: int
    score: float = 1.0
    landmarks: tuple[tuple[float, float], ...] = ()

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


class FaceDetector(Protocol):
    name: str

    def detect(self, frame: Frame) -> list[Face]: ...


class HaarDetector:
    """Viola–Jones on a half-size grey frame: fast enough at 640×480 on a kiosk CPU."""

    name = "haar"

    def __init__(self, min_face_px: int = 40, downscale: float = 2.0) -> None:
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {path}")
        self._min = min_face_px
        self._scale = downscale

    def detect(self, frame: Frame) -> list[Face]:
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        small = cv2.resize(
            grey, None, fx=1 / self._scale, fy=1 / self._scale, interpolation=cv2.INTER_AREA
        )
        small = cv2.equalizeHist(small)
        size = max(12, int(self._min / self._scale))
        found = self._cascade.detectMultiScale(small, 1.15, 5, minSize=(size, size))
        s = self._scale
        return [
            Face(int(x * s), int(y * s), int(w * s), int(h * s))
            for (x, y, w, h) in (found if len(found) else [])
        ]


class YuNetDetector:
    """OpenCV's YuNet (``cv2.FaceDetectorYN``) from an ONNX model file."""

    name = "yunet"

    def __init__(self, model: Path, score_threshold: float = 0.8) -> None:
        if not model.is_file():
            raise FileNotFoundError(f"YuNet model {model} not found")
        self._detector = cv2.FaceDetectorYN.create(str(model), "", (320, 320), score_threshold)
        self._size = (0, 0)

    def detect(self, frame: Frame) -> list[Face]:
        height, width = frame.shape[:2]
        if (width, height) != self._size:
            self._detector.setInputSize((width, height))
            self._size = (width, height)
        image = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        _, rows = self._detector.detect(image)
        faces = []
        for row in rows if rows is not None else []:
            x, y, w, h = (int(v) for v in row[:4])
            points = tuple((float(row[4 + 2 * i]), float(row[5 + 2 * i])) for i in range(5))
            faces.append(Face(x, y, w, h, float(row[14]), points))
        return faces


def make_detector(kind: str = "auto", yunet_model: str = "") -> FaceDetector:
    """``auto``: YuNet when its model file is configured and present, Haar otherwise."""
    if kind in ("auto", "yunet") and yunet_model and Path(yunet_model).is_file():
        return YuNetDetector(Path(yunet_model))
    if kind == "yunet":
        raise FileNotFoundError(f"the YuNet model {yunet_model!r} is not installed")
    return HaarDetector()


def draw_faces(
    frame: Frame, faces: list[Face], colour: tuple[int, int, int] = (0, 200, 0)
) -> Frame:
    """A copy of the frame with each face boxed (for the maintenance camera test)."""
    out = frame.copy()
    thickness = max(2, frame.shape[1] // 240)
    for face in faces:
        cv2.rectangle(out, (face.x, face.y), (face.x + face.w, face.y + face.h), colour, thickness)
    return out
