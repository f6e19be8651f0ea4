"""Screening log, consent and enrolment in the browser; the CONSORT counts add up."""

import random
from datetime import date

import pytest
from django.urls import reverse

from enrolment.actions.enrol import enrol_participant, record_decline, record_screening
from enrolment.actions.errors import EnrolmentError
from enrolment.consort import screening_flow
from enrolment.models import Participant, ScreeningRecord
from tests.conftest import use_betterback_built_once

from ..factories import PersonalFactory

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

ALL_NO = {
    "swedish": "yes",
    "lbp-episode": "yes",
    "serious-pathology": "no",
    "malignancy-5y": "no",
    "spinal-surgery-2y": "no",
    "pregnancy": "no",
    "multimodal": "no",
    "psychiatric": "no",
}


def _screen(client, clinic, age=40, **answers):
    data = {"clinic": clinic.pk, "screened_on": "2017-05-02", "age": age}
    data.update({f"crit_{k}": v for k, v in {**ALL_NO, **answers}.items()})
    return client.post(reverse("screen", args=["betterback"]), data)


def test_physiotherapist_screens_consents_and_enrols(client, physio_west, clinic_west):
    client.force_login(physio_west)
    response = _screen(client, clinic_west, age=39)
    record = ScreeningRecord.objects.get()
    assert record.outcome == "eligible" and response["Location"].endswith(f"/enrol/{record.pk}/")
    response = client.post(
        response["Location"],
        {
            "enrolled_on": "2017-05-02",
            "consented_on": "2017-05-02",
            "form_version": "1.0",
            "consent_seen": "on",
            "full_name": "Tove Test",
            "national_id": "19770707-1234",
            "date_of_birth": "1977-07-07",
            "email": "tove@example.com",
            "mobile": "",
            "preferred_language": "sv",
        },
    )
    participant = Participant.objects.get()
    assert response["Location"] == reverse("participant_detail", args=[participant.study_id])
    assert participant.consent.form_version == "1.0" and participant.consent.taken_by == physio_west
    record.refresh_from_db()
    assert record.outcome == "enrolled" and record.participant == participant
    assert participant.condition == "intervention"  # West, after its crossover


def test_enrolment_without_consent_is_impossible_and_keeps_the_input(
    client, physio_west, clinic_west
):
    client.force_login(physio_west)
    enrol_url = _screen(client, clinic_west)["Location"]
    response = client.post(
        enrol_url,
        {
            "enrolled_on": "2017-05-02",
            "consented_on": "2017-05-02",
            "form_version": "1.0",
            "full_name": "Tove Test",
            "date_of_birth": "1977-07-07",
            "email": "tove@example.com",
            "preferred_language": "sv",
        },
    )
    assert response.status_code == 200 and "Tove Test" in response.content.decode()
    assert not Participant.objects.exists()
    with pytest.raises(EnrolmentError, match="consent"):
        enrol_participant(
            clinic=clinic_west, enrolled_on=date(2017, 5, 2), personal=PersonalFactory(), consent={}
        )


def test_ineligible_patient_is_logged_without_identifiers(client, physio_west, clinic_west):
    client.force_login(physio_west)
    response = _screen(client, clinic_west, age=70, pregnancy="yes")
    assert response["Location"] == reverse("screening_log", args=["betterback"])
    record = ScreeningRecord.objects.get()
    assert record.outcome == "ineligible" and record.unmet_criteria == ["age", "pregnancy"]
    fields = {f.name for f in ScreeningRecord._meta.get_fields()}
    assert not fields & {"full_name", "national_id", "email", "mobile", "date_of_birth"}


def test_physiotherapist_cannot_screen_at_another_clinic(client, physio_west, clinic_east):
    client.force_login(physio_west)
    response = _screen(client, clinic_east)
    assert response.status_code == 200 and not ScreeningRecord.objects.exists()


def test_statistician_cannot_screen(client, statistician, clinic_west):
    client.force_login(statistician)
    assert client.get(reverse("screen", args=["betterback"])).status_code == 403


def test_screening_log_counts_feed_consort(
    client, coordinator, betterback, clinic_west, clinic_east
):
    """A randomly generated screening log: every screened patient lands in exactly one box
    and the page shows the same counts as counted independently from the rows."""
    rng = random.Random(7)
    criteria = list(betterback.eligibility.values_list("code", "kind"))
    for _ in range(60):
        clinic = rng.choice([clinic_west, clinic_east])
        answers = {code: (kind == "inclusion") for code, kind in criteria if code != "age"}
        if rng.random() < 0.3:
            code, kind = rng.choice([c for c in criteria if c[0] != "age"])
            answers[code] = kind != "inclusion"
        record = record_screening(
            trial=betterback,
            clinic=clinic,
            screened_on=date(2017, 6, 1),
            user=coordinator,
            age=rng.randint(16, 70),
            answers=answers,
            scores={},
        )
        if record.outcome == "eligible":
            roll = rng.random()
            if roll < 0.2:
                record_decline(record, "no time")
            elif roll < 0.9:
                enrol_participant(
                    clinic=clinic,
                    enrolled_on=date(2017, 6, 1),
                    personal=PersonalFactory(),
                    consent={
                        "consented_on": date(2017, 6, 1),
                        "form_version": "1.0",
                        "taken_by": coordinator,
                    },
                    user=coordinator,
                    screening=record,
                )
    rows = list(
        ScreeningRecord.objects.values("outcome", "unmet_criteria", "participant__condition")
    )
    flow = screening_flow({**r, "condition": r["participant__condition"]} for r in rows)
    assert flow.adds_up and flow.assessed == 60
    assert flow.enrolled == Participant.objects.count()
    assert flow.excluded == sum(1 for r in rows if r["unmet_criteria"])
    assert flow.allocated == {
        "intervention": Participant.objects.filter(clinic=clinic_west).count(),
        "control": Participant.objects.filter(clinic=clinic_east).count(),
    }
    client.force_login(coordinator)
    page = client.get(reverse("screening_log", args=["betterback"])).content.decode()
    assert f'data-box="assessed">{flow.assessed}<' in page
    assert f'data-box="enrolled">{flow.enrolled}<' in page
    assert f'data-box="declined">{flow.declined}<' in page
