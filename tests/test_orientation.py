"""Upside-down pages are told from the layout of their print: refused only when clear."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from drivers.camera.emulator import page_photograph
from kiosk.documents.orientation import Orientation, orientation
from kiosk.documents.page_detect import Guidance, content_problem, detect_page, rectify
from tests.synthetic_pages import chinese_letter, page_image


def turned(page: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(cv2.rotate(page, cv2.ROTATE_180))


@pytest.mark.parametrize(
    "page",
    [page_image, lambda: chinese_letter(2), lambda: chinese_letter(3)],
    ids=["flush-left", "letter-2", "letter-3"],
)
def test_a_page_turned_round_is_told_and_refused(page: Any) -> None:
    upright = page()
    assert orientation(upright) is Orientation.UPRIGHT
    assert content_problem(upright) is None
    assert orientation(turned(upright)) is Orientation.UPSIDE_DOWN
    assert content_problem(turned(upright)) is Guidance.UPSIDE_DOWN


@pytest.mark.parametrize("paragraphs", [1, 2, 3, 4, 5, 6])
def test_an_upright_letter_is_never_refused(paragraphs: int) -> None:
    assert content_problem(chinese_letter(paragraphs)) is None


def grid() -> np.ndarray[Any, Any]:
    page = np.full((1100, 850), 255, np.uint8)
    page[:, ::50] = 0
    page[::50, :] = 0
    return page


def dense() -> np.ndarray[Any, Any]:
    """Print from margin to margin, top to bottom: nothing to tell the way up by."""
    page = np.full((1188, 840), 245, np.uint8)
    for row in range(60, 1130, 30):
        cv2.line(page, (60, row), (780, row), 30, 8)
    return page


@pytest.mark.parametrize("page", [grid, dense], ids=["grid", "dense"])
def test_a_page_without_cues_is_kept_either_way_up(page: Any) -> None:
    assert orientation(page()) is Orientation.UNDECIDED
    assert content_problem(turned(page())) is None


def test_a_captured_page_is_judged_after_it_is_straightened() -> None:
    frame = page_photograph()
    detection = detect_page(frame)
    assert detection.corners is not None
    page = rectify(frame, detection.corners)
    assert content_problem(page) is None
    assert content_problem(turned(page)) is Guidance.UPSIDE_DOWN


def test_a_far_too_dark_scan_is_refused_a_grey_one_kept() -> None:
    letter = chinese_letter(2)
    assert content_problem((letter * 0.3).astype(np.uint8)) is Guidance.DARK
    assert content_problem((letter * 0.8).astype(np.uint8)) is None  # a grey copy reads
