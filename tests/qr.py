"""Reading QR codes back from rendered paper, as a phone would."""

from __future__ import annotations

from typing import Any

import cv2


def decode_qr(image: Any) -> str:
    """The payload of the QR code in ``image`` ("" when none is found). OpenCV has two
    detectors with different strengths; a phone would find the code either way."""
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        payload = detector.detectAndDecode(image)[0]
        if payload:
            return str(payload)
    return ""
