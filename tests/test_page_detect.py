"""Page detection and rectification on synthetic photographed pages."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.documents.page_detect import Guidance, SteadyCapture, detect_page, enhance_text, rectify
from tests.synthetic_pages import A4, photograph

CASES = {
    "straight": [(500, 150), (1100, 150), (1100, 998), (500, 998)],
    "tilted": [(560, 120), (1150, 210), (1030, 1050), (440, 960)],
    "perspective": [(520, 180), (1080, 170), (1180, 1050), (420, 1060)],
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("shadow", [False, True])
def test_corners_within_a_few_pixels_and_the_right_aspect(name: str, shadow: bool) -> None:
    truth = np.array(CASES[name], np.float32)
    frame = photograph(CASES[name], shadow=shadow)
    detection = detect_page(frame)
    assert detection.ok, detection.guidance
    assert detection.corners is not None
    assert float(np.abs(detection.corners - truth).max()) <= 4.0
    page = rectify(frame, detection.corners)
    if name != "perspective":  # a perspective view shortens one side: size comes from edges
        assert page.shape[0] / page.shape[1] == pytest.approx(A4, rel=0.02)
    assert enhance_text(page).shape == page.shape[:2]


def test_a_page_partly_outside_the_frame_is_cut_off() -> None:
    frame = photograph([(900, 100), (1700, 150), (1650, 1300), (850, 1250)])
    assert detect_page(frame).guidance is Guidance.CUT_OFF


def test_no_page_dark_and_blurred() -> None:
    from tests.synthetic_pages import desk

    assert detect_page(desk(1600, 1200)).guidance is Guidance.NO_PAGE
    assert detect_page(photograph(CASES["straight"], light=0.25)).guidance is Guidance.TOO_DARK
    assert detect_page(photograph(CASES["straight"], blur=31)).guidance in (
        Guidance.BLURRED,
        Guidance.NO_PAGE,
    )


def test_steady_capture_waits_for_stillness() -> None:
    capture = SteadyCapture(frames=3)
    still = photograph(CASES["straight"])
    moved = photograph([(x + 40, y) for x, y in CASES["straight"]])
    frames = (moved, still, still, still, still)
    results = [capture.feed(detect_page(f), f.shape) for f in frames]
    assert results[:4] == [Guidance.HOLD_STILL] * 4 and results[4] is None  # 3 still in a row


def test_one_sheet_is_captured_once_until_it_goes_away() -> None:
    from tests.synthetic_pages import desk

    capture = SteadyCapture(frames=2)
    still = photograph(CASES["straight"])
    detection = detect_page(still)
    results = [capture.feed(detection, still.shape) for _ in range(8)]
    assert results.count(None) == 1 and results[-1] is Guidance.NEXT_PAGE
    empty = desk(1600, 1200)
    assert capture.feed(detect_page(empty), empty.shape) is Guidance.NO_PAGE
    again = [capture.feed(detection, still.shape) for _ in range(4)]
    assert again.count(None) == 1  # the next sheet (here: the same one laid again)
