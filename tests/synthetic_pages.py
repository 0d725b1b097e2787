"""Photographed pages, made up: a printed A4 sheet on a desk, seen from a document camera."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

A4 = 297 / 210


def page_image(width: int = 840) -> np.ndarray[Any, Any]:
    height = int(width * A4)
    page = np.full((height, width, 3), 245, np.uint8)
    rng = np.random.default_rng(3)
    for row in range(60, height - 60, 34):
        length = int(rng.integers(width // 3, width - 120))
        cv2.line(page, (60, row), (60 + length, row), (40, 40, 40), 6)
    cv2.putText(page, "CONTRACT", (60, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
    return page


def desk(width: int, height: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(5)
    base = np.zeros((height, width, 3), np.uint8)
    base[:] = (60, 85, 110)  # brown desk
    noise = rng.integers(0, 25, (height, width, 1), dtype=np.uint8)
    return np.asarray(cv2.add(base, np.repeat(noise, 3, axis=2)))


def photograph(
    corners: Sequence[tuple[float, float]],
    size: tuple[int, int] = (1600, 1200),
    *,
    shadow: bool = False,
    light: float = 1.0,
    blur: int = 0,
) -> np.ndarray[Any, Any]:
    """The page placed with its corners (TL, TR, BR, BL) at ``corners`` in the frame."""
    width, height = size
    page = page_image()
    ph, pw = page.shape[:2]
    source = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, np.array(corners, np.float32))
    warped = cv2.warpPerspective(page, matrix, (width, height))
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), matrix, (width, height))
    frame = desk(width, height)
    frame[mask > 0] = warped[mask > 0]
    if shadow:
        gradient = np.linspace(0.55, 1.0, width, dtype=np.float32)[None, :, None]
        frame = (frame * gradient).astype(np.uint8)
    if light != 1.0:
        frame = np.clip(frame * light, 0, 255).astype(np.uint8)
    if blur:
        frame = cv2.GaussianBlur(frame, (blur, blur), 0)
    return frame


LETTER_TEXT = (
    "兹证明借款人已于二〇二六年十一月结清我行贷款本息，抵押权人同意注销该不动产上设立的"
    "抵押权登记，并配合办理相关手续。特此证明。"
)


def chinese_letter(paragraphs: int = 3, width: int = 840) -> np.ndarray[Any, Any]:
    """A bank's letter as printed: a centred title, paragraphs justified on both margins with
    a two-character indent, the bank and the date under them, the foot of the page blank."""
    from PIL import Image, ImageDraw, ImageFont

    from kiosk.documents.fonts import full_font

    size, left, per_line = 22, 80, 30
    font = ImageFont.truetype(full_font(), size)
    image = Image.new("L", (width, int(width * A4)), 250)
    draw = ImageDraw.Draw(image)
    draw.text((width // 2 - 4 * size, 60), "抵押权注销证明", font=font, fill=0)
    y = 120
    for paragraph in range(paragraphs):
        text, first = LETTER_TEXT[: 40 + 23 * paragraph] * (paragraph + 1), True
        while text:
            count = per_line - 2 if first else per_line
            line, text = text[:count], text[count:]
            draw.text((left + (2 * size if first else 0), y), line, font=font, fill=0)
            y, first = y + 34, False
        y += 20
    right = left + per_line * size
    for line in ("中国银行济南分行", "2026年12月1日"):
        y += 40
        draw.text((right - len(line) * size, y), line, font=font, fill=0)
    return np.asarray(image.convert("RGB"))
