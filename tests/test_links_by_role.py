"""Each role is shown only what it may use: every link on the pages a role starts from
opens for that role (no menu entry or button that ends in 403)."""

import re

import pytest
from django.urls import reverse

from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

HREF = re.compile(r'href="(/[^"#?]*)[^"]*"')
# Files and figures are fetched by other tests; here the pages a user navigates to.
SKIP = re.compile(r"\.(csv|json|pdf|svg|xlsx|sav|dta|parquet|zip|js|css|png|ico)$|^/static/")


def _links(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return {m for m in HREF.findall(response.content.decode()) if not SKIP.search(m)}


@pytest.mark.parametrize("who", ["coordinator", "data_manager", "statistician", "physio_west"])
def test_no_link_a_role_is_shown_is_refused(who, request, client, betterback):
    client.force_login(request.getfixturevalue(who))
    code = betterback.code
    start = [
        reverse("trial_overview", args=[code]),
        reverse("screening_log", args=[code]),
        reverse("participant_list", args=[code]),
    ]
    if who != "physio_west":
        start.append(reverse("analysis_home", args=[code]))
    links = set().union(*(_links(client, path) for path in start))
    refused = sorted(link for link in links if client.get(link).status_code == 403)
    assert refused == [], f"{who} is shown links that answer 403: {refused}"


def test_a_statistician_is_not_offered_screening_blinding_codes_or_registry(
    client, statistician, betterback
):
    client.force_login(statistician)
    code = betterback.code
    analysis = client.get(reverse("analysis_home", args=[code])).content.decode()
    assert reverse("analysis_blinding", args=[code]) not in analysis
    assert reverse("analysis_registry", args=[code]) not in analysis
    log = client.get(reverse("screening_log", args=[code])).content.decode()
    assert reverse("screen", args=[code]) not in log
