"""Every page's icon: base.html and the patient pages link one, and /favicon.ico (which
browsers ask for whatever the page says) leads to it instead of a 404 in every log."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_served_not_a_404(settings):
    # As the demo serves static files (DEBUG): found by the finders, no collectstatic.
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True
    client = Client()  # its handler (and WhiteNoise) is built with these settings
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.ico"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO file
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")


def test_staff_and_patient_pages_link_the_icon(client):
    login = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    patient = render_to_string("questionnaires/patient_base.html", {})
    assert 'rel="icon" href="/static/favicon.ico"' in patient
    assert finders.find("favicon.svg") and finders.find("favicon.ico")
