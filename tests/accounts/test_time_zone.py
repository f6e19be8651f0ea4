"""Staff read times on their trial's clock: a page about one trial (or one of its
participants) shows times in that trial's time zone; other pages in the zone of the
user's trials, or in UTC where those differ; every page says which. Patients' pages are
not touched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from datamanagement.locks import services as locks
from datamanagement.locks.models import Lock
from enrolment.protocol.writing import load_protocol
from tests.conftest import PROTOCOLS, use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def locked(betterback, clinic_west, data_manager):
    participant = enrol(clinic_west, preferred_language="en")
    lock = locks.lock(Lock.PARTICIPANT, trial=betterback, user=data_manager,
                      participant=participant, reason="monitoring visit")
    # Noon in UTC on a winter day: 13:00 in Stockholm.
    Lock.objects.filter(pk=lock.pk).update(locked_at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    return participant


def test_a_data_manager_reads_the_lock_time_on_the_trials_clock(locked, data_manager, client):
    client.force_login(data_manager)
    html = client.get(reverse("datamanagement:participant", args=[locked.study_id])).content
    assert b"2026-01-15 13:00" in html and b"2026-01-15 12:00" not in html
    assert b"Times are shown in Europe/Stockholm." in html


def test_a_page_about_one_trial_is_on_its_clock_whatever_else_the_user_holds(locked, client):
    load_protocol(PROTOCOLS / "impact-lbp.toml")  # America/New_York
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 20)
    client.force_login(admin)
    html = client.get(reverse("datamanagement:participant", args=[locked.study_id])).content
    assert b"2026-01-15 13:00" in html and b"Times are shown in Europe/Stockholm." in html
    html = client.get(reverse("datamanagement:trial", args=["betterback"])).content
    assert b"Times are shown in Europe/Stockholm." in html
    # A page of no one trial, for a user of trials in different zones: UTC, said so.
    html = client.get(reverse("home"), follow=True).content
    assert b"Times are shown in UTC." in html


def test_the_zone_is_not_left_active_for_the_next_request(locked, data_manager, client):
    from django.utils import timezone

    client.force_login(data_manager)
    client.get(reverse("datamanagement:participant", args=[locked.study_id]))
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_page_about_one_record_is_on_its_trials_clock(locked, client, data_manager):
    """A query, a contact or a response named by its id: its trial's clock too (found
    walking the demo: a query's page showed UTC to a user of trials in different zones)."""
    from datamanagement.queries import actions
    from datamanagement.queries.models import Query

    load_protocol(PROTOCOLS / "impact-lbp.toml")  # America/New_York
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 20)
    query = actions.raise_query(locked, "enrolment.enrolled_on", "Date?", data_manager)
    Query.objects.filter(pk=query.pk).update(raised_at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    client.force_login(admin)
    html = client.get(reverse("datamanagement:query_detail", args=[query.pk])).content
    assert b"Times are shown in Europe/Stockholm." in html and b"2026-01-15 13:00" in html
