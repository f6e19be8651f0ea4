"""When a participant's visit at a timepoint is due: the window staff see before they
hand the tablet over. A plain function of the timepoint and the enrolment date.

Questionnaires sit above follow-up's schedule in neither direction (follow-up imports
questionnaires), so the date arithmetic is repeated here; a test holds it equal to
``followup.schedule.offset_date``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

ENROLMENT = "enrolment"  # Timepoint.ENROLMENT


@dataclass(frozen=True)
class Window:
    opens: date
    due: date
    closes: date

    def state(self, today: date) -> str:
        """'early' before the window opens, 'late' after it closes, else 'open'."""
        if today < self.opens:
            return "early"
        if today > self.closes:
            return "late"
        return "open"


def add_months(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return day.replace(
        year=year, month=month0 + 1, day=min(day.day, calendar.monthrange(year, month0 + 1)[1])
    )


def due_date(anchor: date, offset: int, unit: str) -> date:
    if unit == "days":
        return anchor + timedelta(days=offset)
    if unit == "weeks":
        return anchor + timedelta(weeks=offset)
    if unit == "months":
        return add_months(anchor, offset)
    raise ValueError(f"unknown unit {unit!r}")


def visit_window(timepoint, enrolled_on: date) -> Window | None:
    """The window of ``timepoint`` for a participant enrolled on ``enrolled_on``; None
    for a timepoint anchored on something else (a workshop, an event)."""
    if timepoint.anchor != ENROLMENT:
        return None
    due = due_date(enrolled_on, timepoint.offset, timepoint.unit)
    return Window(
        opens=due - timedelta(days=timepoint.window_before_days),
        due=due,
        closes=due + timedelta(days=timepoint.window_after_days),
    )
