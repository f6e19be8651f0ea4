"""The trial's protocol versions: a list linked from the overview, and each version's
diff, consequences and file, for staff of that trial only."""

from datetime import date

import pytest
from django.urls import reverse

from enrolment.amendments import load_versioned
from enrolment.protocol.writing import load_protocol
from followup.schedule import add_months
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS
from ..data.amendments import betterback_v2
from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


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


def test_the_pages_speak_swedish(client, coordinator, betterback, clinic_west, tmp_path):
    enrol(clinic_west, enrolled_on=add_months(date.today(), -2))  # 6m ahead: cancelled
    load_versioned(betterback_v2(tmp_path), amendment="EPN 2017/123", loaded_by=coordinator)
    client.force_login(coordinator)
    overview = client.get(
        reverse("trial_overview", args=["betterback"]), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert ">Protokollversioner</a>" in overview and ">Nytt samtycke</a>" in overview
    listing = client.get(
        reverse("protocol_versions", args=["betterback"]), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "Version 2</a>" in listing and "Ändring" in listing and "Back to" not in listing
    detail = client.get(
        reverse("protocol_version", args=["betterback", 2]), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "Ändringar mot version 1" in detail and "av coordinator" in detail
    # The stored consequences in the reader's words; the file's keys as the file has them.
    assert "timepoints 6m: removed: avbokade: " in detail
    assert "Följder för inkluderade deltagare" in detail
    for english in ("Consequences", "contact(s)", "participants)", "Changes against"):
        assert english not in detail, english
