"""Calendar arithmetic of the protocol's timepoints: a timepoint's offset (days, weeks or
months from its anchor) as a date. At the bottom so that follow-up's schedule and the
questionnaires' visit window compute one and the same date."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

UNITS = ("days", "weeks", "months")


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later (or earlier, if negative), moved back
    to the month's last day when that month is shorter: 31 Jan + 1 month = 28 Feb
    (29 Feb in a leap year)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return day.replace(year=year, month=month0 + 1, day=min(day.day, last))


def offset_date(anchor: date, offset: int, unit: str) -> date:
    """``anchor`` moved by ``offset`` days, weeks or months.

    Months count from the anchor each time (baseline + 3 months, baseline + 6 months),
    never from the previous contact, so a clamped month end does not drift.
    """
    if unit == "days":
        return anchor + timedelta(days=offset)
    if unit == "weeks":
        return anchor + timedelta(weeks=offset)
    if unit == "months":
        return add_months(anchor, offset)
    raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(UNITS)})")
