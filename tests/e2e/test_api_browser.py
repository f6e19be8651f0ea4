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


@pytest.mark.parametrize("who", ["statistician", "physio_west"])
def test_make_see_once_and_revoke_a_token_in_the_browser(browser, live_server, who, request,
                                                         betterback, tmp_path):
    """The token page walked as a statistician (read only: the read-write scope is refused
    with the reason) and as a physiotherapist (read and write): made, shown once, used,
    revoked, then refused by the API with token_revoked."""
    request.getfixturevalue(who)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", who)
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, who)
    page.click("text=API tokens")
    page.wait_for_url("**/api/tokens/")  # content() mid-navigation is empty
    assert "None yet." in page.content()
    if who == "statistician":
        page.fill("#id_name", "too much")
        page.select_option("#id_scope", "read_write")
        page.click("form button[type=submit]:has-text('Make token')")
        page.wait_for_load_state()
        assert "may not enter data" in page.content()
        assert page.locator("#new-token").count() == 0
    scope = "read" if who == "statistician" else "read_write"
    page.fill("#id_name", f"{who} pull")
    page.select_option("#id_scope", scope)
    page.fill("#id_days", "7")
    page.click("form button[type=submit]:has-text('Make token')")
    page.wait_for_load_state()
    secret = page.inner_text("#new-token").strip()
    assert re.fullmatch(r"tsk_[\w-]{43}", secret)
    page.screenshot(path=str(tmp_path / f"{who}-made.png"), full_page=True)
    auth = {"Authorization": f"Bearer {secret}"}
    me = page.request.get(f"{live_server.url}/api/v1/me/", headers=auth).json()
    assert me["token"]["scope"] == scope and me["trial"] == "betterback"
    page.goto(f"{live_server.url}/api/tokens/")
    assert secret not in page.content()  # shown once
    row = page.locator("tr", has_text=f"{who} pull")
    assert "active" in row.inner_text() and secret[:12] in row.inner_text()
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_load_state()
    row = page.locator("tr", has_text=f"{who} pull")
    assert "revoked" in row.inner_text() and row.locator("button").count() == 0
    page.screenshot(path=str(tmp_path / f"{who}-revoked.png"), full_page=True)
    refused = page.request.get(f"{live_server.url}/api/v1/me/", headers=auth)
    assert refused.status == 401 and refused.json()["code"] == "token_revoked"
    assert not problems, problems
    page.close()
