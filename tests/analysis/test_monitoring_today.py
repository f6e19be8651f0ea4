"""?today= on the monitoring pages: a day out of any calendar the figures can draw gets a
message and today's view, not a server error."""

import pytest
from django.urls import reverse

from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_a_day_out_of_range_is_refused_with_a_message(client, coordinator):
    client.force_login(coordinator)
    url = reverse("monitoring_dashboard", args=["betterback"])
    for raw in ("0001-01-01", "9999-12-31", "yesterday"):
        page = client.get(url, {"today": raw})
        html = page.content.decode()
        assert page.status_code == 200, raw
        assert f"“{raw}” is not a day to look at this trial on" in html
        assert "Showing today instead" in html
