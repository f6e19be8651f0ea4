import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]



def require_chromium():
    if os.path.exists(CHROMIUM) or shutil.which("chromium"):
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {CHROMIUM} is missing")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database
    # calls are still plain synchronous Django. Set here, not at import, so that no
    # other test (or its subprocesses) inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def log_in_at(browser, live_server, username: str, path: str = "/", width=1280, height=800):
    """A new page of ``width`` x ``height`` px, logged in as ``username`` (a staff
    fixture: password and, if asked, second factor) through the real login page, on
    ``path``."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")  # tests.factories.UserFactory
    submit_login(page, username)
    return page


def submit_login(page, username: str) -> None:
    """Send the filled-in login form and, when the site asks for the second factor,
    the code ``username``'s authenticator shows (the staff fixtures have one)."""
    from django.contrib.auth import get_user_model

    from tests.factories import current_code

    page.click("main button[type=submit]")  # not the language choice in the menu
    page.wait_for_load_state()
    if "/accounts/two-factor/code/" in page.url:
        page.fill("#id_code", current_code(get_user_model().objects.get(username=username)))
        page.click("#code-form button[type=submit]")
        page.wait_for_load_state()
