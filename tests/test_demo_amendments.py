"""The demo's protocol amendment: SAFE has two protocol versions, and the contacts not
yet due of its participants were re-planned under version 2."""

from datetime import UTC, date, datetime

import pytest

from enrolment.demo import build_safe_demo
from followup.models import Contact
from trialsite.demo.amendments import AMENDMENT, amend_demo_trials

pytestmark = pytest.mark.django_db


def test_safe_gets_a_second_protocol_version_once():
    today, now = date(2026, 11, 22), datetime(2026, 11, 22, 12, tzinfo=UTC)
    safe = build_safe_demo(today, participants=6)
    assert amend_demo_trials([safe], now)["contacts re-planned by SAFE's protocol amendment"]
    v1, v2 = safe.protocol_versions.order_by("number")
    safe.refresh_from_db()
    assert not safe.two_factor_required  # the demo's logins keep working
    assert v2.amendment == AMENDMENT and v2.loaded_by.username == "coordinator"
    texts = [c["text"] for c in v2.diff]
    assert texts[0] == "timepoints 12m: window_after_days 45 -> 60" and len(texts) == 2
    assert texts[1].startswith("timepoints 15m: added")
    assert Contact.objects.filter(timepoint__code="15m", protocol_version=v2).exists()
    # The demo's calendar shift carries over: no date moved but the amended ones.
    assert v2.spec["trial"] == v1.spec["trial"]
    assert amend_demo_trials([safe], now) == {}  # a second build adds no version
    # nor loads the shipped file over the amendment
    build_safe_demo(today, participants=6)
    assert safe.protocol_versions.count() == 2
    assert safe.timepoints.get(code="15m").removed_in is None
