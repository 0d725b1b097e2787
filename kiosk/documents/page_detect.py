"""Finding a sheet of paper in a document-camera frame, and making it a flat page.

Edges (Canny) → the largest four-cornered contour → its corners, ordered; a perspective warp
gives the flat, deskewed page at its true aspect ratio. The person is told when the page is cut
off, blurred or too dark, and ``SteadyCapture`` takes the picture by itself once the page has
stopped moving.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

from kiosk.documents.orientation import Orientation, orientation

DETECT_WIDTH = 1600  # detection runs at this width; corners are scaled back
MIN_AREA = 0.15  # of the frame
BORDER = 4  # px at detection scale: a corner this close to the edge is cut off
BLUR_LIMIT = 60.0  # variance of the Laplacian below this: blurred
DARK_LIMIT = 70.0  # mean page brightness below this: too dark


BLANK_SPREAD = 8.0  # grey-level spread below this: nothing written on the page
BLACK_LEVEL = 40.0  # mean below this on a scan: black (face down under a lifted lid, a fault)
DARK_LEVEL = 90.0  # mean below this (a paper page scans at 200 and more): too dark to read


class Guidance(StrEnum):
    OK = "ok"
    NO_PAGE = "no_page"
    CUT_OFF = "cut_off"
    BLURRED = "blurred"
    TOO_DARK = "too_dark"
    HOLD_STILL = "hold_still"
    NEXT_PAGE = "next_page"  # captured: take it away and lay the next one
    BLANK = "blank"  # a page with nothing on it: face down, or the wrong sheet
    BLACK = "black"  # a scan that came out black
    DARK = "dark"  # a scan far too dark to read
    UPSIDE_DOWN = "upside_down"  # the page was laid the wrong way round


GUIDANCE_TEXT = {
    Guidance.OK: ("请保持不动，正在拍摄", "Hold still, capturing"),
    Guidance.NO_PAGE: ("请将材料平放在拍摄区内", "Place the page flat in the capture area"),
    Guidance.CUT_OFF: (
        "材料超出拍摄区，请向中间移动",
        "The page is cut off; move it to the middle",
    ),
    Guidance.BLURRED: ("画面模糊，请放平并保持不动", "Blurred; lay the page flat and keep still"),
    Guidance.TOO_DARK: ("光线太暗，请移开遮挡", "Too dark; please remove what shades the page"),
    Guidance.HOLD_STILL: ("请保持不动", "Hold still"),
    Guidance.NEXT_PAGE: (
        "已拍好，请换下一页或点击完成",
        "Captured: lay the next page, or tap Done",
    ),
    Guidance.BLANK: (
        "这一页是空白的，未收入。请确认材料正面朝上、放的是要提交的那一页",
        "That page was blank and is not kept: is the page face up, and the right one?",
    ),
    Guidance.BLACK: (
        "扫描结果全黑，未收入。请合上盖板、确认材料正面朝下放在玻璃上后重扫",
        "The scan came out black and is not kept: close the lid, page face down, and scan again",
    ),
    Guidance.DARK: (
        "扫描太暗，看不清内容，未收入。请合上盖板后重扫；材料本身颜色很深时请到人工窗口",
        "The scan is far too dark to read and is not kept: close the lid and scan again; "
        "for a very dark document please go to a counter",
    ),
    Guidance.UPSIDE_DOWN: (
        "材料上下放反了，未收入。请将材料上下调转后重新放置",
        "The page is upside down and is not kept: turn it top to bottom and place it again",
    ),
}


def content_problem(page: Any) -> Guidance | None:
    """Whether a scanned or captured page can be a document at all: a black page, one with
    nothing on it, one too dark to read or one clearly upside down is refused (a bank's
    release letter that is a blank sheet is no letter)."""
    array = np.asarray(page.convert("L") if hasattr(page, "convert") else page)
    grey = array if array.ndim == 2 else cv2.cvtColor(array, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape[:2]
    small = cv2.resize(grey, (256, max(1, int(256 * height / max(1, width)))))
    if float(small.mean()) < BLACK_LEVEL:
        return Guidance.BLACK
    if float(small.std()) < BLANK_SPREAD:
        return Guidance.BLANK
    if float(small.mean()) < DARK_LEVEL:
        return Guidance.DARK
    if orientation(grey) is Orientation.UPSIDE_DOWN:
        return Guidance.UPSIDE_DOWN
    return None


@dataclass(frozen=True)
class Detection:
    guidance: Guidance
    corners: np.ndarray[Any, Any] | None = None  # 4x2 float32: TL, TR, BR, BL (full scale)
    sharpness: float = 0.0
    brightness: float = 0.0

    @property
    def ok(self) -> bool:
        return self.guidance is Guidance.OK


def order_corners(points: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    points = points.reshape(4, 2).astype(np.float32)
    sums, diffs = points.sum(axis=1), np.diff(points, axis=1).ravel()
    return np.array(
        [
            points[np.argmin(sums)],
            points[np.argmin(diffs)],
            points[np.argmax(sums)],
            points[np.argmax(diffs)],
        ],
        np.float32,
    )


def detect_page(frame: np.ndarray[Any, Any]) -> Detection:
    _height, width = frame.shape[:2]
    scale = min(1.0, DETECT_WIDTH / width)
    small = (
        cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else frame
    )
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    blurred = cv2.GaussianBlur(grey, (5, 5), 0)
    median = float(np.median(blurred))
    edges = cv2.Canny(blurred, int(max(10, 0.5 * median)), int(min(255, 1.2 * median + 40)))
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return Detection(_cut_off_or_none(grey))
    frame_area = small.shape[0] * small.shape[1]
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour)
    x, y, w, h = cv2.boundingRect(contour)
    touches = (
        x <= BORDER
        or y <= BORDER
        or x + w >= small.shape[1] - BORDER
        or (y + h >= small.shape[0] - BORDER)
    )
    hull = cv2.convexHull(contour)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if area < MIN_AREA * frame_area and cv2.contourArea(hull) < MIN_AREA * frame_area:
        return Detection(Guidance.CUT_OFF if touches else _cut_off_or_none(grey))
    if len(quad) != 4 or touches:
        return Detection(Guidance.CUT_OFF if touches else _cut_off_or_none(grey))
    corners = order_corners(quad) / scale
    mask = np.zeros(grey.shape, np.uint8)
    cv2.fillConvexPoly(mask, quad.reshape(4, 2).astype(np.int32), 255)
    brightness = float(cv2.mean(grey, mask=mask)[0])
    inner = cv2.erode(mask, np.ones((15, 15), np.uint8))
    laplacian = cv2.Laplacian(grey, cv2.CV_64F)
    sharpness = float(laplacian[inner > 0].var()) if np.any(inner) else 0.0
    if brightness < DARK_LIMIT:
        return Detection(Guidance.TOO_DARK, corners, sharpness, brightness)
    if sharpness < BLUR_LIMIT:
        return Detection(Guidance.BLURRED, corners, sharpness, brightness)
    return Detection(Guidance.OK, corners, sharpness, brightness)


def _cut_off_or_none(grey: np.ndarray[Any, Any]) -> Guidance:
    """No clean four-cornered page: is there a large bright sheet running off the frame?"""
    _, bright = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light, dark = cv2.mean(grey, mask=bright)[0], cv2.mean(grey, mask=255 - bright)[0]
    if light < 120 or light - dark < 50:  # no sheet of paper stands out from the desk
        return Guidance.NO_PAGE
    count, _, stats, _ = cv2.connectedComponentsWithStats(bright)
    height, width = grey.shape[:2]
    for x, y, w, h, area in stats[1:count]:
        if area < MIN_AREA * width * height:
            continue
        if x <= BORDER or y <= BORDER or x + w >= width - BORDER or y + h >= height - BORDER:
            return Guidance.CUT_OFF
    return Guidance.NO_PAGE


def rectify(frame: np.ndarray[Any, Any], corners: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The page seen flat, at the size its edges measure in the frame."""
    tl, tr, br, bl = corners
    width = round(float(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    height = round(float(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    target = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32
    )
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return np.asarray(cv2.warpPerspective(frame, matrix, (width, height), flags=cv2.INTER_LINEAR))


def enhance_text(page: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Grey, with local contrast raised (shadows evened out) for legible text."""
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    background = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, np.ones((31, 31), np.uint8))
    flat = cv2.divide(grey, background, scale=255)
    return np.asarray(cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(flat))


class SteadyCapture:
    """Captures once the page is found, sharp and still for ``frames`` frames in a row; then
    waits for that page to go (or move) before it captures again, so one sheet is one page."""

    def __init__(self, frames: int = 5, tolerance: float = 0.006) -> None:
        self.frames = frames
        self.tolerance = tolerance  # of the frame's diagonal
        self._last: np.ndarray[Any, Any] | None = None
        self._captured: np.ndarray[Any, Any] | None = None
        self._steady = 0

    def feed(self, detection: Detection, frame_shape: tuple[int, ...]) -> Guidance | None:
        """The guidance to show; ``None`` once it is time to capture."""
        if not detection.ok or detection.corners is None:
            self._last, self._steady = None, 0
            if detection.guidance is Guidance.NO_PAGE:
                self._captured = None  # the page was taken away: ready for the next
            return detection.guidance
        diagonal = float(np.hypot(frame_shape[0], frame_shape[1]))
        if self._captured is not None:
            if float(np.abs(detection.corners - self._captured).max()) / diagonal < 0.05:
                return Guidance.NEXT_PAGE  # still the sheet just captured
            self._captured = None
        moved = (
            float(np.abs(detection.corners - self._last).max()) / diagonal
            if self._last is not None
            else 1.0
        )
        self._last = detection.corners
        self._steady = self._steady + 1 if moved <= self.tolerance else 0
        if self._steady >= self.frames:
            self._steady = 0
            self._captured = detection.corners
            return None
        return Guidance.HOLD_STILL
