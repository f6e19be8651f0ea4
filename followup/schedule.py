"""The contact schedule: when a participant is asked, as plain functions of data.

No database, no clock. Dates are local calendar dates in the trial's time zone; the
moment a message goes out is an aware UTC datetime, computed from the local date and
the local send time through :mod:`zoneinfo`, so that it stays at the same local time
on both sides of a daylight saving change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from enrolment.dates import UNITS, add_months, offset_date  # noqa: F401 - imported from here too

ENROLMENT = "enrolment"  # Timepoint.ENROLMENT: the only anchor known at enrolment


@dataclass(frozen=True)
class PlannedContact:
    """A timepoint's questionnaire for one participant: due on ``due`` (local date),
    answerable from ``window_opens`` to ``window_closes`` inclusive, sent at ``due_at``."""

    timepoint: str
    due: date
    window_opens: date
    window_closes: date
    due_at: datetime  # aware, UTC


def planned_contacts(
    *,
    baseline: date,
    timepoints: Iterable[object],
    time_zone: str,
    send_at: time = time(9, 0),
    include_baseline: bool = False,
) -> list[PlannedContact]:
    """The contacts a participant enrolled on ``baseline`` is due, in date order.

    ``timepoints`` are objects with the attributes of ``Timepoint`` / ``TimepointSpec``
    (``code``, ``anchor``, ``offset``, ``unit``, ``window_before_days``,
    ``window_after_days``) or dicts with those keys (missing ones default as in the
    protocol file: offset 0, months, windows 0).

    Only timepoints anchored on enrolment are planned here: a workshop or an event has
    its own date, not known at enrolment. A timepoint at offset 0 is the baseline,
    answered at enrolment itself, so it is left out unless ``include_baseline``.
    """
    if isinstance(baseline, datetime) or not isinstance(baseline, date):
        raise TypeError(f"baseline must be a date, got {baseline!r}")
    zone = _zone(time_zone)
    _check_naive(send_at, "send_at")
    contacts = []
    for tp in timepoints:
        code = _field(tp, "code")
        if _field(tp, "anchor") != ENROLMENT:
            continue
        offset = _field(tp, "offset", 0)
        if offset == 0 and not include_baseline:
            continue
        before = _field(tp, "window_before_days", 0)
        after = _field(tp, "window_after_days", 0)
        if before < 0 or after < 0:
            raise ValueError(f"timepoint {code}: window days cannot be negative")
        due = offset_date(baseline, offset, _field(tp, "unit", "months"))
        contacts.append(
            PlannedContact(
                timepoint=code,
                due=due,
                window_opens=due - timedelta(days=before),
                window_closes=due + timedelta(days=after),
                due_at=local_to_utc(due, send_at, zone),
            )
        )
    # Stable sort: timepoints due the same day keep the order they were given in.
    return sorted(contacts, key=lambda c: c.due)


def weekly_sms_times(
    *, baseline: date, weeks: int, weekday: int, send_time: time, time_zone: str
) -> list[tuple[int, datetime]]:
    """(week number 1..weeks, aware UTC datetime) of each weekly SMS.

    The first goes on the first ``weekday`` (0 = Monday ... 6 = Sunday) strictly after
    the baseline date, so that it asks about a week in the trial; then every 7 days at
    the same local time, whatever the clocks do in between.
    """
    if isinstance(baseline, datetime) or not isinstance(baseline, date):
        raise TypeError(f"baseline must be a date, got {baseline!r}")
    if isinstance(weekday, bool) or weekday not in range(7):
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 0:
        raise ValueError(f"weeks must be a whole number of at least 0, got {weeks!r}")
    zone = _zone(time_zone)
    _check_naive(send_time, "send_time")
    first = baseline + timedelta(days=(weekday - baseline.weekday() - 1) % 7 + 1)
    return [
        (week, local_to_utc(first + timedelta(weeks=week - 1), send_time, zone))
        for week in range(1, weeks + 1)
    ]


def first_day_still_planned(moment: datetime, send_at: time, time_zone: str) -> date:
    """The first due date whose invitation, sent at ``send_at`` local time, is still to
    come at ``moment``. An amendment plans a timepoint it adds for nobody due before it
    (followup.amendments), and the monitoring counts exactly those as not scheduled
    (analysis.monitoring): one rule for both."""
    zone = _zone(time_zone)
    today = moment.astimezone(zone).date()
    # Asked of the moment itself, not of the wall clock: in the hour clocks go back, 02:30
    # has passed at 02:00 the second time.
    passed = local_to_utc(today, send_at, zone) <= moment
    return today + timedelta(days=1) if passed else today


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC moment of local wall-clock time ``at`` on ``day`` in ``zone``.

    Arithmetic is done on local dates and only then converted, which is what keeps the
    local time fixed across DST. A time that does not exist (skipped when clocks go
    forward) comes out as the same wall-clock time in the old offset, i.e. one hour
    later in the new one; a time that happens twice (clocks go back) is the first.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _check_naive(at: time, name: str) -> None:
    if not isinstance(at, time):
        raise TypeError(f"{name} must be a time, got {at!r}")
    if at.tzinfo is not None:
        # The zone is the trial's; a second one would make the local time ambiguous.
        raise ValueError(f"{name} must be a local time without a time zone")


_MISSING = object()


def _field(tp: object, name: str, default: object = _MISSING):
    if isinstance(tp, Mapping):
        value = tp.get(name, default)
    else:
        value = getattr(tp, name, default)
    if value is _MISSING:
        raise ValueError(f"timepoint {tp!r} has no {name!r}")
    return value
