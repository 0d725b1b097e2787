"""The scan step without the UI: live guidance, automatic capture, the pages so far.

A worker thread calls ``step()`` (document camera) or ``scan_feeder()`` (flatbed/ADF); the
screen reads ``snapshot()`` on its own clock. Nothing here touches a widget.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from drivers.base import Role
from kiosk.devices import DeviceManager
from kiosk.documents.page_detect import (
    GUIDANCE_TEXT,
    Guidance,
    SteadyCapture,
    content_problem,
    detect_page,
    enhance_text,
    rectify,
)
from kiosk.documents.scan import ScanBatch
from kiosk.messages import UserMessage, message_for

PREVIEW_WIDTH = 640


@dataclass(frozen=True)
class ScanSnapshot:
    guidance_zh: str
    guidance_en: str
    preview: np.ndarray[Any, Any] | None  # BGR, small, with the page outline drawn
    pages: int
    thumbnails: list[np.ndarray[Any, Any]]
    message: UserMessage | None
    busy: bool


class ScanSession:
    def __init__(self, devices: DeviceManager, max_pages: int = 30) -> None:
        self.devices = devices
        self.max_pages = max_pages
        self.batch = ScanBatch()
        self.capture = SteadyCapture()
        self.guidance = Guidance.NO_PAGE
        self.message: UserMessage | None = None
        self.busy = False
        self._preview: np.ndarray[Any, Any] | None = None
        self._retake: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def uses_camera(self) -> bool:
        spec = self.devices.devices[Role.SCANNER].spec
        return spec.driver == "document_camera"

    # -- the worker -----------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        target = self._camera_loop if self.uses_camera else self.scan_feeder
        self._thread = threading.Thread(target=target, name="scan", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _camera_loop(self) -> None:
        while not self._stop.is_set() and len(self.batch.pages) < self.max_pages:
            self.step()
            self._stop.wait(0.05)

    def step(self) -> None:
        """One frame: guidance, and a captured page once the sheet lies still."""
        try:
            frame = self.devices.submit(Role.SCANNER, lambda d: d.scan_page()).result(10)  # type: ignore[attr-defined]
        except Exception as err:
            with self._lock:
                self.message = message_for(err)
            return
        detection = detect_page(frame)
        guidance = self.capture.feed(detection, frame.shape)
        with self._lock:
            self.message = None
            if guidance is None and detection.corners is not None:
                page = enhance_text(rectify(frame, detection.corners))
                problem = content_problem(page)
                if problem is not None:  # a blank sheet: said so, not kept
                    self.guidance = problem
                    self._preview = _preview(frame, detection.corners)
                    return
                if self._retake is not None:
                    self.batch.retake(self._retake, page)
                    self._retake = None
                else:
                    self.batch.add(page)
                self.guidance = Guidance.NEXT_PAGE
            else:
                self.guidance = guidance or Guidance.OK
            self._preview = _preview(frame, detection.corners)

    def scan_feeder(self) -> None:
        """Flatbed or ADF: every sheet; a jam keeps the pages scanned before it."""
        with self._lock:
            self.busy = True
        try:
            job = self.devices.submit(Role.SCANNER, lambda d: _scan_pages(d, self.max_pages))
            run = job.result(300)
        except Exception as err:
            with self._lock:
                self.busy, self.message = False, message_for(err)
            return
        with self._lock:
            pages, refused = [], None
            for page in run.pages:  # a black or blank sheet is said so and not kept
                problem = content_problem(page)
                if problem is None:
                    pages.append(page)
                else:
                    refused = problem
            if self._retake is not None and pages:  # "retake": the first sheet replaces it
                self.batch.retake(self._retake, pages.pop(0))
                self._retake = None
            for page in pages:
                self.batch.add(page)
            self.busy = False
            self.message = message_for(run.error) if run.error is not None else None
            if refused is not None and self.message is None:
                zh, en = GUIDANCE_TEXT[refused]
                self.message = UserMessage(f"scan_{refused.value}", zh, en, True)

    # -- the person's choices -------------------------------------------------------------

    def retake(self, index: int) -> None:
        """The next capture replaces page ``index`` (the same sheet may be captured again).
        On a flatbed or feeder the next scan starts at once."""
        with self._lock:
            self._retake = index
            self.capture = SteadyCapture(self.capture.frames, self.capture.tolerance)
        if not self.uses_camera:
            self.scan_more()

    def scan_more(self) -> None:
        """Flatbed or feeder: scan the next sheets (one more page on a flatbed)."""
        if self.uses_camera or self.busy:
            return
        if self._thread is not None:
            self._thread.join(timeout=1)
        self._stop.clear()
        self._thread = threading.Thread(target=self.scan_feeder, name="scan", daemon=True)
        self._thread.start()

    def delete(self, index: int) -> None:
        with self._lock:
            self.batch.delete(index)

    def snapshot(self) -> ScanSnapshot:
        with self._lock:
            zh, en = GUIDANCE_TEXT[self.guidance]
            thumbs = [np.asarray(t.convert("RGB"))[:, :, ::-1] for t in self.batch.thumbnails()]
            preview = None if self._preview is None else self._preview.copy()
            return ScanSnapshot(
                zh, en, preview, len(self.batch.pages), thumbs, self.message, self.busy
            )


def _scan_pages(device: Any, max_pages: int) -> Any:
    return device.scan_pages(max_pages)


def _preview(frame: np.ndarray[Any, Any], corners: Any) -> np.ndarray[Any, Any]:
    scale = PREVIEW_WIDTH / frame.shape[1]
    small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if corners is not None:
        points = (np.asarray(corners) * scale).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(small, [points], True, (60, 200, 60), 3)
    return np.asarray(small)
