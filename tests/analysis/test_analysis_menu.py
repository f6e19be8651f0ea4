"""The menu offers a trial's analysis page only to the roles that page lets in: monitors and
investigators (trial-wide readers) had a menu entry leading to a 403."""

from django.urls import reverse

from enrolment.models import TrialRole
from tests.conftest import _role, use_betterback_built_once

betterback = use_betterback_built_once()  # loaded once for the module


def test_menu_analysis_entry_follows_who_may_open_it(client, betterback, statistician):
    analysis = reverse("analysis_home", args=["betterback"])
    for role, name in ((TrialRole.MONITOR, "monitor"), (TrialRole.INVESTIGATOR, "investigator")):
        client.force_login(_role(betterback, role, name))
        page = client.get(reverse("home"), follow=True).content.decode()
        assert analysis not in page
        assert client.get(analysis).status_code == 403

    client.force_login(statistician)
    assert analysis in client.get(reverse("home"), follow=True).content.decode()
    assert client.get(analysis).status_code == 200
