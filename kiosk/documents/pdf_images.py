"""The page pictures inside a PDF the kiosk made (a scan batch: one JPEG per page), so a screen
can show them without a PDF renderer. A PDF made elsewhere may hold none: it is then shown by
name only."""

from __future__ import annotations

import re

STREAM = re.compile(rb"stream\r?\n")
JPEG_START = b"\xff\xd8\xff"


def embedded_jpegs(pdf: bytes) -> list[bytes]:
    """Each JPEG stream (DCTDecode) in ``pdf``, in file order (a scan's page order)."""
    pages = []
    for match in STREAM.finditer(pdf):
        start = match.end()
        if pdf[start : start + 3] != JPEG_START:
            continue
        end = pdf.find(b"endstream", start)
        if end < 0:
            break
        data = pdf[start:end].rstrip(b"\r\n")
        if data.endswith(b"\xff\xd9"):
            pages.append(data)
    return pages
