"""The trial's protocol versions: a list linked from the overview, and each version's
diff, consequences and file, for staff of that trial only."""

import pytest
from django.urls import reverse

from enrolment.amendments import load_versioned
from enrolment.protocol import load_protocol

from ..conftest import PROTOCOLS
from ..data.amendments import betterback_v2

pytestmark = pytest.mark.django_db


def test_overview_links_to_the_versions_and_each_shows_its_diff(
    client, coordinator, betterback, tmp_path
):
    load_versioned(betterback_v2(tmp_path), amendment="EPN 2017/123", loaded_by=coordinator)
    client.force_login(coordinator)
    overview = client.get(reverse("trial_overview", args=["betterback"])).content.decode()
    url = reverse("protocol_versions", args=["betterback"])
    assert f'href="{url}"' in overview
    page = client.get(url).content.decode()
    assert "Version 2" in page and "EPN 2017/123" in page and "coordinator" in page
    detail = client.get(reverse("protocol_version", args=["betterback", 2])).content.decode()
    assert "timepoints 12m: window_after_days 45 -&gt; 60" in detail
    assert "timepoints 6m: removed" in detail and "timepoints 9m: added" in detail
    assert "code = &quot;9m&quot;" in detail  # the file as loaded


def test_another_trials_staff_cannot_read_them(client, coordinator, betterback):
    safe, _ = load_protocol(PROTOCOLS / "safe.toml")
    client.force_login(coordinator)
    assert client.get(reverse("protocol_versions", args=[safe.code])).status_code == 404
    assert client.get(reverse("protocol_version", args=[safe.code, 1])).status_code == 404
    assert client.get(reverse("protocol_version", args=["betterback", 7])).status_code == 404
