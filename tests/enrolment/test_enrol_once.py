"""One screening enrols one participant, however often and however fast the enrol form
is sent: a double click, two tabs, a retry after a slow answer."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from enrolment import randomisation_store
from enrolment.actions.enrol import enrol_participant
from enrolment.actions.errors import AlreadyEnrolled
from enrolment.models import Clinic, Participant, RandomisationSlot, ScreeningRecord, TrialRole
from enrolment.protocol.writing import load_protocol

from ..conftest import PROTOCOLS, VerifiedClient
from ..factories import PersonalFactory, TrialRoleFactory, UserFactory

FORM = {
    "enrolled_on": "2022-01-03",
    "consented_on": "2022-01-03",
    "form_version": "1.0",
    "consent_seen": "on",
    "full_name": "Dorte Dobbelt",
    "national_id": "",
    "date_of_birth": "1970-03-03",
    "email": "dorte@example.com",
    "mobile": "",
    "preferred_language": "da",
    "sex": "female",  # SAFE's protocol asks sex at enrolment
}


def _setup():
    trial, _ = load_protocol(PROTOCOLS / "safe.toml")
    coordinator = TrialRoleFactory(
        user=UserFactory(username="safe-coord"), trial=trial, role=TrialRole.COORDINATOR
    ).user
    randomisation_store.generate(trial, coordinator, seed=7)
    clinic = Clinic.objects.filter(cluster__trial=trial).first()
    screening = ScreeningRecord.objects.create(
        trial=trial,
        clinic=clinic,
        screened_on=date(2022, 1, 3),
        screened_by=coordinator,
        age=51,  # agrees with the date of birth below (the enrol form checks it)
        answers={},
        outcome=ScreeningRecord.ELIGIBLE,
    )
    return trial, coordinator, screening


def _assert_enrolled_once(screening):
    participant = Participant.objects.get()
    screening.refresh_from_db()
    assert screening.outcome == ScreeningRecord.ENROLLED
    assert screening.participant == participant
    assert RandomisationSlot.objects.exclude(participant=None).count() == 1
    return participant


def _enrol_from(screening, coordinator):
    return enrol_participant(
        clinic=screening.clinic,
        enrolled_on=date(2022, 1, 3),
        personal=PersonalFactory(preferred_language="da", mobile=""),
        consent={"consented_on": date(2022, 1, 3), "form_version": "1.0"},
        user=coordinator,
        screening=screening,
        sex="female",
    )


@pytest.mark.django_db
def test_a_second_submit_lands_on_the_participant_already_enrolled(client):
    trial, coordinator, screening = _setup()
    client.force_login(coordinator)
    url = reverse("enrol", args=[trial.code, screening.pk])
    client.post(url, FORM)
    again = client.post(url, FORM, follow=True)
    participant = _assert_enrolled_once(screening)
    assert again.redirect_chain[-1][0] == reverse("participant_detail", args=[participant.study_id])
    assert f"already enrolled as {participant.study_id}" in again.content.decode()

    # The action itself decides on the row as it is now, not on the (possibly stale)
    # object a caller hands it.
    screening.pk, screening.outcome, screening.participant = None, "eligible", None
    screening.save()
    stale = ScreeningRecord.objects.get(pk=screening.pk)
    _enrol_from(screening, coordinator)
    with pytest.raises(AlreadyEnrolled):
        _enrol_from(stale, coordinator)
    assert Participant.objects.count() == 2
    assert RandomisationSlot.objects.exclude(participant=None).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_submits_at_the_same_instant_enrol_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL; CI runs this against PostgreSQL")
    trial, coordinator, screening = _setup()
    url = reverse("enrol", args=[trial.code, screening.pk])
    barrier, answers, errors = threading.Barrier(4), [], []

    def submit():
        client = VerifiedClient()  # a coordinator who has given the second factor
        client.force_login(coordinator)
        try:
            barrier.wait()
            answers.append(client.post(url, FORM))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    participant = _assert_enrolled_once(screening)
    target = reverse("participant_detail", args=[participant.study_id])
    assert [(a.status_code, a["Location"]) for a in answers] == [(302, target)] * 4


@pytest.mark.django_db
def test_the_database_refuses_a_second_participant_from_one_screening():
    """Not only the lock: whatever path writes participants, the unique column holds."""
    trial, coordinator, screening = _setup()
    first = _enrol_from(screening, coordinator)
    assert first.enrolled_from == screening
    second = Participant(
        trial=trial,
        clinic=screening.clinic,
        sequence=99,
        study_id="SAFE-X-0099",
        enrolled_on=date(2022, 1, 3),
        condition="control",
        enrolled_from=screening,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()
