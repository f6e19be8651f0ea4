"""Demo: one BetterBack participant no channel can reach (no email address, no mobile
number, no postal address), enrolled through the real enrolment action at the clinic of
the physiotherapist the demo prints. Their open questionnaires are on the overdue list
from the day of enrolment with why (:func:`followup.reach.refresh_reachability`), so a
newcomer sees what the list does with such a participant (issue 14).

Enrolled after the replay (which would otherwise have them answer by a link nobody could
send them) and a day before the last enrolment, so that the consent amendment's one
participant awaiting re-consent stays the most recently enrolled. Idempotent.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction

from enrolment.actions.enrol import enrol_participant
from enrolment.demo import _enrolment_fields, _screen, synthetic_personnummer
from enrolment.models import Participant, PersonalDetails, Physiotherapist, Timepoint, Trial
from questionnaires.instruments import for_trial
from questionnaires.models import Response
from questionnaires.services.saving import save_answers

from .answers import synthetic_answers

FULL_NAME = "Nils Utan Adress"  # illustrative: a patient who left no way to reach them


@transaction.atomic
def enrol_unreachable(trial: Trial, clinic_id: int | None) -> dict[str, int]:
    details = PersonalDetails.objects.filter(participant__trial=trial)
    if details.filter(email="", mobile="", postal_address="", erased_at=None).exists():
        return {}
    last = Participant.objects.filter(trial=trial).order_by("-enrolled_on").first()
    physio = Physiotherapist.objects.filter(clinic_id=clinic_id).order_by("pk").first()
    if last is None or physio is None:
        return {}
    rng = random.Random(f"2017:{trial.code}:unreachable")
    enrolled_on = max(last.enrolled_on - timedelta(days=1), trial.recruitment_start)
    born = enrolled_on - timedelta(days=round(365.25 * 47))
    # Enrolled and answering the baseline on the clinic's tablet that morning, as every
    # demo participant did: only the follow-up has no way to reach them.
    with time_machine.travel(
        datetime.combine(enrolled_on, time(9), tzinfo=ZoneInfo(trial.time_zone)), tick=False
    ):
        participant = _enrol(trial, physio, enrolled_on, born, rng)
        baseline = Timepoint.objects.filter(
            trial=trial, respondent=Timepoint.PATIENT, anchor=Timepoint.ENROLMENT, offset=0
        ).first()
        for code in baseline.instruments if baseline else []:
            instrument = for_trial(trial, code)
            save_answers(
                instrument=instrument,
                timepoint=baseline,
                answers=synthetic_answers(instrument, 0.5, rng),
                complete=True,
                mode=Response.STAFF_CLINIC,
                user=physio.user,
                participant=participant,
                language=participant.personal_details.preferred_language,
            )
    return {"participants no channel can reach": 1}


def _enrol(trial, physio, enrolled_on, born, rng) -> Participant:
    # Screened first, as every demo participant: the screening log, the clinic's page and
    # the monitoring CONSORT count the same people.
    screening = _screen(trial, physio.clinic, enrolled_on, physio.user, 47, rng)
    return enrol_participant(
        screening=screening,
        clinic=physio.clinic,
        enrolled_on=enrolled_on,
        user=physio.user,
        consent={
            "consented_on": enrolled_on,
            "form_version": trial.consent_form_version or "1.0",
            "taken_by": physio.user,
        },
        personal={
            "full_name": FULL_NAME,
            "national_id": synthetic_personnummer(rng, born),
            "date_of_birth": born,
            "email": "",
            "mobile": "",
            "postal_address": "",
            "preferred_language": physio.clinic.cluster.language or trial.default_language,
        },
        **_enrolment_fields(trial, physio.clinic, enrolled_on, rng),
    )
