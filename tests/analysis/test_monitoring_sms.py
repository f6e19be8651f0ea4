"""The dashboard's SMS section over SAFE weeks replayed through the real dispatcher and
reply handling: every number checked against counts made here from the prompts."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from analysis import monitoring as mon
from enrolment.demo import build_demo, build_safe_demo
from enrolment.models import TrialRole
from followup.models import SmsOptOut, SmsPrompt
from followup.sms.demo import replay_weeks

from ..built_once import rolled_back

pytestmark = [pytest.mark.django_db, pytest.mark.heavy]


def test_an_opted_out_participant_is_not_also_on_the_list_to_phone():
    rows = [{"participant": "A", "week": w, "answered": False} for w in (1, 2, 3)]
    rows += [{"participant": "B", "week": w, "answered": False} for w in (1, 2, 3)]
    summary = mon.sms_summary(rows, opted_out=["B"])
    assert summary["missed_in_a_row"] == ["A"] and summary["opt_outs"] == ["B"]


@pytest.fixture(scope="module")
def safe_weeks(django_db_setup, django_db_blocker):
    """Built once: the tests only read it (tests/built_once.py)."""
    with (
        rolled_back(django_db_blocker),
        override_settings(SMS_BACKEND="followup.sms.backends.InMemoryBackend"),
    ):
        build_demo(date.today(), participants=2)
        safe = build_safe_demo(date.today(), participants=4)  # the stopper, the quiet one, two more
        replay_weeks(safe, timezone.now())
        yield safe


def test_weekly_rates_missed_weeks_and_opt_outs_match_the_prompts(client, safe_weeks):
    safe = safe_weeks
    closed = SmsPrompt.objects.filter(
        participant__trial=safe, position=0, status__in=["answered", "expired", "failed"]
    ).select_related("participant")
    asked, answered = defaultdict(int), defaultdict(int)
    history = defaultdict(dict)
    for p in closed:
        asked[p.week] += 1
        answered[p.week] += p.status == "answered"
        history[p.participant.study_id][p.week] = p.status == "answered"
    stopped = set(
        SmsOptOut.objects.filter(participant__trial=safe).values_list(
            "participant__study_id", flat=True
        )
    )
    to_phone = sorted(
        s
        for s, weeks in history.items()
        if s not in stopped and not any(weeks[w] for w in sorted(weeks)[-3:])
    )
    assert to_phone and stopped  # the replay has both

    client.force_login(TrialRole.objects.get(trial=safe, role="coordinator").user)
    page = client.get(reverse("monitoring_dashboard", args=["safe"])).content.decode()
    table = page[page.index('id="sms-table"') :]
    table = table[: table.index("</table>")]
    got = re.findall(r"<tr><td>(\d+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>", table)
    assert [tuple(map(int, r)) for r in got] == [
        (w, asked[w], answered[w]) for w in sorted(asked)
    ]
    assert re.search(r'id="sms-missed">(\d+)<', page).group(1) == str(len(to_phone))
    assert re.search(r'id="sms-opt-outs">(\d+)<', page).group(1) == str(len(stopped))
    assert 'id="sms-figure"' in page
    for study_id in to_phone:
        assert study_id in page

    # the coordinator's SMS list agrees with the dashboard
    listing = client.get(reverse("followup_sms", args=["safe"])).content.decode()
    section = listing[listing.index('id="missed"') : listing.index('id="opt-outs"')]
    assert sorted(re.findall(r">(SAFE-[A-Z]+-\d+)</a>", section)) == to_phone


def test_a_trial_without_sms_tracking_says_so(client, safe_weeks):
    # The module's demo has BetterBack too, which asks no weekly SMS.
    client.force_login(TrialRole.objects.get(trial__code="betterback", role="coordinator").user)
    page = client.get(reverse("monitoring_dashboard", args=["betterback"])).content.decode()
    assert "This trial has no weekly SMS tracking." in page


def test_the_sql_section_equals_the_pure_summary_of_every_row(safe_weeks):
    from followup.sms import tracking

    people = safe_weeks.participants.all()
    stopped = list(
        SmsOptOut.objects.filter(participant__in=people).values_list(
            "participant__study_id", flat=True
        )
    )
    assert mon.sms_for(safe_weeks, people) == mon.sms_summary(
        tracking.weekly_rows(people), opted_out=stopped
    )
