"""Staff pages: the overdue list (per trial; a physiotherapist sees their own clinic),
the message log (recipients only for roles that may see personal details), and the
participant timeline tag."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from followup import dispatch as dispatcher
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

CLOSED_3M = datetime(2017, 9, 1, 22, tzinfo=UTC)  # 3 m window of a 2 May 2017 enrolment ends


@pytest.fixture
def missed(clinic_west, clinic_east):
    west = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    east = enrol(clinic_east, enrolled_on=date(2017, 5, 2))
    dispatcher.dispatch_due(datetime(2017, 8, 2, 7, tzinfo=UTC), 10)
    dispatcher.dispatch_due(CLOSED_3M, 10)
    return west, east


def test_the_overdue_list_of_a_coordinator_holds_the_whole_trial(client, coordinator, missed):
    west, east = missed
    client.force_login(coordinator)
    page = client.get("/followup/betterback/overdue/").content.decode()
    assert west.study_id in page and east.study_id in page and "Missed" in page
    assert "Reschedule" in page
    assert west.condition not in page  # staff page, but no need to show the allocation
    # The clinics by their names, not the codes of the protocol file.
    assert f"<td>{west.clinic.name}</td>" in page and f"<td>{west.clinic.code}</td>" not in page


def test_a_physiotherapist_sees_only_their_own_clinic(client, physio_west, missed):
    west, east = missed
    client.force_login(physio_west)
    page = client.get("/followup/betterback/overdue/").content.decode()
    assert west.study_id in page and east.study_id not in page
    assert "Reschedule" not in page
    assert client.get("/followup/betterback/messages/").status_code == 403


def test_other_trials_are_not_found(client, coordinator, missed):
    client.force_login(coordinator)
    assert client.get("/followup/safe/overdue/").status_code == 404


def test_the_message_log_shows_recipients_only_to_roles_allowed_personal_details(
    client, coordinator, statistician, missed
):
    west, _east = missed
    email = west.personal_details.email
    client.force_login(coordinator)
    page = client.get("/followup/betterback/messages/").content.decode()
    assert email in page and west.study_id in page
    # In words: the kind (a reminder with its number), the language by its name; no
    # template paths.
    assert "<td>Invitation</td>" in page
    assert "followup/email/" not in page and "Invitation 0" not in page
    from django.utils.translation import get_language_info

    from followup.models import Message

    language = Message.objects.filter(contact__participant=west).first().language
    assert f"<td>{get_language_info(language)['name']}</td>" in page
    assert f"<td>{language}</td>" not in page
    client.force_login(statistician)
    page = client.get("/followup/betterback/messages/").content.decode()
    assert west.study_id in page and email not in page and "Recipient" not in page


def test_the_participant_timeline_tag(coordinator, physio_west, missed):
    west, _east = missed
    template = Template("{% load followup_tags %}{% participant_contacts participant %}")
    request = RequestFactory().get("/")
    request.user = coordinator
    html = template.render(Context({"participant": west, "request": request}))
    assert html.count("<tr>") == 4  # header + 3 m, 6 m, 12 m
    assert "3 months" in html and "2017-08-02" in html and "2017-07-26 – 2017-09-01" in html
    assert "Missed" in html and "2017-08-02 07:00" in html
    assert html.count("Reschedule") == 3  # missed and scheduled contacts can move
    request.user = physio_west
    html = template.render(Context({"participant": west, "request": request}))
    assert "Reschedule" not in html
