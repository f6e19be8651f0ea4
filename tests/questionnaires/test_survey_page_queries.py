"""A patient's survey page reads what it shows in two queries (the link with whether its
trial holds data collection for re-consent, and the visit's responses), whatever the
page; the trial's wording is read once per process and wording stamp. Before issue 19 it
asked nine (the consent hold in four, the responses twice, the trial once more), then
four (the hold and the wording a query each)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from datamanagement.queries.facts import checks_reading
from followup.dispatch import dispatch_due
from followup.schedule import add_months
from followup.tokens import token_for
from questionnaires.instruments import for_trial
from questionnaires.models import InstrumentWording, Response
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .engine_helpers import as_post, valid_answers

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_a_survey_page_asks_two_queries(client, clinic_west, django_assert_num_queries):
    participant = enrol(clinic_west, enrolled_on=add_months(date.today(), -3))
    contact = participant.contacts.get(timepoint__code="3m")
    dispatch_due(contact.due_at, 10)
    url = reverse("survey_page", args=[token_for(contact), 2])
    assert client.get(url).status_code == 200  # the process warmed: templates, instruments
    with django_assert_num_queries(2):
        response = client.get(url)
    assert response.status_code == 200
    assert b'name="q1"' in response.content


def test_newly_loaded_wording_shows_on_the_next_page(client, clinic_west):
    """The wording a process keeps is dropped when the trial's wording changes."""
    participant = enrol(clinic_west, enrolled_on=add_months(date.today(), -3))
    contact = participant.contacts.get(timepoint__code="3m")
    dispatch_due(contact.due_at, 10)
    url = reverse("survey_page", args=[token_for(contact), 1])
    language = participant.personal_details.preferred_language or "sv"
    definition = for_trial(participant.trial, contact.timepoint.instruments[0])
    assert "Officiell rubrik" not in client.get(url).content.decode()
    wording = InstrumentWording.objects.create(
        trial=participant.trial,
        instrument=definition.code,
        version=definition.version,
        language=language,
        items={definition.items[0].id: "Officiell rubrik"},
    )
    assert "Officiell rubrik" in client.get(url).content.decode()
    wording.delete()
    assert "Officiell rubrik" not in client.get(url).content.decode()


@pytest.mark.parametrize("page", range(1, 8))
def test_a_first_answer_asks_at_most_a_dozen_queries(client, clinic_west, page):
    """Sending a page of the 3-month visit for the first time: the link, the visit's
    responses, the respondent's row lock and the stored response (none yet), the locks
    covering it, the insert with its audit row, the timepoint added to the participant's
    answered ones (questionnaires.answered: the CONSORT flow reads them), and the edit
    checks that read this page, if any. Before issue 19 item 4 it asked 21 (every check
    on every save, the locks with five joins, the hold and the wording a query each, the
    window flag a second UPDATE)."""
    participant = enrol(clinic_west, enrolled_on=add_months(date.today(), -3))
    contact = participant.contacts.get(timepoint__code="3m")
    dispatch_due(contact.due_at, 10)
    url = reverse("survey_page", args=[token_for(contact), page])
    assert client.get(url).status_code == 200
    definition = for_trial(participant.trial, contact.timepoint.instruments[page - 1])
    checked = checks_reading(participant.trial.edit_checks, "3m", definition.code)
    with CaptureQueriesContext(connection) as queries:
        answered = client.post(url, as_post(valid_answers(definition), action="next"))
    assert answered.status_code == 302
    assert Response.objects.get(participant=participant, instrument=definition.code).is_complete
    statements = [
        q["sql"]
        for q in queries.captured_queries
        # PostgreSQL prepares each compiled query once a connection (trialsite.compiled).
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "PREPARE"))
    ]
    # PostgreSQL holds the trial's row for share while the locks are checked (one more).
    assert len(statements) <= (12 if checked else 8) + (connection.vendor == "postgresql")
