"""Whether a scanned page is upside down, from the layout of its lines of print (no OCR).

Three cues, each measured on the page's lines of print, each voting upright, upside down or
nothing:

- the flush margin: Latin and most short-line Chinese text is set flush left and ragged right;
  turned round, the lines all *end* on one column and start anywhere (weighs two);
- the paragraph indent: a Chinese paragraph's first line is indented by a fixed two
  characters while its last line ends wherever its words do; turned round, the fixed gap is
  at the right end of lines and the varying one at the left;
- the blank space: a letter or a proof starts at the top and leaves its blank at the foot.

Only a page the cues clearly call upside down (two votes' worth, none against) is refused; a
page without such cues (a grid, a form of boxes, a dense page) is kept. A missed upside-down
page costs a clerk one rotation; a wrong refusal stops a person filing, so the bar is high.
A page takes a few tens of milliseconds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import cv2
import numpy as np

WORK_WIDTH = 600  # px: the page is measured at this width
MIN_LINES = 5  # fewer lines of print than this: too little to judge
# of the width: a line edge this close to the common margin is on it (half a character of
# body text: a line that ends in a full stop or comma ends its ink early in its cell)
ALIGNED = 0.02
SHARE_ON_MARGIN = 0.8  # this share of lines on one margin (and far fewer on the other): decided
SHARE_OFF_OTHER = 0.5
JUSTIFIED = 0.35  # this share of lines (titles and signatures aside) on both margins: justified
MIN_INDENTS = 2  # paragraphs whose first lines share one indent
BLANK_FOOT = 0.1  # of the height: a blank foot (or head, turned round) at least this tall


class Orientation(StrEnum):
    UPRIGHT = "upright"
    UPSIDE_DOWN = "upside_down"
    UNDECIDED = "undecided"


def text_lines(grey: np.ndarray[Any, Any]) -> list[tuple[int, int, int, int]]:
    """(top, bottom, first, last ink column) of each line of print, top to bottom."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # specks
    rows = (ink > 0).sum(axis=1)
    inked = rows > max(3, int(0.01 * ink.shape[1]))
    lines: list[tuple[int, int, int, int]] = []
    top = None
    for y, on in enumerate([*inked.tolist(), False]):
        if on and top is None:
            top = y
        elif not on and top is not None:
            columns = np.flatnonzero((ink[top:y] > 0).sum(axis=0) > 0)
            if y - top >= 2 and columns.size:
                lines.append((top, y, int(columns[0]), int(columns[-1])))
            top = None
    return lines


def _largest_cluster(values: list[float], tolerance: float) -> int:
    """How many of ``values`` lie within ``tolerance`` of one another, at most."""
    ordered = np.sort(np.asarray(values, float))
    best = 0
    for i, value in enumerate(ordered):
        best = max(best, int(np.searchsorted(ordered, value + tolerance, side="right")) - i)
    return best


def _margin_vote(starts: list[float], ends: list[float], tolerance: float) -> int:
    left = _largest_cluster(starts, tolerance) / len(starts)
    right = _largest_cluster(ends, tolerance) / len(ends)
    if left >= SHARE_ON_MARGIN and right <= SHARE_OFF_OTHER:
        return 2
    if right >= SHARE_ON_MARGIN and left <= SHARE_OFF_OTHER:
        return -2
    return 0


def _indent_vote(starts: list[float], ends: list[float], tolerance: float) -> int:
    """Justified text (most lines on both margins): among the lines off one margin only, a
    fixed gap at their start (indents) is upright, a fixed gap at their end upside down."""
    both = _largest_cluster(starts, tolerance), _largest_cluster(ends, tolerance)
    if min(both) < max(3, JUSTIFIED * len(starts)):
        return 0  # ragged on one side (the margin vote's case), or too few lines of body text
    margin_left, margin_right = min(starts), max(ends)
    indents, short = [], []
    for first, last in zip(starts, ends, strict=True):
        off_left = first - margin_left > tolerance
        off_right = margin_right - last > tolerance
        if off_left and not off_right:
            indents.append(first - margin_left)
        elif off_right and not off_left:
            short.append(margin_right - last)
    fixed_start = _largest_cluster(indents, tolerance) if indents else 0
    fixed_end = _largest_cluster(short, tolerance) if short else 0
    if fixed_start >= MIN_INDENTS and fixed_end <= 1:
        return 1
    if fixed_end >= MIN_INDENTS and fixed_start <= 1:
        return -1
    return 0


def _blank_vote(tops: list[int], bottoms: list[int], height: int) -> int:
    head, foot = tops[0], height - bottoms[-1]
    if foot >= BLANK_FOOT * height and foot > 2 * head:
        return 1
    if head >= BLANK_FOOT * height and head > 2 * foot:
        return -1
    return 0


def orientation(page: Any) -> Orientation:
    array = np.asarray(page.convert("L") if hasattr(page, "convert") else page)
    grey = array if array.ndim == 2 else cv2.cvtColor(array, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape[:2]
    small = cv2.resize(grey, (WORK_WIDTH, max(1, int(WORK_WIDTH * height / max(1, width)))))
    # the page's own edge (a scanner's lid, a shadow) is not print: keep inside a 3% border
    border = int(0.03 * WORK_WIDTH)
    inner = small[border:-border, border:-border]
    lines = text_lines(inner)
    if len(lines) < MIN_LINES:
        return Orientation.UNDECIDED
    starts = [float(line[2]) for line in lines]
    ends = [float(line[3]) for line in lines]
    tolerance = ALIGNED * WORK_WIDTH
    votes = [
        _margin_vote(starts, ends, tolerance),
        _indent_vote(starts, ends, tolerance),
        _blank_vote([line[0] for line in lines], [line[1] for line in lines], inner.shape[0]),
    ]
    if sum(votes) <= -2 and max(votes) <= 0:
        return Orientation.UPSIDE_DOWN
    if sum(votes) >= 1 and min(votes) >= 0:
        return Orientation.UPRIGHT
    return Orientation.UNDECIDED
