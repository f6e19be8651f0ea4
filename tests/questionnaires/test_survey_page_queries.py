"""A patient's survey page reads what it shows in three queries (the link with whether
its trial holds data collection for re-consent, the visit's responses, the trial's
wording), whatever the page: before issue 19 it asked nine (the consent hold in four, the
responses twice, the trial once more), then four (the hold a query of its own)."""

from datetime import date

import pytest
from django.urls import reverse

from followup.dispatch import dispatch_due
from followup.schedule import add_months
from followup.tokens import token_for

from ..factories import enrol

pytestmark = pytest.mark.django_db


def test_a_survey_page_asks_three_queries(client, clinic_west, django_assert_num_queries):
    participant = enrol(clinic_west, enrolled_on=add_months(date.today(), -3))
    contact = participant.contacts.get(timepoint__code="3m")
    dispatch_due(contact.due_at, 10)
    url = reverse("survey_page", args=[token_for(contact), 2])
    assert client.get(url).status_code == 200  # the process warmed: templates, instruments
    with django_assert_num_queries(3):
        response = client.get(url)
    assert response.status_code == 200
    assert b'name="q1"' in response.content
