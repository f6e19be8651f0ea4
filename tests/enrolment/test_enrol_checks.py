"""The enrol form checks identity and timing (issue 15 findings 4 and 5): a national ID
enrolled twice, a date of birth that agrees with neither the ID nor the screened age, an
enrolment after the recruitment period. Nothing typed is lost."""

from datetime import date

import pytest
from django.urls import reverse

from enrolment import randomisation_store
from enrolment.models import Clinic, Participant
from enrolment.protocol.writing import load_protocol
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS
from ..factories import enrol
from .test_screening import _screen

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

GOOD = {
    "enrolled_on": "2017-05-02",
    "consented_on": "2017-05-02",
    "form_version": "1.0",
    "consent_seen": "on",
    "full_name": "Tove Test",
    "national_id": "811228-9874",
    "date_of_birth": "1981-12-28",
    "email": "tove@example.com",
    "mobile": "",
    "preferred_language": "sv",
}


def _enrol(client, clinic, age=35, **changes):
    url = _screen(client, clinic, age=age)["Location"]
    return client.post(url, {**GOOD, **changes})


def test_valid_id_is_stored_normalised(client, physio_west, clinic_west):
    client.force_login(physio_west)
    response = _enrol(client, clinic_west)
    assert response.status_code == 302
    assert Participant.objects.get().personal_details.national_id == "19811228-9874"


def test_second_enrolment_with_the_same_id_is_refused_and_keeps_the_input(
    client, physio_west, clinic_west
):
    first = enrol(clinic_west, national_id="19811228-9874", date_of_birth=date(1981, 12, 28))
    client.force_login(physio_west)
    response = _enrol(client, clinic_west, national_id="8112289874")
    page = response.content.decode()
    assert response.status_code == 200 and Participant.objects.count() == 1
    assert f"already enrolled in this trial as {first.study_id}" in page
    assert 'value="Tove Test"' in page and 'value="8112289874"' in page


def test_same_id_in_another_trial_needs_a_confirmation(client, physio_west, clinic_west):
    other, _ = load_protocol(PROTOCOLS / "safe.toml")
    randomisation_store.generate(other, physio_west, seed=20211101)
    enrol(
        Clinic.objects.filter(cluster__trial=other).first(),
        enrolled_on=date(2022, 1, 5),
        national_id="19811228-9874",
        preferred_language="da",
    )
    client.force_login(physio_west)
    response = _enrol(client, clinic_west)
    assert "a participant of another trial on this site has the same" in response.content.decode()
    assert not Participant.objects.filter(trial__code="betterback").exists()
    response = client.post(response.wsgi_request.path, {**GOOD, "confirm_warnings": "on"})
    assert response.status_code == 302
    assert Participant.objects.filter(trial__code="betterback").count() == 1


def test_bad_checksum_is_refused(client, physio_west, clinic_west):
    client.force_login(physio_west)
    response = _enrol(client, clinic_west, national_id="811228-9875")
    assert "check digit does not match" in response.content.decode()
    assert not Participant.objects.exists()


def test_date_of_birth_against_the_id_and_the_screened_age(client, physio_west, clinic_west):
    client.force_login(physio_west)
    # 1990-01-01 agrees with neither the ID (1981-12-28) nor the screened age (35).
    response = _enrol(client, clinic_west, date_of_birth="1990-01-01")
    page = response.content.decode()
    assert "differs from the date in the national ID (1981-12-28)" in page
    assert "27 on the screening day, but the screening recorded 35" in page
    assert not Participant.objects.exists()
    # Without an ID the age still warns; a confirmation lets it through.
    response = client.post(
        response.wsgi_request.path, {**GOOD, "national_id": "", "date_of_birth": "1990-01-01"}
    )
    assert "Read the warnings and tick this box" in response.content.decode()
    response = client.post(
        response.wsgi_request.path,
        {**GOOD, "national_id": "", "date_of_birth": "1990-01-01", "confirm_warnings": "on"},
    )
    assert response.status_code == 302


def test_enrolment_after_recruitment_needs_a_reason_that_is_kept_and_audited(
    client, coordinator, clinic_west
):
    client.force_login(coordinator)
    late = {"enrolled_on": "2018-02-05", "consented_on": "2018-02-05"}
    response = _enrol(client, clinic_west, **late)
    page = response.content.decode()
    assert "recruitment ended on 2018-01-31" in page
    assert "Recruitment has ended: say why this patient is enrolled." in page
    assert not Participant.objects.exists()
    response = client.post(
        response.wsgi_request.path,
        {**GOOD, **late, "late_reason": "Consented in January", "confirm_warnings": "on"},
    )
    participant = Participant.objects.get()
    assert participant.late_enrolment_reason == "Consented in January"
    assert participant.history.get().late_enrolment_reason == "Consented in January"
    detail = client.get(reverse("participant_detail", args=[participant.study_id]))
    assert "Consented in January" in detail.content.decode()


def test_a_corrected_id_is_checked_and_cannot_copy_another_participants(
    client, coordinator, clinic_west
):
    first = enrol(clinic_west, national_id="19811228-9874", date_of_birth=date(1981, 12, 28))
    second = enrol(clinic_west, national_id="")
    client.force_login(coordinator)
    url = reverse("personal_details_edit", args=[second.study_id])
    data = {
        "full_name": "Tove Test",
        "date_of_birth": "1980-01-01",
        "email": "tove@example.com",
        "mobile": "",
        "preferred_language": "sv",
        "reason": "typed from the referral",
    }
    page = client.post(url, {**data, "national_id": "8112289874"}).content.decode()
    assert f"already enrolled in this trial as {first.study_id}" in page
    page = client.post(url, {**data, "national_id": "811228-9875"}).content.decode()
    assert "check digit does not match" in page
    assert client.post(url, {**data, "national_id": "800101-0001"}).status_code == 302
    second.personal_details.refresh_from_db()
    assert second.personal_details.national_id == "19800101-0001"
