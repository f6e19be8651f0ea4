"""A coordinator makes an API token in the browser (after the second factor), copies it
from the page, and the API answers it; the docs page renders Swagger UI from our own
static files under the site's strict script policy."""

import re

import pytest

from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_token_made_in_the_browser_and_docs_rendered(browser, live_server, coordinator,
                                                     betterback):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, "coordinator")
    page.click("text=API tokens")
    page.fill("#id_name", "browser test")
    page.select_option("#id_scope", "read")
    page.click("form button[type=submit]:has-text('Make token')")
    page.wait_for_load_state()
    secret = page.inner_text("#new-token").strip()
    assert re.fullmatch(r"tsk_[\w-]{43}", secret)
    answer = page.request.get(f"{live_server.url}/api/v1/trials/betterback/",
                              headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200 and answer.json()["code"] == "betterback"
    page.reload()
    assert secret not in page.content()  # shown once

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=20000)
    operations = page.locator(".opblock").count()
    assert operations >= 12
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    page.close()
