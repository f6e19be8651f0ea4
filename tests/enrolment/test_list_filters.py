"""The participant list's filters offer only what the user sees (issue 15 finding 13)."""

import re

import pytest
from django.urls import reverse

from enrolment.models import Clinic
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


def test_physiotherapist_filters_list_only_their_clinic_and_cluster(
    client, physio_west, coordinator, clinic_west, betterback
):
    url = reverse("participant_list", args=["betterback"])
    client.force_login(physio_west)
    html = client.get(url).content.decode()
    assert _options(html, "clinic") == [clinic_west.code]
    assert _options(html, "cluster") == [clinic_west.cluster.code]
    client.force_login(coordinator)
    html = client.get(url).content.decode()
    everything = Clinic.objects.filter(cluster__trial=betterback)
    assert sorted(_options(html, "clinic")) == sorted(c.code for c in everything)
    assert len(_options(html, "cluster")) == betterback.clusters.count() == 3
