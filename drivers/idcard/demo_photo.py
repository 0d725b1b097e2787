"""An ID photo (102×126, JPEG) per demo card, for readers that decode on board and for the
sandbox registry's photos on record.

The first demo card's photo is the real portrait the camera emulator shows (so the sim kiosk's
face check matches); the others are drawn faces no face detector takes for a person, so a
different card at the same camera is a mismatch. The camera emulator has one face, so the
other people of the sitting-of-several demo (个人之间抵押: the Hong Kong co-owner and the
lender with the 2023 permanent-residence card) have that portrait too: each passes the face
check at the sim kiosk in turn, and the cards without it still fail it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import cv2
import numpy as np

# DEMO_CARDS[0], and the private mortgage demo's co-owner and lender (DEMO_CARDS[2], [4])
PORTRAIT_CARDS = frozenset({"11010519491231002X", "810000199001010019", "932682198501010017"})


def demo_face(number: str) -> np.ndarray[Any, Any]:
    if number in PORTRAIT_CARDS:
        from drivers.camera.emulator import portrait

        head = portrait()[10:260, 15:235]  # head and shoulders, as an ID photo is framed
        return np.asarray(cv2.resize(head, (102, 126), interpolation=cv2.INTER_AREA))
    seed = hashlib.sha256(number.encode()).digest()
    image = np.full((126, 102, 3), (235, 235, 240), np.uint8)
    skin = (150 + seed[0] % 40, 170 + seed[1] % 30, 200 + seed[2] % 40)
    cv2.ellipse(image, (51, 60), (30 + seed[3] % 6, 40 + seed[4] % 6), 0, 0, 360, skin, -1)
    for dx in (-12, 12):
        cv2.circle(image, (51 + dx, 52), 4, (40, 40, 40), -1)
    cv2.ellipse(image, (51, 80), (10, 4), 0, 0, 180, (60, 60, 150), 2)
    return image


def demo_face_jpeg(number: str, max_bytes: int = 3000) -> bytes:
    """The photo as an on-board-decoding reader sends it: a small JPEG (the whole answer
    frame, text included, must stay under the protocol's 4 KiB)."""
    for quality in (85, 75, 65, 55, 45):
        ok, data = cv2.imencode(".jpg", demo_face(number), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        if len(data) <= max_bytes:
            break
    return bytes(data)
