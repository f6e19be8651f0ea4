"""Audit trail: every create and change of Participant and PersonalDetails is recorded with
user, time, old and new value, and a reason for changes to saved values."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from enrolment.actions.changes import update_personal_details
from enrolment.actions.status import withdraw_participant
from enrolment.audit import participant_history
from enrolment.models import PersonalDetails

from ..factories import enrol

pytestmark = pytest.mark.django_db


def test_enrolment_is_recorded_as_created(clinic_west, coordinator):
    p = enrol(clinic_west, user=coordinator)
    entries = participant_history(p)
    assert {(e.what, e.action) for e in entries} == {
        ("Participant", "created"),
        ("Personal details", "created"),
        ("Consent", "created"),  # the consent at enrolment starts the consent history
    }


def test_change_without_a_reason_is_refused_and_nothing_is_saved(clinic_west):
    p = enrol(clinic_west, email="old@example.com")
    details = p.personal_details
    with pytest.raises(ValidationError, match="reason"):
        update_personal_details(details, {"email": "new@example.com"}, reason="  ")
    details.email = "new@example.com"
    with pytest.raises(ValidationError, match="reason"):
        details.save()  # the model refuses too, whoever calls it
    assert PersonalDetails.objects.get(pk=details.pk).email == "old@example.com"


def test_change_with_reason_records_old_new_and_reason(clinic_west):
    p = enrol(clinic_west, email="old@example.com")
    details = PersonalDetails.objects.get(participant=p)
    update_personal_details(details, {"email": "new@example.com"}, reason="typo at enrolment")
    change = [e for e in participant_history(p) if e.action == "changed"][0]
    assert change.reason == "typo at enrolment"
    assert change.changes == [("email", "old@example.com", "new@example.com")]


def test_withdrawal_is_audited_with_its_reason(clinic_west):
    p = enrol(clinic_west)
    withdraw_participant(p, date(2017, 8, 1), "moved abroad")
    change = [e for e in participant_history(p) if e.action == "changed"][0]
    assert change.reason == "withdrawal: moved abroad"
    assert ("status", "active", "withdrawn") in change.changes


def test_edit_in_the_browser_asks_for_a_reason_and_keeps_the_input(
    client, coordinator, clinic_west
):
    p = enrol(clinic_west, mobile="+46700000001")
    client.force_login(coordinator)
    url = reverse("personal_details_edit", args=[p.study_id])
    data = {
        "full_name": p.personal_details.full_name,
        "national_id": p.personal_details.national_id,
        "date_of_birth": "1980-01-01",
        "email": p.personal_details.email,
        "mobile": "+46700000002",
        "preferred_language": "sv",
        "reason": "",
    }
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Say why you change a value" in page and "+46700000002" in page  # input kept
    assert PersonalDetails.objects.get(pk=p.personal_details.pk).mobile == "+46700000001"

    response = client.post(url, {**data, "reason": "new phone number"})
    assert response.status_code == 302
    history = client.get(reverse("participant_history", args=[p.study_id])).content.decode()
    assert "new phone number" in history and "+46700000001" in history
    assert "+46700000002" in history and "coordinator" in history


def test_history_records_the_logged_in_user(client, coordinator, clinic_west):
    p = enrol(clinic_west)
    client.force_login(coordinator)
    client.post(
        reverse("participant_edit", args=[p.study_id]),
        {"clinic": clinic_west.pk, "enrolled_on": "2017-05-03", "reason": "date misread"},
    )
    change = [e for e in participant_history(p) if e.action == "changed"][0]
    assert change.who == "coordinator"
    assert change.changes == [("enrolled_on", date(2017, 5, 2), date(2017, 5, 3))]


def test_data_manager_reads_history_physiotherapist_does_not(
    client, data_manager, physio_west, clinic_west
):
    p = enrol(clinic_west)
    client.force_login(data_manager)
    assert client.get(reverse("participant_history", args=[p.study_id])).status_code == 200
    client.force_login(physio_west)
    assert client.get(reverse("participant_history", args=[p.study_id])).status_code == 403
