"""The participant page's actions: mark the final clinical visit, withdraw with a scope."""

import pytest
from django.urls import reverse

from enrolment.models import Participant
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_final_visit_first_entry_then_correction_needs_a_reason(client, physio_west, clinic_west):
    p = enrol(clinic_west)
    client.force_login(physio_west)
    url = reverse("participant_final_visit", args=[p.study_id])
    assert client.post(url, {"final_visit_on": "2017-06-20"}).status_code == 302
    p.refresh_from_db()
    assert str(p.final_visit_on) == "2017-06-20"
    response = client.post(url, {"final_visit_on": "2017-06-27"})
    assert "Say why" in response.content.decode()
    response = client.post(url, {"final_visit_on": "2017-06-27", "reason": "wrong week"})
    assert response.status_code == 302
    assert Participant.history.filter(id=p.pk).first().history_change_reason == "wrong week"


def test_final_visit_before_enrolment_is_refused(client, physio_west, clinic_west):
    p = enrol(clinic_west)
    client.force_login(physio_west)
    response = client.post(
        reverse("participant_final_visit", args=[p.study_id]), {"final_visit_on": "2017-01-01"}
    )
    assert "cannot precede enrolment" in response.content.decode()


def test_withdrawal_records_scope_and_reason(client, coordinator, clinic_west):
    p = enrol(clinic_west)
    client.force_login(coordinator)
    response = client.post(
        reverse("participant_withdraw", args=[p.study_id]),
        {"withdrawn_on": "2017-07-01", "scope": "follow_up", "reason": "too busy"},
    )
    assert response.status_code == 302
    p.refresh_from_db()
    assert (p.status, p.withdrawal_scope, p.withdrawal_reason) == (
        "withdrawn",
        "follow_up",
        "too busy",
    )
    page = client.get(reverse("participant_detail", args=[p.study_id])).content.decode()
    assert "too busy" in page and "From follow-up questionnaires" in page


def test_participant_list_filters_overdue_follow_up(client, coordinator, clinic_west, clinic_east):
    from datetime import timedelta

    from django.utils import timezone

    from followup.models import Contact

    late = enrol(clinic_west)
    on_time = enrol(clinic_east)
    Contact.objects.filter(participant=late).update(
        status=Contact.MISSED, due_at=timezone.now() - timedelta(days=40)
    )
    Contact.objects.filter(participant=on_time).update(
        status=Contact.SCHEDULED, due_at=timezone.now() + timedelta(days=40)
    )
    client.force_login(coordinator)
    page = client.get(reverse("participant_list", args=["betterback"]), {"overdue": "1"})
    text = page.content.decode()
    assert late.study_id in text and on_time.study_id not in text
    page = client.get(reverse("participant_list", args=["betterback"]), {"cluster": "E"})
    assert on_time.study_id in page.content.decode() and late.study_id not in page.content.decode()


def test_the_participants_language_is_named_in_the_readers(client, coordinator, clinic_west):
    p = enrol(clinic_west, preferred_language="sv")
    client.force_login(coordinator)
    url = reverse("participant_detail", args=[p.study_id])
    page = client.get(url).content.decode()
    assert '<dd class="col-7">Swedish</dd>' in page
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert '<dd class="col-7">svensk</dd>' in page
