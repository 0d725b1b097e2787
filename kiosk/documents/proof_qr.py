"""Reading a proof's check code off a scanned page (证明核验 by QR).

The query certificate and the 有无房产证明 print a QR of the registry's check address with the
proof's code (``query_certificate.VERIFY_URL``). The kiosk reads the code from it and asks the
registry itself: whatever else a QR on a paper says (another site, a script) is never opened.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

CODE = re.compile(r"[A-Za-z0-9]{6,24}")
MAX_SIDE = 1600  # a page larger than this is read at this size too (the detector's sweet spot)


def read_qr(page: Any) -> str:
    """The payload of the first QR code found on ``page`` (a PIL image or an array), or ""."""
    image = np.asarray(page.convert("L") if hasattr(page, "convert") else page)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    tries = [image]
    side = max(image.shape[:2])
    if side > MAX_SIDE:
        scale = MAX_SIDE / side
        tries.append(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    for candidate in tries:
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            payload = detector.detectAndDecode(candidate)[0]
            if payload:
                return str(payload)
    return ""


def proof_code(payload: str) -> str:
    """The check code a proof's QR carries: the ``code`` of a check address, or a bare code;
    "" for anything else."""
    text = payload.strip()
    if CODE.fullmatch(text):
        return text.upper()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.path.rstrip("/").endswith("verify"):
        return ""
    codes = parse_qs(parts.query).get("code", [])
    return codes[0].upper() if len(codes) == 1 and CODE.fullmatch(codes[0]) else ""
