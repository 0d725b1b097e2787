"""Camera footage for the ``sim`` profile and the tests: video files the real OpenCV driver plays.

The face scenes are built from one real portrait (``data/astronaut.jpg``: NASA's public-domain
portrait of Eileen Collins, as shipped in scikit-image's sample data), so the real detectors
find a real face: a live person (drifts, breathes, blinks, turns the head when asked), a
printed photo held up to the camera (rigid, never blinks), an empty scene, two people, a person
too far away and a dark hall.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

PORTRAIT = Path(__file__).with_name("data") / "astronaut.jpg"
# where the eyes are in the portrait (x, y, w, h), found once with OpenCV's eye cascade
PORTRAIT_EYES = ((87, 76, 29, 29), (133, 80, 28, 28))
SCENES = (
    "visitor",
    "live",
    "blink",
    "turn_left",
    "turn_right",
    "photo",
    "empty",
    "two",
    "far",
    "dark",
)


@cache
def portrait() -> np.ndarray[Any, Any]:
    image = cv2.imread(str(PORTRAIT))
    if image is None:
        raise FileNotFoundError(PORTRAIT)
    return np.asarray(image)


def closed_eyes(face: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The portrait with its eyelids shut: skin over each eye and a dark lash line."""
    out = face.copy()
    for x, y, w, h in PORTRAIT_EYES:
        skin = out[y + h + 4 : y + h + 10, x + 4 : x + w - 4].reshape(-1, 3).mean(axis=0)
        centre = (x + w // 2, y + h // 2)
        cv2.ellipse(out, centre, (w // 2, h // 3), 0, 0, 360, tuple(float(c) for c in skin), -1)
        cv2.ellipse(out, (centre[0], centre[1] + 2), (w // 2 - 2, 3), 0, 0, 180, (40, 35, 35), 2)
    return out


def turned(face: np.ndarray[Any, Any], direction: str, amount: float) -> np.ndarray[Any, Any]:
    """The portrait as if the head turned to the person's ``left`` or ``right``: the outline
    of the head stays, the features (eyes, nose, mouth) slide towards the side the nose now
    points to, as a camera sees a yaw. ``amount`` 0..1 (1 ≈ a clear 30° turn)."""
    h, w = face.shape[:2]
    x0, y0, fw, fh = 50, 30, 150, 170  # the head in the portrait
    shift = amount * fw * 0.22 * (1 if direction == "left" else -1)  # their left: image right
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    u = np.clip((xs - x0) / fw, 0, 1)
    v = np.clip((ys - y0) / fh, 0, 1)
    displacement = shift * np.sin(np.pi * u) * np.sin(np.pi * v)
    map_x = (xs - displacement).astype(np.float32)
    return np.asarray(cv2.remap(face, map_x, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))


def background(width: int, height: int) -> np.ndarray[Any, Any]:
    """A lit hall wall: a soft vertical gradient with a little sensor noise."""
    ramp = np.linspace(205, 160, height, dtype=np.float32)[:, None, None]
    wall = np.broadcast_to(ramp * np.array([0.92, 0.95, 1.0], np.float32), (height, width, 3))
    noise = np.random.default_rng(height).normal(0, 2.0, (height, width, 1)).astype(np.float32)
    return np.asarray(np.clip(wall + noise, 0, 255).astype(np.uint8))


def place(
    frame: np.ndarray[Any, Any], item: np.ndarray[Any, Any], cx: float, cy: float, scale: float
) -> None:
    """Paste ``item`` scaled by ``scale`` centred at (cx, cy), clipped to the frame."""
    resized = cv2.resize(item, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ih, iw = resized.shape[:2]
    fh, fw = frame.shape[:2]
    x0, y0 = int(cx - iw / 2), int(cy - ih / 2)
    fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(fw, x0 + iw), min(fh, y0 + ih)
    if fx1 > fx0 and fy1 > fy0:
        frame[fy0:fy1, fx0:fx1] = resized[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]


def face_scene(
    scene: str = "live", count: int = 90, width: int = 640, height: int = 480
) -> list[np.ndarray[Any, Any]]:
    """``count`` frames of one scene (see ``SCENES``)."""
    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r}; one of {', '.join(SCENES)}")
    face = portrait()
    shut = closed_eyes(face)
    base = background(width, height)
    scale = height / face.shape[0] * 0.92
    frames = []
    for i in range(count):
        frame = base.copy()
        cx = width / 2 + 14 * np.sin(i / 11)
        cy = height / 2 + 8 + 4 * np.cos(i / 17)
        s = scale * (1 + 0.015 * np.sin(i / 7))
        item = face
        turn = ""
        if scene in ("turn_left", "turn_right"):
            # facing the camera, then a quick turn (~0.3 s) and straight back: never held
            # still while turned (the check aligns on a pose held still)
            phase, turn = i % 48, scene.removeprefix("turn_")
        if scene == "visitor":  # does whatever is asked: faces, turns left, then right
            cycle = i % 126
            phase, turn = (
                (cycle - 30) % 48,
                ("" if cycle < 30 else "left" if cycle < 78 else "right"),
            )
        if turn:
            amount = float(np.clip(min((phase - 10) / 4, (18 - phase) / 4), 0.0, 1.0))
            item = turned(face, turn, amount)
        if scene in ("visitor", "live", "blink") and i % 30 in (14, 15, 16):
            item = closed_eyes(item) if turn else shut  # blinks about every two seconds
        if scene == "photo":  # a print held up: a white border, flat, only the hand trembles
            item = cv2.copyMakeBorder(
                face, 18, 18, 18, 18, cv2.BORDER_CONSTANT, value=(235, 235, 235)
            )
            cx, cy, s = width / 2 + 3 * np.sin(i / 5), height / 2 + 2 * np.cos(i / 6), scale * 0.85
        if scene == "empty":
            frames.append(frame)
            continue
        if scene == "two":
            place(frame, item, width * 0.28, cy, s * 0.7)
            place(frame, item, width * 0.72, cy, s * 0.7)
        elif scene == "far":
            place(frame, item, cx, cy, s * 0.45)
        else:
            place(frame, item, cx, cy, s)
        if scene == "dark":
            frame = (frame.astype(np.float32) * 0.16).astype(np.uint8)
        frames.append(frame)
    return frames


class Visitor:
    """A person at the kiosk who does what is asked, frame by frame: faces the screen (with
    the small drift and the blinks every few seconds of a real visitor), and once told a
    challenge reacts after a human delay, blinks or turns the head and comes back. Every
    visit differs (``rng``). With ``photo`` it is a printed photo held up: it never moves
    inside. For the liveness benchmark and the face check's tests."""

    def __init__(self, rng: Any, photo: bool = False, width: int = 640, height: int = 480):
        self.rng = rng
        self.photo = photo
        self.size = (width, height)
        self.i = 0
        self._base = background(width, height)
        self._face = portrait()
        self._drift = (rng.uniform(0, 6.3), rng.uniform(0, 6.3), rng.uniform(0.97, 1.03))
        self._next_blink = int(rng.integers(20, 60))
        self._action = ""  # "blink" | "left" | "right"
        self._action_at = -1
        self._speed = 7

    def ask(self, challenge: str) -> None:
        """The screen shows the challenge; the person reacts in 0.3–1.2 s."""
        self._action = {"turn_left": "left", "turn_right": "right"}.get(challenge, "blink")
        self._action_at = self.i + int(self.rng.integers(5, 18))
        self._speed = int(self.rng.integers(5, 9))

    def frame(self) -> np.ndarray[Any, Any]:
        i, width, height = self.i, *self.size
        self.i += 1
        frame = self._base.copy()
        scale = height / self._face.shape[0] * 0.92 * self._drift[2]
        if self.photo:
            item = cv2.copyMakeBorder(
                self._face, 18, 18, 18, 18, cv2.BORDER_CONSTANT, value=(235, 235, 235)
            )
            cx, cy = width / 2 + 3 * np.sin(i / 5), height / 2 + 2 * np.cos(i / 6)
            place(frame, item, cx, cy, scale * 0.85)
            return frame
        cx = width / 2 + 14 * np.sin(i / 11 + self._drift[0])
        cy = height / 2 + 8 + 4 * np.cos(i / 17 + self._drift[1])
        item = self._face
        since = i - self._action_at if self._action_at >= 0 else -1
        shut = False
        if self._action in ("left", "right") and since >= 0:
            amount = float(np.clip(min(since / self._speed, 2 - since / self._speed), 0, 1))
            if amount > 0:
                item = turned(self._face, self._action, amount)
        elif self._action == "blink" and 0 <= since < 3:
            shut = True
        if i >= self._next_blink and i < self._next_blink + 3:
            shut = True  # blinking by itself now and then, as everyone does
        elif i >= self._next_blink + 3:
            self._next_blink = i + int(self.rng.integers(25, 70))
        if shut:
            item = closed_eyes(item)
        place(frame, item, cx, cy, scale * (1 + 0.015 * np.sin(i / 7)))
        return frame


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
    """A cooperative visitor in front of the kiosk (the ``visitor`` scene in a loop)."""

    def __init__(self, path: Path, fps: float = 15.0, scene: str = "visitor") -> None:
        self.path = path
        self.fps = fps
        self.scene = scene

    def start(self) -> dict[str, object]:
        return write_footage(self.path, face_scene(self.scene, 126), self.fps)

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
