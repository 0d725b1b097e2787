"""The registry keeps UTC; people read Beijing time (UTC+8, no daylight saving). A proof
issued at 01:30 Beijing time on the 4th says the 4th, not the 3rd."""

from __future__ import annotations

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def in_china(iso: str) -> dt.datetime | None:
    """A registry time ("2026-12-03T17:30:00Z", or with an offset) in Beijing time."""
    try:
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA)


def china_date(iso: str) -> str:
    """The Beijing date of a registry time (as given when it is not a time)."""
    moment = in_china(iso)
    return moment.strftime("%Y-%m-%d") if moment else iso[:10]


def china_minute(iso: str) -> str:
    """The Beijing date and minute of a registry time (as given when it is not a time)."""
    moment = in_china(iso)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else iso
