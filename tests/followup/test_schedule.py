"""The contact schedule (followup.schedule): pure, no database.

Expected dates are counted by hand on the calendar. DST dates are the EU rule (clocks go
forward at 01:00 UTC on the last Sunday of March and back at 01:00 UTC on the last Sunday
of October; Directive 2000/84/EC): 2022-03-27, 2022-10-30, 2024-03-31, 2024-10-27.
Copenhagen and Stockholm are UTC+1 in winter (CET) and UTC+2 in summer (CEST).
"""

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from enrolment.protocol.reading import read_protocol
from followup.schedule import (
    PlannedContact,
    add_months,
    first_day_still_planned,
    local_to_utc,
    offset_date,
    planned_contacts,
    weekly_sms_times,
)

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CET_FIXED = timezone(timedelta(hours=1))


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def timepoints(name):
    return read_protocol(PROTOCOLS / f"{name}.toml").timepoints


# --- months --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # clamped to the end of February
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2000, 1, 31), 1, date(2000, 2, 29)),  # divisible by 400: leap
        (date(1900, 1, 31), 1, date(1900, 2, 28)),  # divisible by 100 only: not leap
        (date(2024, 3, 31), 1, date(2024, 4, 30)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),  # over the year end
        (date(2023, 10, 31), 14, date(2024, 12, 31)),
        (date(2023, 10, 31), 25, date(2025, 11, 30)),
        (date(2024, 1, 10), 0, date(2024, 1, 10)),
        (date(2024, 1, 15), -1, date(2023, 12, 15)),  # backwards over the year end
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 5, 31), -1, date(2024, 4, 30)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_month_offsets_count_from_the_anchor_and_do_not_drift():
    # Chaining 31 Jan -> 28 Feb -> 28 Mar would drift; every offset counts from baseline.
    baseline = date(2023, 1, 31)
    assert [offset_date(baseline, m, "months") for m in (1, 2, 3)] == [
        date(2023, 2, 28),
        date(2023, 3, 31),
        date(2023, 4, 30),
    ]


@pytest.mark.parametrize(
    "anchor, offset, unit, expected",
    [
        (date(2024, 2, 28), 1, "days", date(2024, 2, 29)),
        (date(2023, 2, 28), 1, "days", date(2023, 3, 1)),
        (date(2024, 3, 3), -7, "days", date(2024, 2, 25)),  # BetterBack's pt-before
        (date(2019, 3, 8), 6, "weeks", date(2019, 4, 19)),
        (date(2024, 2, 18), 6, "weeks", date(2024, 3, 31)),  # over 29 Feb
        (date(2021, 11, 30), 3, "months", date(2022, 2, 28)),
    ],
)
def test_offset_date(anchor, offset, unit, expected):
    assert offset_date(anchor, offset, unit) == expected


def test_offset_date_refuses_an_unknown_unit():
    with pytest.raises(ValueError, match="unknown unit 'years'"):
        offset_date(date(2024, 1, 1), 1, "years")


# --- planned contacts ------------------------------------------------------------------------


def test_safe_schedule_from_the_protocol_file():
    """SAFE (protocols/safe.toml): 3, 6, 12, 18, 24 months, send at 09:00 Copenhagen."""
    contacts = planned_contacts(
        baseline=date(2021, 11, 30), timepoints=timepoints("safe"), time_zone="Europe/Copenhagen"
    )
    assert contacts == [
        # due 30 Nov + 3 months = 28 Feb (clamped); window 7 before, 30 after; CET
        PlannedContact(
            "3m", date(2022, 2, 28), date(2022, 2, 21), date(2022, 3, 30), utc(2022, 2, 28, 8)
        ),
        # 30 May (May has 31 days, no clamping); 14 before, 30 after; CEST
        PlannedContact(
            "6m", date(2022, 5, 30), date(2022, 5, 16), date(2022, 6, 29), utc(2022, 5, 30, 7)
        ),
        # 45 days after 30 Nov: 31 to 31 Dec, 14 more to 14 Jan
        PlannedContact(
            "12m", date(2022, 11, 30), date(2022, 11, 16), date(2023, 1, 14), utc(2022, 11, 30, 8)
        ),
        PlannedContact(
            "18m", date(2023, 5, 30), date(2023, 5, 16), date(2023, 7, 14), utc(2023, 5, 30, 7)
        ),
        PlannedContact(
            "24m", date(2023, 11, 30), date(2023, 11, 16), date(2024, 1, 14), utc(2023, 11, 30, 8)
        ),
    ]


def test_safe_schedule_reaches_a_leap_day():
    contacts = planned_contacts(
        baseline=date(2022, 8, 31), timepoints=timepoints("safe"), time_zone="Europe/Copenhagen"
    )
    due = {c.timepoint: c.due for c in contacts}
    assert due["6m"] == date(2023, 2, 28)
    assert due["18m"] == date(2024, 2, 29)
    assert due["24m"] == date(2024, 8, 31)


def test_selfback_schedule_with_six_weeks():
    """selfBACK (protocols/selfback.toml): 6 weeks, 3, 6, 9 months; first participant
    enrolled on the recruitment start, 8 March 2019."""
    contacts = planned_contacts(
        baseline=date(2019, 3, 8), timepoints=timepoints("selfback"), time_zone="Europe/Copenhagen"
    )
    assert contacts == [
        # 8 Mar + 42 days = 19 Apr; window 3 before, 14 after; CEST since 31 Mar 2019
        PlannedContact(
            "6w", date(2019, 4, 19), date(2019, 4, 16), date(2019, 5, 3), utc(2019, 4, 19, 7)
        ),
        PlannedContact(
            "3m", date(2019, 6, 8), date(2019, 6, 1), date(2019, 7, 8), utc(2019, 6, 8, 7)
        ),
        PlannedContact(
            "6m", date(2019, 9, 8), date(2019, 8, 25), date(2019, 10, 8), utc(2019, 9, 8, 7)
        ),
        # CET again after 27 Oct 2019
        PlannedContact(
            "9m", date(2019, 12, 8), date(2019, 11, 24), date(2020, 1, 7), utc(2019, 12, 8, 8)
        ),
    ]


def test_baseline_is_left_out_unless_asked_for():
    tps = timepoints("selfback")
    without = planned_contacts(baseline=date(2019, 3, 8), timepoints=tps, time_zone="Europe/Oslo")
    assert "baseline" not in [c.timepoint for c in without]
    with_baseline = planned_contacts(
        baseline=date(2019, 3, 8), timepoints=tps, time_zone="Europe/Oslo", include_baseline=True
    )
    # Answered from enrolment to 14 days after (window_after_days = 14); CET
    assert with_baseline[0] == PlannedContact(
        "baseline", date(2019, 3, 8), date(2019, 3, 8), date(2019, 3, 22), utc(2019, 3, 8, 8)
    )
    assert with_baseline[1:] == without


def test_only_timepoints_anchored_on_enrolment_are_planned():
    """BetterBack: physiotherapist timepoints hang on the workshop, CRPE on events."""
    contacts = planned_contacts(
        baseline=date(2017, 1, 31),
        timepoints=timepoints("betterback"),
        time_zone="Europe/Stockholm",
    )
    assert [(c.timepoint, c.due) for c in contacts] == [
        ("3m", date(2017, 4, 30)),
        ("6m", date(2017, 7, 31)),
        ("12m", date(2018, 1, 31)),
    ]


def test_dicts_work_with_protocol_defaults_and_are_sorted_by_due_date():
    tps = [
        {"code": "late", "anchor": "enrolment", "offset": 2},  # months by default
        {"code": "workshop", "anchor": "workshop", "offset": 1, "unit": "days"},
        {"code": "early", "anchor": "enrolment", "offset": 10, "unit": "days"},
        {"code": "same-day", "anchor": "enrolment", "offset": 10, "unit": "days"},
    ]
    contacts = planned_contacts(baseline=date(2024, 1, 1), timepoints=tps, time_zone="UTC")
    assert [(c.timepoint, c.due, c.window_opens, c.window_closes) for c in contacts] == [
        ("early", date(2024, 1, 11), date(2024, 1, 11), date(2024, 1, 11)),
        ("same-day", date(2024, 1, 11), date(2024, 1, 11), date(2024, 1, 11)),
        ("late", date(2024, 3, 1), date(2024, 3, 1), date(2024, 3, 1)),
    ]


def test_custom_send_time():
    contacts = planned_contacts(
        baseline=date(2024, 6, 1),
        timepoints=[{"code": "1w", "anchor": "enrolment", "offset": 1, "unit": "weeks"}],
        time_zone="Europe/Stockholm",
        send_at=time(18, 30),
    )
    assert contacts[0].due_at == utc(2024, 6, 8, 16, 30)


THREE_MONTHS = [{"code": "3m", "anchor": "enrolment", "offset": 3, "window_after_days": 30}]


def due_at_in_stockholm(baseline, send_at=time(9, 0)):
    (contact,) = planned_contacts(
        baseline=baseline, timepoints=THREE_MONTHS, time_zone="Europe/Stockholm", send_at=send_at
    )
    return contact


@pytest.mark.parametrize(
    "baseline, due, expected_utc",
    [
        (date(2023, 12, 30), date(2024, 3, 30), utc(2024, 3, 30, 8)),  # day before: CET
        (date(2023, 12, 31), date(2024, 3, 31), utc(2024, 3, 31, 7)),  # spring change: CEST
        (date(2024, 7, 26), date(2024, 10, 26), utc(2024, 10, 26, 7)),  # day before: CEST
        (date(2024, 7, 27), date(2024, 10, 27), utc(2024, 10, 27, 8)),  # autumn change: CET
    ],
)
def test_stockholm_contact_on_the_days_clocks_change(baseline, due, expected_utc):
    contact = due_at_in_stockholm(baseline)
    assert contact.due == due
    assert contact.due_at == expected_utc
    assert contact.due_at.utcoffset() == timedelta(0)
    # Still 09:00 on the wall clock, on the due date.
    local = contact.due_at.astimezone(STOCKHOLM)
    assert (local.date(), local.time()) == (due, time(9, 0))


def test_send_time_skipped_by_the_spring_change_moves_an_hour_later():
    # 02:30 does not exist on 31 Mar 2024 in Stockholm (02:00 -> 03:00): read with the
    # winter offset, 02:30 CET = 01:30 UTC = 03:30 CEST.
    contact = due_at_in_stockholm(date(2023, 12, 31), send_at=time(2, 30))
    assert contact.due_at == utc(2024, 3, 31, 1, 30)
    assert contact.due_at.astimezone(STOCKHOLM).time() == time(3, 30)


def test_send_time_repeated_by_the_autumn_change_is_the_first():
    # 02:30 happens twice on 27 Oct 2024 (03:00 CEST -> 02:00 CET): the first is CEST.
    contact = due_at_in_stockholm(date(2024, 7, 27), send_at=time(2, 30))
    assert contact.due_at == utc(2024, 10, 27, 0, 30)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"time_zone": "Europe/Atlantis"}, ValueError, "unknown time zone"),
        ({"send_at": time(9, 0, tzinfo=CET_FIXED)}, ValueError, "without a time zone"),
        ({"baseline": datetime(2024, 1, 1, 12, 0)}, TypeError, "baseline must be a date"),
        (
            {"timepoints": [{"code": "x", "anchor": "enrolment", "offset": 1, "unit": "years"}]},
            ValueError,
            "unknown unit",
        ),
        (
            {"timepoints": [{"code": "x", "anchor": "enrolment", "window_before_days": -1}]},
            ValueError,
            "cannot be negative",
        ),
        ({"timepoints": [{"code": "x", "offset": 1}]}, ValueError, "has no 'anchor'"),
    ],
)
def test_planned_contacts_refuses_bad_input(kwargs, error, message):
    arguments = {
        "baseline": date(2024, 1, 1),
        "timepoints": THREE_MONTHS,
        "time_zone": "Europe/Stockholm",
        "include_baseline": True,
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        planned_contacts(**arguments)


# --- weekly SMS -------------------------------------------------------------------------------

SUNDAY = 6


def safe_sms(baseline):
    """SAFE: 52 weeks, Sundays at 18:00 Copenhagen time (protocols/safe.toml [sms])."""
    return weekly_sms_times(
        baseline=baseline, weeks=52, weekday=SUNDAY, send_time=time(18, 0),
        time_zone="Europe/Copenhagen",
    )  # fmt: skip


def test_safe_weekly_sms_for_52_weeks():
    times = safe_sms(date(2022, 1, 5))  # a Wednesday
    assert [week for week, _ in times] == list(range(1, 53))
    assert times[0] == (1, utc(2022, 1, 9, 17))  # first Sunday after: 18:00 CET
    # 51 weeks = 357 days after 9 Jan 2022 (day 9 of 365) is day 366: 1 Jan 2023, a Sunday
    assert times[-1] == (52, utc(2023, 1, 1, 17))
    for _, moment in times:
        local = moment.astimezone(COPENHAGEN)
        assert local.weekday() == SUNDAY
        assert local.time() == time(18, 0)
        assert moment.tzinfo is UTC


def test_safe_weekly_sms_keeps_local_time_across_both_changes():
    times = dict(safe_sms(date(2022, 1, 5)))
    # 27 Mar 2022 is 77 days (11 weeks) after 9 Jan: week 12
    assert times[11] == utc(2022, 3, 20, 17)  # 18:00 CET
    assert times[12] == utc(2022, 3, 27, 16)  # 18:00 CEST, the day the clocks go forward
    assert times[12] - times[11] == timedelta(days=7, hours=-1)
    # 30 Oct 2022 (day 303) is 294 days (42 weeks) after 9 Jan: week 43
    assert times[42] == utc(2022, 10, 23, 16)  # 18:00 CEST
    assert times[43] == utc(2022, 10, 30, 17)  # 18:00 CET, the day the clocks go back
    assert times[43] - times[42] == timedelta(days=7, hours=1)


@pytest.mark.parametrize(
    "baseline, first_local_date",
    [
        (date(2022, 1, 8), date(2022, 1, 9)),  # Saturday: the next day
        (date(2022, 1, 9), date(2022, 1, 16)),  # Sunday: strictly after, so a week later
        (date(2022, 1, 10), date(2022, 1, 16)),  # Monday
    ],
)
def test_first_sms_is_on_the_first_weekday_strictly_after_baseline(baseline, first_local_date):
    (week, moment), *_ = safe_sms(baseline)
    assert week == 1
    assert moment.astimezone(COPENHAGEN).date() == first_local_date


def test_monday_morning_sms_in_stockholm():
    times = weekly_sms_times(
        baseline=date(2024, 3, 20), weeks=3, weekday=0, send_time=time(8, 15),
        time_zone="Europe/Stockholm",
    )  # fmt: skip
    assert times == [
        (1, utc(2024, 3, 25, 7, 15)),  # CET
        (2, utc(2024, 4, 1, 6, 15)),  # CEST from 31 Mar
        (3, utc(2024, 4, 8, 6, 15)),
    ]


def test_zero_weeks_gives_no_messages():
    assert (
        weekly_sms_times(
            baseline=date(2024, 1, 1), weeks=0, weekday=0, send_time=time(9), time_zone="UTC"
        )
        == []
    )


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"weekday": 7}, ValueError, "weekday must be 0"),
        ({"weekday": -1}, ValueError, "weekday must be 0"),
        ({"weeks": -1}, ValueError, "weeks must be a whole number"),
        ({"time_zone": "CEST"}, ValueError, "unknown time zone"),
        ({"send_time": time(18, tzinfo=CET_FIXED)}, ValueError, "without a time zone"),
        ({"baseline": "2024-01-01"}, TypeError, "baseline must be a date"),
    ],
)
def test_weekly_sms_times_refuses_bad_input(kwargs, error, message):
    arguments = {
        "baseline": date(2024, 1, 1),
        "weeks": 52,
        "weekday": SUNDAY,
        "send_time": time(18, 0),
        "time_zone": "Europe/Copenhagen",
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        weekly_sms_times(**arguments)


@pytest.mark.parametrize("send_at", [time(9), time(0), time(23, 30), time(2, 30)])
def test_a_due_date_is_still_planned_exactly_when_its_invitation_is_still_to_come(send_at):
    """The amendment's rule (followup.amendments) and the monitoring's "not scheduled"
    (analysis.monitoring) as one function: a date before the first day still planned is
    one whose invitation time has passed. Every quarter hour across both of 2019's clock
    changes in Stockholm, for times that exist on the day."""
    for start in (utc(2019, 3, 29), utc(2019, 10, 25)):
        for quarter in range(4 * 24 * 4):
            moment = start + timedelta(minutes=15 * quarter)
            first = first_day_still_planned(moment, send_at, "Europe/Stockholm")
            for day in (first - timedelta(days=1), first):
                local = datetime.combine(day, send_at, tzinfo=STOCKHOLM)
                if local.astimezone(UTC).astimezone(STOCKHOLM).time() != send_at:
                    continue  # 02:30 on the spring-forward day does not exist
                passed = local_to_utc(day, send_at, STOCKHOLM) <= moment
                assert passed == (day < first), (moment, day)


def test_loaded_at_0859_the_0900_invitation_that_day_is_still_planned():
    at = time(9)
    assert first_day_still_planned(utc(2019, 3, 1, 7, 59), at, "Europe/Stockholm") == date(
        2019, 3, 1
    )
    assert first_day_still_planned(utc(2019, 3, 1, 8, 0), at, "Europe/Stockholm") == date(
        2019, 3, 2
    )
