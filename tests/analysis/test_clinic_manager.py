"""Clinic managers see their clinics' recruitment week by week as counts (screened,
enrolled, follow-up answered): never another clinic's, never a participant."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from enrolment.models import Participant, ScreeningRecord, Timepoint, TrialRole
from followup.models import Contact
from tests.conftest import use_betterback_built_once
from tests.factories import TrialRoleFactory, UserFactory, enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
ENROLLED = date(2017, 6, 6)  # a Tuesday


@pytest.fixture
def manager(betterback, clinic_west):
    role = TrialRoleFactory(
        user=UserFactory(username="manager", email="manager@clinic.example"),
        trial=betterback,
        role=TrialRole.CLINIC_MANAGER,
    )
    role.clinics.add(clinic_west)
    return role.user


@pytest.fixture
def recruited(betterback, clinic_west, clinic_east):
    screener = UserFactory(username="screener")
    ScreeningRecord.objects.create(
        trial=betterback, clinic=clinic_west, screened_on=ENROLLED, screened_by=screener,
        outcome="declined",
    )  # fmt: skip
    west = [enrol(clinic_west, enrolled_on=ENROLLED) for _ in range(2)]
    east = enrol(clinic_east, enrolled_on=ENROLLED)
    return west, east


def test_a_clinic_manager_sees_counts_of_their_clinic_only(
    client, manager, coordinator, recruited, clinic_west, clinic_east
):
    west, east = recruited
    contacts = Contact.objects.filter(
        participant__in=west, timepoint__respondent=Timepoint.PATIENT
    ).order_by("window_closes")
    first = contacts.first()
    closing = contacts.filter(window_closes=first.window_closes)
    Contact.objects.filter(pk=first.pk).update(status=Contact.COMPLETED)
    today = first.window_closes + timedelta(days=1)
    url = reverse("monitoring_clinics", args=["betterback"]) + f"?today={today}"

    client.force_login(manager)
    html = client.get(url).content.decode()
    assert f'id="clinic-{clinic_west.code}"' in html and clinic_west.name in html
    assert clinic_east.name not in html and f"clinic-{clinic_east.code}" not in html
    assert "1 screened and 2 enrolled since the start" in html
    assert f"Week by week up to {today:%Y-%m-%d}." in html  # as every date on the page
    week = first.window_closes - timedelta(days=first.window_closes.weekday())
    row = html.split(f"<td>{week:%Y-%m-%d}</td>")[1].split("</tr>")[0]
    assert f"1 / {closing.count()}" in row
    for p in Participant.objects.all():
        assert p.study_id not in html
    # Their other pages are this one; no participant is theirs to open.
    for other in ("monitoring_dashboard", "trial_overview"):
        response = client.get(reverse(other, args=["betterback"]))
        assert response.status_code == 302 and response.url.endswith("/clinics/"), other
    assert client.get(reverse("participant_detail", args=[west[0].study_id])).status_code == 404
    # No list of participants or of overdue contacts: an empty list would read as "none".
    assert client.get(reverse("participant_list", args=["betterback"])).status_code == 403
    assert client.get(reverse("followup_overdue", args=["betterback"])).status_code == 403
    assert client.get(reverse("screening_log", args=["betterback"])).status_code == 403

    client.force_login(coordinator)
    html = client.get(url).content.decode()
    assert clinic_west.name in html and clinic_east.name in html
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url).status_code == 404
