"""When a participant's visit at a timepoint is due: the window staff see before they
hand the tablet over. A plain function of the timepoint and the enrolment date.

The date arithmetic is the protocol's (:mod:`enrolment.dates`), the same that
follow-up's schedule plans its contacts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from enrolment.dates import offset_date

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


# The name staff-side code reads; one computation with the schedule's.
due_date = offset_date


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


def ended_before(participant, timepoint) -> bool:
    """Whether the participant died or withdrew before ``timepoint``'s window opened: no
    form of it can have been answered (a form answered before, and posted after, can)."""
    if participant.status not in participant.NOT_ASKED:
        return False
    ended = participant.died_on or participant.withdrawn_on
    window = visit_window(timepoint, participant.enrolled_on)
    return ended is None or (window is not None and window.opens > ended)
