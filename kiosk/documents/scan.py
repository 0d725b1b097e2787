"""Scanned pages → a reviewed, bounded, multi-page PDF → an application attachment.

Pages come from the flatbed/ADF (PIL images) or the document camera (rectified BGR arrays).
The person reviews thumbnails and can retake, delete or reorder a page. The PDF is A4 at a
sensible resolution with JPEG pages; when it would pass the registry's size limit it is made
again smaller (resolution, then quality), never cut.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from kiosk.backend.api import MAX_ATTACHMENT_BYTES
from kiosk.outbox import Outbox

A4_MM = (210.0, 297.0)
STEPS = ((200, 80), (150, 75), (120, 70), (100, 60))  # (dpi, JPEG quality), best first


class ScanTooLarge(ValueError):
    pass


def to_pil(page: Any) -> Image.Image:
    if isinstance(page, Image.Image):
        return page.convert("RGB") if page.mode not in ("RGB", "L") else page
    array = np.asarray(page)
    if array.ndim == 2:
        return Image.fromarray(array, "L")
    return Image.fromarray(array[:, :, ::-1].copy(), "RGB")  # BGR → RGB


def fit_a4(image: Image.Image, dpi: int) -> Image.Image:
    """The page scaled into an A4 sheet at ``dpi`` (aspect kept, centred on white)."""
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    if image.width > image.height * 1.05:  # a landscape page goes on a landscape sheet
        width, height = height, width
    scale = min(width / image.width, height / image.height)
    resized = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    sheet = Image.new(image.mode, (width, height), "white")
    sheet.paste(resized, ((width - resized.width) // 2, (height - resized.height) // 2))
    return sheet


@dataclass
class ScanBatch:
    pages: list[Image.Image] = field(default_factory=list)

    def add(self, page: Any) -> int:
        self.pages.append(to_pil(page))
        return len(self.pages) - 1

    def retake(self, index: int, page: Any) -> None:
        self.pages[index] = to_pil(page)

    def delete(self, index: int) -> None:
        del self.pages[index]

    def move(self, index: int, to: int) -> None:
        self.pages.insert(to, self.pages.pop(index))

    def thumbnails(self, height: int = 160) -> list[Image.Image]:
        out = []
        for page in self.pages:
            thumb = page.copy()
            thumb.thumbnail((height, height))
            out.append(thumb)
        return out

    def to_pdf(self, limit: int = MAX_ATTACHMENT_BYTES) -> bytes:
        if not self.pages:
            raise ValueError("no pages to make a PDF of")
        for dpi, quality in STEPS:
            sheets = [fit_a4(page, dpi) for page in self.pages]
            buffer = io.BytesIO()
            sheets[0].save(
                buffer,
                "PDF",
                resolution=float(dpi),
                save_all=True,
                append_images=sheets[1:],
                quality=quality,
            )
            data = buffer.getvalue()
            if len(data) <= limit:
                return data
        raise ScanTooLarge(f"{len(self.pages)} pages do not fit in {limit} bytes")

    def upload(self, outbox: Outbox, group: str, key: str) -> str:
        """Queue the PDF as an attachment; an application refers to it as ``outbox:<key>``."""
        outbox.put(
            "upload_attachment", self.to_pdf(), group=group, key=key, content_type="application/pdf"
        )
        return f"outbox:{key}"
