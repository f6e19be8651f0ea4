"""The weekly digest to clinic staff, run through its real beat schedule entry: off by
default per trial, one email per person and week, their clinic's queries only."""

import pytest
from django.core import mail

from datamanagement.queries import actions
from datamanagement.queries.models import QueryDigest
from tests.conftest import use_betterback_built_once
from trialsite.celery import app

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def run_beat_entry():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["datamanagement-query-digest"]
    return entry, app.tasks[entry["task"]].apply().get()


@pytest.fixture
def waiting(odi_baseline, data_manager, physio_west, physio_east, coordinator):
    for user, address in (
        (physio_west, "west@example.org"),
        (physio_east, "east@example.org"),
        (coordinator, "coord@example.org"),
    ):
        user.email = address
        user.save()
    answered = actions.raise_query(odi_baseline.participant, "baseline.odi.q1", "?", data_manager)
    actions.answer_query(answered, "fine", physio_west)  # not waiting for the clinic
    return actions.raise_query(odi_baseline.participant, "baseline.odi.q4", "?", data_manager)


def test_the_entry_is_weekly_on_monday_morning():
    entry, _ = run_beat_entry()
    schedule = entry["schedule"]
    assert (schedule.day_of_week, schedule.hour, schedule.minute) == ({1}, {6}, {0})


def test_off_by_default(waiting):
    _, sent = run_beat_entry()
    assert sent == 0 and mail.outbox == []


def test_weekly_digest_to_the_clinic_and_the_coordinators(waiting, betterback):
    betterback.query_digest = True
    betterback.save()
    _, sent = run_beat_entry()
    assert sent == 2
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"west@example.org", "coord@example.org"}
    west = by_address["west@example.org"]
    # BetterBack's staff language is Swedish; the value's name and the study ID only.
    assert "1 fråga väntar på dig" in west.subject
    assert f"/data-management/queries/{waiting.pk}/" in west.body
    assert "baseline.odi.q4" in west.body and "baseline.odi.q1" not in west.body
    assert waiting.participant.personal_details.full_name not in west.body
    # A second run the same week sends nothing again.
    _, again = run_beat_entry()
    assert again == 0 and len(mail.outbox) == 2
    assert QueryDigest.objects.count() == 2
