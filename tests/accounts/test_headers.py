"""Staff pages are never cached, carry a Content-Security-Policy without inline
scripts, and sessions end after the idle time and at browser close."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
ROOT = Path(__file__).resolve().parents[2]
# The site's templates and every app's own (analysis/templates, questionnaires/templates).
TEMPLATE_FILES = [
    p for d in (ROOT / "templates", *ROOT.glob("*/templates")) for p in d.rglob("*.html")
]


def test_staff_pages_are_not_stored_and_have_a_strict_script_policy(client, coordinator):
    client.force_login(coordinator)
    response = client.get("/trials/betterback/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert script_src.split()[1:] == ["'self'"]
    assert "frame-ancestors 'none'" in policy


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    assert len(TEMPLATE_FILES) > 50
    for path in TEMPLATE_FILES:
        text = path.read_text()
        for tag in ("<script>", "<script type=\"text/javascript\">"):
            if tag in text:
                offenders.append(f"{path}: {tag}")
        for line in text.splitlines():
            if " on" in line and any(f" on{e}=" in line for e in
                                     ("click", "change", "submit", "load", "input")):  # fmt: skip
                offenders.append(f"{path}: {line.strip()[:80]}")
    assert not offenders


def test_a_session_ends_after_the_idle_time_and_at_browser_close(client, coordinator):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    client.force_login(coordinator)
    response = client.get("/trials/betterback/")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]  # gone when the browser closes
    # Each request moves the end on; 31 idle minutes later the session is over.
    session = Session.objects.get()
    assert session.expire_date > timezone.now() + timedelta(minutes=29)
    Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))
    response = client.get("/trials/betterback/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
