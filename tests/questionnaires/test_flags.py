"""The monitoring flags a response keeps (questionnaires.flags) stay right on every write
path: a save, a staff correction, a corrected enrolment date and a protocol amendment
that moves a window. Each is checked against the dashboard's counts computed without
the flags (analysis.monitoring.quality's reference queries)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis import monitoring as mon
from analysis.monitoring import quality
from enrolment.actions.changes import update_participant
from enrolment.amendments import load_versioned
from enrolment.dates import offset_date
from enrolment.models import Participant, Timepoint
from questionnaires import flags
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import correct_response, save_answers
from tests.conftest import use_betterback_built_once
from tests.data.amendments import betterback_v2
from tests.factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _full(code: str) -> dict:
    return {
        i.id: i.min if i.min is not None else i.choices[-1].code
        for i in get(code).items
        if i.required
    }


def _answer(participant, timepoint: str, code: str, answers: dict, user) -> Response:
    return save_answers(
        instrument=get(code),
        timepoint=Timepoint.objects.get(trial=participant.trial, code=timepoint),
        answers=answers,
        complete=True,
        mode=Response.STAFF_CLINIC,
        user=user,
        participant=participant,
    )


def _completed_on(response: Response, day: date) -> Response:
    response.completed_at = datetime.combine(day, time(12, 0), UTC)
    response._change_reason = "date of the paper form"
    response.save()
    response.refresh_from_db()
    return response


def _windows_agree(trial) -> list[dict]:
    participants = Participant.objects.filter(trial=trial)
    got = mon.out_of_window(trial, participants)
    assert got == quality.out_of_window_computed(trial, participants)
    return got


def _late(trial, code: str) -> int:
    return next(r["late"] for r in _windows_agree(trial) if r["timepoint"] == code)


def test_a_correction_keeps_the_unanswered_items_flag(betterback, clinic_west, coordinator):
    p = enrol(clinic_west)
    required = flags.required_of("odi", get("odi").version)
    answers = _full("odi")
    del answers[required[2]]
    r = _answer(p, "baseline", "odi", answers, coordinator)
    assert r.unanswered == 1 << 2
    participants = Participant.objects.filter(trial=betterback)
    row = next(m for m in mon.missing_items(participants) if m["instrument"] == "odi")
    assert (row["incomplete"], row["per_item"]) == (1, {required[2]: 1})

    correct_response(r, _full("odi"), "read from the paper form", coordinator)
    r.refresh_from_db()
    assert r.unanswered == 0
    row = next(m for m in mon.missing_items(participants) if m["instrument"] == "odi")
    assert (row["incomplete"], row["per_item"]) == (0, {})
    assert mon.missing_items(participants) == quality.missing_items_from_answers(
        participants, mon.required_items()
    )


def test_saving_the_completion_date_sets_the_window_flag(betterback, clinic_west, coordinator):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    r = _answer(p, "12m", "nrs", _full("nrs"), coordinator)
    # 12 months after 2 May 2017, window 14 days before to 45 after: 2 May 2018 + 50 days.
    assert _completed_on(r, date(2018, 6, 21)).outside_window == 1
    assert _late(betterback, "12m") == 1
    assert _completed_on(r, date(2018, 4, 10)).outside_window == -1
    assert _completed_on(r, date(2018, 5, 20)).outside_window == 0
    assert _late(betterback, "12m") == 0


def test_a_corrected_enrolment_date_moves_the_window(betterback, clinic_west, coordinator):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    r = _completed_on(_answer(p, "12m", "nrs", _full("nrs"), coordinator), date(2018, 6, 21))
    assert r.outside_window == 1
    update_participant(p, {"enrolled_on": date(2017, 5, 10)}, "typo in the enrolment date")
    r.refresh_from_db()
    assert r.outside_window == 0  # window closes 10 May 2018 + 45 days = 24 June
    assert _late(betterback, "12m") == 0


def test_an_amendment_that_widens_a_window_refreshes_the_flags(
    betterback, clinic_west, coordinator, tmp_path
):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    r = _completed_on(_answer(p, "12m", "nrs", _full("nrs"), coordinator), date(2018, 6, 21))
    assert r.outside_window == 1 and _late(betterback, "12m") == 1
    # Version 2 widens the 12-month window from 45 to 60 days after the due date.
    load_versioned(betterback_v2(tmp_path), amendment="EPN 2017/123")
    r.refresh_from_db()
    assert Timepoint.objects.get(trial=betterback, code="12m").window_after_days == 60
    assert r.outside_window == 0
    assert _late(betterback, "12m") == 0


def test_refresh_sets_the_flags_of_rows_written_around_save(betterback, clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    twelve = Timepoint.objects.get(trial=betterback, code="12m")
    Response.objects.bulk_create(
        [
            Response(
                participant=p,
                timepoint=twelve,
                instrument="nrs",
                version=get("nrs").version,
                answers={},
                mode=Response.PATIENT_ONLINE,
                started_at=datetime(2018, 6, 21, 12, tzinfo=UTC),
                completed_at=datetime(2018, 6, 21, 12, tzinfo=UTC),
            )
        ]
    )
    flags.refresh(Response.objects.all())
    r = Response.objects.get()
    assert r.outside_window == 1
    assert r.unanswered == (1 << len(flags.required_of("nrs", get("nrs").version))) - 1


def test_the_window_flag_computed_in_python_is_the_sql_one(betterback, clinic_west):
    """Month ends clamped, completions either side of midnight in the trial's time zone
    (Stockholm) and either edge of the window: the flag a save writes from the objects in
    hand equals the one :func:`flags.refresh_windows` computes in the database."""
    twelve = Timepoint.objects.select_related("trial").get(trial=betterback, code="12m")
    zone = ZoneInfo(betterback.time_zone)
    cases = []
    for enrolled_on in (date(2017, 1, 31), date(2016, 2, 29), date(2017, 5, 2)):
        p = enrol(clinic_west, enrolled_on=enrolled_on)
        due = offset_date(enrolled_on, twelve.offset, twelve.unit)
        for edge in (
            -twelve.window_before_days - 1,
            -twelve.window_before_days,
            twelve.window_after_days,
            twelve.window_after_days + 1,
        ):
            for clock in (time(0, 30), time(23, 30)):
                local = datetime.combine(due + timedelta(days=edge), clock, zone)
                cases.append((p, local.astimezone(UTC)))
    rows = Response.objects.bulk_create(
        Response(
            participant=p,
            timepoint=twelve,
            instrument="nrs",
            week=i,
            version=get("nrs").version,
            answers={},
            mode=Response.PATIENT_ONLINE,
            started_at=at,
            completed_at=at,
        )
        for i, (p, at) in enumerate(cases)
    )
    flags.refresh_windows(Response.objects.filter(pk__in=[r.pk for r in rows]))
    in_sql = dict(Response.objects.values_list("pk", "outside_window"))
    in_python = {
        r.pk: flags.window_side(at, p.enrolled_on, twelve, betterback.time_zone)
        for r, (p, at) in zip(rows, cases, strict=True)
    }
    assert in_python == in_sql
    assert sorted(set(in_sql.values())) == [-1, 0, 1]


def test_a_save_with_its_participant_and_timepoint_in_hand_writes_once(
    betterback, clinic_west, coordinator
):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    r = _answer(p, "12m", "nrs", _full("nrs"), coordinator)
    r = Response.objects.select_related("participant", "timepoint__trial").get(pk=r.pk)
    r.completed_at = datetime(2018, 6, 21, 12, tzinfo=UTC)
    r._change_reason = "date of the paper form"
    with CaptureQueriesContext(connection) as queries:
        r.save()
    updates = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('UPDATE "questionnaires_response"')
    ]
    # The row's own UPDATE carries the flag: no second UPDATE of the window after it.
    assert len(updates) == 1 and '"outside_window"' in updates[0]
    r.refresh_from_db()
    assert r.outside_window == 1
