"""The dashboard links to the data-management pages only for the roles those pages let in
(trial-wide roles), and shows the share source-verified only to them; a
physiotherapist, who also reads the dashboard, got two links to 403s."""

from django.urls import reverse

from tests.conftest import use_betterback_built_once
from tests.factories import enrol

betterback = use_betterback_built_once()  # loaded once for the module


def test_data_management_links_only_for_trial_wide_roles(
    client, clinic_west, coordinator, physio_west, statistician
):
    enrol(clinic_west, user=coordinator)
    url = reverse("monitoring_dashboard", args=["betterback"])
    sdv = reverse("datamanagement:sdv_share", args=["betterback"])
    locks = reverse("datamanagement:trial", args=["betterback"])

    client.force_login(physio_west)
    html = client.get(url).content.decode()
    assert 'id="recruitment"' in html
    assert sdv not in html and locks not in html
    assert 'id="sdv-share"' not in html and 'href="#source-verification"' not in html
    assert client.get(sdv).status_code == 403

    client.force_login(statistician)
    html = client.get(url).content.decode()
    # The share verified is a table of the dashboard itself (and a page of its own).
    assert 'id="sdv-share"' in html and 'href="#source-verification"' in html
    assert locks in html
    assert client.get(sdv).status_code == 200
    assert client.get(locks).status_code == 200
