"""Error pages: styled like the site, in the user's language, with a way back; a refused
request is one line in the log; the 500 page needs no database."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from tests.conftest import use_betterback_built_once
from trialsite import errors

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_forbidden_and_not_found_pages_in_the_users_language_with_a_way_back(
    client, statistician, caplog
):
    client.force_login(statistician)
    overview = reverse("trial_overview", args=["betterback"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        page = client.get(
            reverse("screen", args=["betterback"]),
            HTTP_ACCEPT_LANGUAGE="sv",
            HTTP_REFERER=f"http://testserver{overview}",
        )
    html = page.content.decode()
    assert page.status_code == 403
    assert 'lang="sv"' in html and "Den här sidan är inte öppen för dig" in html
    assert "bootstrap.min.css" in html and 'id="mainnav"' in html  # the site's own look
    assert f'href="http://testserver{overview}"' in html and "Till startsidan" in html
    refused = [r for r in caplog.records if r.name == "django.request"]
    assert len(refused) == 1 and refused[0].exc_info is None
    handler = logging.Formatter()
    assert "\n" not in handler.format(refused[0])
    # A page that does not exist, in Danish.
    page = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="da")
    assert page.status_code == 404
    assert "Siden findes ikke" in page.content.decode() and "Til forsiden" in page.content.decode()


def test_server_error_page_renders_without_the_database(django_assert_num_queries):
    request = RequestFactory().get("/anything/", HTTP_REFERER="http://testserver/trials/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        with django_assert_num_queries(0), translation.override("en"):
            response = errors.server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "bootstrap.min.css" in html
    assert 'href="http://testserver/trials/"' in html
