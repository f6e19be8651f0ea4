"""The dashboard's numbers are computed in the database; the pure functions of
:mod:`analysis.monitoring` are the reference. Over a randomly generated trial (enrolment on
month ends and in leap years, answers on the edges of every window and around midnight,
items left out or sent as JSON null, withdrawals, participants without a screening-log
entry) the database path must give exactly the numbers of the pure functions fed one row
per record. Runs on SQLite and on PostgreSQL."""

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F

from analysis import monitoring as mon
from analysis.monitoring import quality
from datamanagement.sdv.services import forms_of
from enrolment.models import Clinic, Participant, ScreeningRecord
from followup.schedule import add_months
from questionnaires import flags
from questionnaires.instruments import get
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

# Month ends, leap days and ordinary days: where a clamped month is easy to get wrong.
TRICKY_DAYS = [
    date(2016, 1, 31),
    date(2016, 2, 29),
    date(2016, 3, 31),
    date(2016, 8, 31),
    date(2016, 11, 30),
    date(2016, 12, 31),
    date(2017, 1, 29),
    date(2017, 1, 30),
    date(2017, 1, 31),
    date(2017, 5, 31),
    date(2017, 10, 31),
    date(2017, 12, 31),
    date(2018, 2, 28),
    date(2019, 2, 28),
    date(2019, 12, 31),
    date(2020, 2, 29),
]


def test_shifted_date_matches_add_months(betterback):
    clinic = Clinic.objects.filter(cluster__trial=betterback).first()
    rng = random.Random(7)
    days = TRICKY_DAYS + [
        date(2015, 1, 1) + timedelta(days=rng.randint(0, 2500)) for _ in range(30)
    ]
    Participant.objects.bulk_create(
        Participant(
            trial=betterback,
            clinic=clinic,
            sequence=k,
            study_id=f"BB-T-{k:04d}",
            enrolled_on=day,
            condition="control",
        )
        for k, day in enumerate(days)
    )
    shifts = [(m, d) for m in range(-14, 27) for d in (-45, -1, 0, 30)]
    got = Participant.objects.annotate(
        **{
            f"s{k}": mon.ShiftedDate(F("enrolled_on"), months=m, days=d)
            for k, (m, d) in enumerate(shifts)
        }
    ).values("enrolled_on", *(f"s{k}" for k in range(len(shifts))))
    checked = 0
    for row in got:
        for k, (m, d) in enumerate(shifts):
            expected = add_months(row["enrolled_on"], m) + timedelta(days=d)
            assert row[f"s{k}"] == expected, (row["enrolled_on"], m, d)
            checked += 1
    assert checked == len(days) * len(shifts)


def _answers(code, rng):
    out = {}
    for item in get(code).items:
        if not item.required:
            continue
        roll = rng.random()
        if roll < 0.08:
            continue  # left out
        if roll < 0.12:
            out[item.id] = None  # sent as JSON null
        else:
            out[item.id] = item.min if item.min is not None else item.choices[-1].code
    return out


@pytest.fixture
def random_trial(betterback):
    rng = random.Random(20160229)
    zone = ZoneInfo(betterback.time_zone)
    staff = UserFactory(username="screener")
    clinics = list(Clinic.objects.filter(cluster__trial=betterback).select_related("cluster"))
    tps = {t.code: t for t in mon.patient_timepoints(betterback)}
    criteria = list(betterback.eligibility.values_list("code", flat=True))
    people = []
    for k in range(160):
        clinic = rng.choice(clinics)
        day = (
            rng.choice(TRICKY_DAYS)
            if k % 3 == 0
            else date(2016, 1, 1) + timedelta(days=rng.randint(0, 1400))
        )
        withdrawn = day + timedelta(days=rng.randint(0, 500)) if rng.random() < 0.25 else None
        people.append(
            Participant(
                trial=betterback,
                clinic=clinic,
                sequence=k + 1,
                study_id=f"BB-R-{k + 1:04d}",
                enrolled_on=day,
                condition=clinic.cluster.condition_on(day),
                status=Participant.WITHDRAWN if withdrawn else Participant.ACTIVE,
                withdrawn_on=withdrawn,
                withdrawal_reason="moved" if withdrawn else "",
            )
        )
    people = Participant.objects.bulk_create(people)
    ScreeningRecord.objects.bulk_create(
        [
            ScreeningRecord(
                trial=betterback,
                clinic=p.clinic,
                screened_on=p.enrolled_on,
                screened_by=staff,
                outcome="enrolled",
                participant=p,
            )
            for p in people
            if rng.random() < 0.85
        ]
        + [
            ScreeningRecord(
                trial=betterback,
                clinic=rng.choice(clinics),
                screened_on=date(2017, 6, 1),
                screened_by=staff,
                outcome=rng.choice(["ineligible", "declined", "eligible"]),
                unmet_criteria=rng.sample(criteria, rng.randint(0, 2)),
            )
            for _ in range(40)
        ]
    )
    responses = []
    for p in people:
        for tp in tps.values():
            if rng.random() < 0.2:
                continue
            lo, hi = mon.window_of(p.enrolled_on, tp)
            day = rng.choice(
                [lo - timedelta(days=1), lo, hi, hi + timedelta(days=1), lo + (hi - lo) / 2]
            ) + timedelta(days=rng.choice([0, 0, 0, -30, 40]))
            # Just after local midnight is still the evening before in UTC, and just
            # before it the next day: the answer's day is the trial's local day.
            clock = rng.choice([time(0, 20), time(23, 40), time(12, 0)])
            when = datetime.combine(day, clock, zone).astimezone(UTC)
            for code in rng.sample(["nrs", "odi", "eq5d3l"], rng.randint(1, 3)):
                entry = Response.FIRST_ENTRY if rng.random() < 0.05 else Response.FINAL
                responses.append(
                    Response(
                        participant=p,
                        timepoint=tp,
                        instrument=code,
                        version=get(code).version,
                        answers=_answers(code, rng),
                        mode=Response.PATIENT_ONLINE,
                        entry=entry,
                        started_at=when,
                        completed_at=None if rng.random() < 0.07 else when,
                    )
                )
    Response.objects.bulk_create(responses)
    # bulk_create bypasses Response.save: the flags as the data migration sets them
    # (the write path's own are tested in tests/questionnaires/test_flags.py).
    flags.refresh(Response.objects.all())
    return betterback


def _finals(trial):
    return [
        r
        for r in Response.objects.filter(participant__trial=trial).select_related(
            "participant", "timepoint"
        )
        if r.entry == Response.FINAL and r.completed_at is not None
    ]


def test_out_of_window_in_the_database_matches_window_counts(random_trial):
    participants = Participant.objects.filter(trial=random_trial)
    tps = mon.patient_timepoints(random_trial)
    zone = ZoneInfo(random_trial.time_zone)
    rows = [
        {
            "timepoint": r.timepoint.code,
            "enrolled_on": r.participant.enrolled_on,
            "day": r.completed_at.astimezone(zone).date(),
        }
        for r in _finals(random_trial)
    ]
    expected = mon.window_counts(rows, tps)
    assert mon.out_of_window(random_trial, participants) == expected
    assert quality.out_of_window_computed(random_trial, participants) == expected
    assert quality.flag_counts(random_trial, participants)[1] == expected
    assert sum(c["early"] for c in expected) > 10 and sum(c["late"] for c in expected) > 10
    for t in tps:
        got = mon.out_of_window(random_trial, participants, t.code)
        assert got == [c for c in expected if c["timepoint"] == t.code]
        ids = mon.out_of_window(random_trial, participants, t.code, with_ids=True)
        assert ids == quality.out_of_window_computed(
            random_trial, participants, t.code, with_ids=True
        )
        outside = set()
        for r in _finals(random_trial):
            if r.timepoint_id != t.pk:
                continue
            lo, hi = mon.window_of(r.participant.enrolled_on, t)
            if not lo <= r.completed_at.astimezone(zone).date() <= hi:
                outside.add(r.participant.study_id)
        assert ids == sorted(outside)


def test_missing_items_in_the_database_match_missing_item_counts(random_trial):
    participants = Participant.objects.filter(trial=random_trial)
    required = mon.required_items()
    rows = []
    for r in _finals(random_trial):
        items = required[(r.instrument, r.version)]
        rows.append(
            {
                "instrument": r.instrument,
                "version": r.version,
                "unanswered": [i for i in items if r.answers.get(i) is None],
            }
        )
    expected = mon.missing_item_counts(rows, required)
    assert mon.missing_items(participants) == expected
    assert quality.missing_items_from_answers(participants, required) == expected
    assert quality.flag_counts(random_trial, participants)[0] == expected
    # The forms per clinic and timepoint counted in that pass: data management's share
    # verified of the whole trial, counted alone.
    forms = quality.flag_counts(random_trial, participants)[2]
    assert sorted(forms) == sorted(forms_of(random_trial))
    # A trial-wide viewer's pass filters on the joined participant's trial: the same counts.
    whole = quality.flag_counts(random_trial, participants, whole_trial=True)
    assert whole[0] == expected and sorted(whole[2]) == sorted(forms)
    assert len({clinic for clinic, _, _ in forms}) > 1
    assert {r["instrument"] for r in expected} == {"nrs", "odi", "eq5d3l"}
    assert all(r["incomplete"] and r["missing_items"] > r["incomplete"] for r in expected)
    for code in ("nrs", "odi", "eq5d3l"):
        incomplete = {
            r.participant.study_id
            for r in _finals(random_trial)
            if r.instrument == code
            and any(r.answers.get(i) is None for i in required[(code, r.version)])
        }
        assert mon.missing_items_participants(participants, code) == sorted(incomplete)


@pytest.mark.parametrize("today", [date(2017, 3, 1), date(2018, 9, 1), date(2021, 1, 1)])
def test_consort_in_the_database_matches_consort_flow(random_trial, today):
    participants = Participant.objects.filter(trial=random_trial)
    screenings = ScreeningRecord.objects.filter(trial=random_trial)
    follow = [t for t in mon.patient_timepoints(random_trial) if t.offset > 0]
    screened = set(screenings.values_list("participant_id", flat=True))
    answered = {(r.participant_id, r.timepoint.code) for r in _finals(random_trial)}
    one_row_each = [
        {
            "condition": p.condition,
            "enrolled_on": p.enrolled_on,
            "withdrawn_on": p.withdrawn_on,
            "screened": p.pk in screened,
            "responded": {t.code for t in follow if (p.pk, t.code) in answered},
        }
        for p in participants
    ]
    expected = mon.consort_flow(
        [{"outcome": s.outcome, "unmet_criteria": s.unmet_criteria} for s in screenings],
        one_row_each,
        [
            {
                "code": t.code,
                "label": t.label,
                "offset": t.offset,
                "unit": t.unit,
                "window_after_days": t.window_after_days,
            }
            for t in follow
        ],
        list(random_trial.arms.values_list("code", "label")),
        today,
    )
    flow = mon.consort_for(random_trial, participants, screenings, today)
    assert flow == expected and flow.adds_up
    assert flow.unscreened == sum(1 for r in one_row_each if not r["screened"]) > 0
    boxes = Counter()
    for arm in flow.arms:
        for box in (arm.responded, arm.no_response, arm.awaiting, arm.withdrawn_before):
            boxes.update(box)
    assert sum(boxes.values()) > len(one_row_each)
