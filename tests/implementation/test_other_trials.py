"""Workshops, SWOT analyses and interviews belong to a protocol that schedules its
physiotherapists around a workshop (BetterBack): a trial without one offers none of
their pages, links or exports (a newcomer found header-only CSVs for IMPACt-LBP)."""

import pytest
from django.urls import reverse

from enrolment.models import TrialRole
from enrolment.protocol.writing import load_protocol
from tests.conftest import PROTOCOLS, use_betterback_built_once
from tests.factories import TrialRoleFactory, UserFactory

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _staff(trial, role, username):
    return TrialRoleFactory(user=UserFactory(username=username), trial=trial, role=role).user


def test_a_trial_without_a_workshop_has_no_implementation_pages_or_exports(client, betterback):
    impact, _ = load_protocol(PROTOCOLS / "impact-lbp.toml")
    assert betterback.has_workshops and not impact.has_workshops
    client.force_login(_staff(impact, TrialRole.COORDINATOR, "imp-coord"))
    overview = client.get(reverse("trial_overview", args=[impact.code])).content.decode()
    assert 'id="implementation-links"' not in overview
    for name in ("workshops", "swot_analyses", "interviews"):
        assert client.get(reverse(name, args=[impact.code])).status_code == 404, name
    client.force_login(_staff(impact, TrialRole.STATISTICIAN, "imp-stat"))
    home = client.get(reverse("analysis_home", args=[impact.code])).content.decode()
    assert 'id="process-exports"' not in home
    url = reverse("analysis_process_csv", args=[impact.code, "workshops"])
    assert client.get(url).status_code == 404


def test_betterback_keeps_them(client, betterback, coordinator, statistician):
    client.force_login(coordinator)
    overview = client.get(reverse("trial_overview", args=["betterback"])).content.decode()
    assert 'id="implementation-links"' in overview
    assert client.get(reverse("workshops", args=["betterback"])).status_code == 200
    client.force_login(statistician)
    home = client.get(reverse("analysis_home", args=["betterback"])).content.decode()
    assert 'id="process-exports"' in home
