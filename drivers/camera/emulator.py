"""Synthetic camera footage for the ``sim`` profile: a video file the real OpenCV driver plays.

The scene is a face-like figure drifting across a lit background, enough to exercise capture,
preview and the quality gates. Recorded sources and attack scenes come with the identity check.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def synthetic_face_frames(count: int = 60, width: int = 640, height: int = 480) -> list[np.ndarray]:
    frames = []
    for i in range(count):
        frame = np.full((height, width, 3), (180, 170, 160), np.uint8)
        cx = width // 2 + int(40 * np.sin(i / 10))
        cy = height // 2 + int(10 * np.cos(i / 15))
        cv2.ellipse(frame, (cx, cy), (80, 105), 0, 0, 360, (140, 170, 210), -1)
        for dx in (-30, 30):
            cv2.circle(frame, (cx + dx, cy - 25), 9, (40, 40, 40), -1)
        cv2.ellipse(frame, (cx, cy + 45), (28, 10), 0, 0, 180, (60, 60, 150), 3)
        frames.append(frame)
    return frames


def write_footage(path: Path, frames: list[np.ndarray], fps: float) -> dict[str, object]:
    """The frames as an MJPG video the OpenCV driver plays in a loop; its settings."""
    height, width = frames[0].shape[:2]
    tmp = path.with_name(path.stem + ".tmp.avi")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    tmp.replace(path)
    return {"source": str(path), "loop": True, "width": width, "height": height}


class CameraEmulator:
    def __init__(self, path: Path, fps: float = 15.0) -> None:
        self.path = path
        self.fps = fps

    def start(self) -> dict[str, object]:
        return write_footage(self.path, synthetic_face_frames(), self.fps)

    def stop(self) -> None:
        self.path.unlink(missing_ok=True)


def page_photograph(width: int = 1600, height: int = 1200, shift: int = 0) -> np.ndarray:
    """A printed A4 sheet lying on a desk, seen from above (for the document camera)."""
    page = np.full((1188, 840, 3), 245, np.uint8)
    for row in range(60, 1130, 34):
        cv2.line(page, (60, row), (60 + 300 + (row * 7) % 400, row), (40, 40, 40), 6)
    desk = np.zeros((height, width, 3), np.uint8)
    desk[:] = (60, 85, 110)
    noise = np.random.default_rng(5).integers(0, 25, (height, width, 1), dtype=np.uint8)
    frame = np.asarray(cv2.add(desk, np.repeat(noise, 3, axis=2)))
    ph, pw = page.shape[:2]
    source = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float32)
    target = np.array(
        [[560 + shift, 120], [1150 + shift, 210], [1030 + shift, 1050], [440 + shift, 960]],
        np.float32,
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    warped = cv2.warpPerspective(page, matrix, (width, height))
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), matrix, (width, height))
    frame[mask > 0] = warped[mask > 0]
    return frame


class PageCameraEmulator:
    """Document-camera footage: a hand slides a page into place, then it lies still."""

    def __init__(self, path: Path, fps: float = 10.0) -> None:
        self.path = path
        self.fps = fps

    def start(self) -> dict[str, object]:
        frames = [page_photograph(shift=s) for s in (300, 200, 100, 40)]
        return write_footage(self.path, frames + [page_photograph()] * 16, self.fps)

    def stop(self) -> None:
        self.path.unlink(missing_ok=True)
