from __future__ import annotations

import pytest

from drivers.base import Detail, State
from drivers.certificate.cups import status_from_attributes


@pytest.mark.parametrize(
    ("attributes", "state", "details"),
    [
        ({"printer-state": 3, "printer-state-reasons": ["none"]}, State.READY, set()),
        ({"printer-state": 4, "printer-state-reasons": ["none"]}, State.BUSY, set()),
        (
            {"printer-state": 3, "printer-state-reasons": ["toner-low-warning"]},
            State.READY,
            {Detail.TONER_LOW},
        ),
        (
            {"printer-state": 3, "printer-state-reasons": ["media-empty-error"]},
            State.ERROR,
            {Detail.PAPER_OUT},
        ),
        (
            {"printer-state": 4, "printer-state-reasons": ["media-jam-error"]},
            State.ERROR,
            {Detail.JAMMED},
        ),
        (
            {"printer-state": 3, "printer-state-reasons": ["door-open-report"]},
            State.ERROR,
            {Detail.COVER_OPEN},
        ),
        (
            {"printer-state": 5, "printer-state-reasons": ["paused"]},
            State.ERROR,
            {Detail.PRINTER_STOPPED},
        ),
        (
            {"printer-state": 3, "printer-is-accepting-jobs": False},
            State.ERROR,
            {Detail.NOT_ACCEPTING},
        ),
        ({"printer-state": 9}, State.UNKNOWN, {Detail.STATUS_UNKNOWN}),
    ],
)
def test_queue_attributes_map_to_status(
    attributes: dict[str, object], state: State, details: set[Detail]
) -> None:
    status = status_from_attributes(attributes)
    assert status.state is state
    assert status.details == details
