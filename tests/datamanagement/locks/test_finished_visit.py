"""A finished visit is not silently re-opened: once every form of a tablet visit is
complete, staff changing an answer on the visit pages are sent to the correction flow
(their own reason), not recorded with the respondent's automatic reason."""

from __future__ import annotations

import pytest
from django.urls import reverse

from questionnaires.instruments import get
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

from ...factories import enrol
from ...questionnaires.engine_helpers import as_post, valid_answers

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

BASELINE = ["nrs", "odi", "eq5d3l", "bipq", "sbst"]


def test_staff_cannot_change_a_finished_visit_through_the_visit_pages(
    clinic_west, coordinator, client
):
    participant = enrol(clinic_west, user=coordinator, preferred_language="en")
    client.force_login(coordinator)
    for n, code in enumerate(BASELINE, start=1):
        url = reverse("visit_page", args=[participant.study_id, "baseline", n])
        assert client.post(url, as_post(valid_answers(get(code)), action="next")).status_code \
            == 302
    # The visit is finished: opening it again leads to the participant page ...
    r = client.get(reverse("visit_start", args=[participant.study_id, "baseline"]))
    assert r.url == reverse("participant_detail", args=[participant.study_id])
    # ... and a page posted anyway changes nothing.
    url = reverse("visit_page", args=[participant.study_id, "baseline", 1])
    r = client.post(url, {"back": "0", "leg": "0", "action": "next"})
    assert r.status_code == 200
    assert "This visit is finished" in r.content.decode()
    nrs = Response.objects.get(participant=participant, instrument="nrs")
    assert nrs.answers == valid_answers(get("nrs", 1))
    reasons = set(nrs.history.values_list("history_change_reason", flat=True))
    assert "corrected by the respondent during the visit" not in reasons


def test_the_respondent_still_goes_back_during_the_visit(clinic_west, coordinator, client):
    participant = enrol(clinic_west, user=coordinator, preferred_language="en")
    client.force_login(coordinator)
    page = lambda n: reverse("visit_page", args=[participant.study_id, "baseline", n])  # noqa: E731
    client.post(page(1), as_post(valid_answers(get("nrs", 1)), action="next"))
    client.post(page(1), {"back": "0", "leg": "0", "action": "next"})
    nrs = Response.objects.get(participant=participant, instrument="nrs")
    assert nrs.answers == {"back": 0, "leg": 0}
    assert nrs.history.first().history_change_reason == (
        "corrected by the respondent during the visit"
    )
