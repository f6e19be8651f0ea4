"""Design columns of the analysis dataset, derived by plain functions of dates and flags.

The primary model (issue 16) adjusts for calendar time and the clinic level: these are
the columns it reads, each derived here and described in the codebook in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date


def whole_months(start: date, day: date) -> int:
    """Whole calendar months from ``start`` to ``day``: a month is complete on the same
    day of the next month (31 Jan to 28 Feb is 0, to 1 Mar is 1); negative before start."""
    months = (day.year - start.year) * 12 + (day.month - start.month)
    if months > 0 and day.day < start.day:
        months -= 1
    elif months < 0 and day.day > start.day:
        months += 1
    return months


def enrolled_month(first_enrolment: date, enrolled_on: date) -> int:
    """Whole months from the trial's first enrolment to this enrolment (0 in the first)."""
    return whole_months(first_enrolment, enrolled_on)


def period_starts(crossovers: Iterable[date | None], recruitment_start: date | None) -> list[date]:
    """The days a new calendar period begins: every distinct crossover of any cluster
    after recruitment started. A crossover on or before the start (a cluster that starts
    in the intervention) begins no period; clusters crossing on the same day begin one."""
    days = {d for d in crossovers if d is not None}
    if recruitment_start is not None:
        days = {d for d in days if d > recruitment_start}
    return sorted(days)


def period(starts: Iterable[date], enrolled_on: date) -> int:
    """1 + the number of period starts on or before the enrolment date."""
    return 1 + sum(1 for d in starts if d <= enrolled_on)


def per_protocol(excluding_deviations: int) -> bool:
    """In the per-protocol set unless a deviation excludes the participant (a type the
    protocol marks ``excluded``, or a ``judged`` one the recorder marked so)."""
    return excluding_deviations == 0
