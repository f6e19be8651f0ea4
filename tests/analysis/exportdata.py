"""Demo-like trial data for the export, registry and browser tests: participants enrolled
through the real action, responses scored by the real instruments."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from enrolment.models import Clinic, Timepoint
from questionnaires.instruments import base, get
from questionnaires.models import Response
from questionnaires.services.scoring import compute_scores
from tests.factories import enrol


def answers_for(code: str, rng: random.Random, note: str = "") -> dict:
    ins = get(code)
    out = {}
    for item in ins.items:
        if item.kind in (base.SCALE, base.NUMBER):
            out[item.id] = rng.randint(item.min, item.max)
        elif item.kind == base.CHOICE:
            out[item.id] = rng.choice(item.choices).code
        elif item.kind == base.YESNO:
            out[item.id] = rng.randint(0, 1)
        elif item.kind == base.MULTI:
            out[item.id] = [item.choices[0].code]
        elif item.kind == base.DATE:
            out[item.id] = "2017-06-01"
        elif item.kind == base.TEXT and note:
            out[item.id] = note  # free text naming the patient: must never be exported
    return out


def respond(participant, tp, code, rng, days, mode=Response.PATIENT_ONLINE, entry=0,
            complete=True, note=""):
    ins = get(code)
    answers = answers_for(code, rng, note)
    when = datetime.combine(participant.enrolled_on, datetime.min.time(), UTC) + timedelta(
        days=days, hours=10
    )
    return Response.objects.create(
        participant=participant, timepoint=tp, instrument=code, version=ins.version,
        answers=answers, scores=compute_scores(ins, answers, participant.trial), mode=mode,
        started_at=when, completed_at=when if complete else None, entry=entry,
    )


def make_trial_data(trial, per_clinic: int = 4, seed: int = 7):
    """Participants in three clinics (west = intervention, central and east = control in
    May 2017) with every patient timepoint answered, a CRPE at the first visit, a paper
    double-entry copy and an unfinished response (neither exported)."""
    rng = random.Random(seed)
    clinics = [Clinic.objects.get(cluster__trial=trial, code=c) for c in ("MOT", "EKH", "NCE")]
    tps = list(trial.timepoints.filter(respondent=Timepoint.PATIENT).order_by("order"))
    crpe = trial.timepoints.get(code="crpe-first")
    people = []
    n = 0
    for clinic in clinics:
        for _ in range(per_clinic):
            n += 1
            p = enrol(clinic, enrolled_on=date(2017, 5, 2) + timedelta(days=n),
                      full_name=f"Testname Patient{n:03d}", date_of_birth=date(1970, 3, n))
            people.append(p)
            for tp in tps:
                for code in tp.instruments:
                    respond(p, tp, code, rng, days=tp.offset * 30 + 1,
                            note=p.personal_details.full_name)
            respond(p, crpe, "crpe", rng, days=0, mode=Response.STAFF_CLINIC,
                    note=p.personal_details.full_name)
    first = people[0]
    respond(first, tps[1], "odi", rng, days=95, mode=Response.STAFF_PAPER, entry=1)
    return people


def make_dogleg_data(trial, per_clinic: int = 4, seed: int = 3):
    """Two clinics per cluster, enrolment on both sides of the central cluster's crossover
    (2017-09-18), every patient timepoint answered: enough for the primary model, which
    needs condition separable from cluster (one clinic per cluster, no crossover is not)."""
    rng = random.Random(seed)
    tps = list(trial.timepoints.filter(respondent=Timepoint.PATIENT).order_by("order"))
    people = []
    for code in ("MOT", "MJO", "EKH", "LAM", "NCE", "HAG"):
        clinic = Clinic.objects.get(cluster__trial=trial, code=code)
        for i in range(per_clinic):
            n = len(people) + 1
            day = date(2017, 8, 1) + timedelta(days=i * 90 // per_clinic)  # Aug - Oct
            p = enrol(clinic, enrolled_on=day, full_name=f"Dog Leg{n:03d}",
                      date_of_birth=date(1970, 1, n))
            people.append(p)
            for tp in tps:
                for ins in tp.instruments:
                    respond(p, tp, ins, rng, days=tp.offset * 30 + 1)
    return people
