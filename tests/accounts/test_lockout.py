"""Finding 4: wrong passwords without end, then the right one, logged in. Now ten wrong
passwords lock the account (and, separately, the address) on both login pages, in the
user's language, until an administrator unlocks it."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client

from accounts.models import AccessEvent
from tests.conftest import use_betterback_built_once

from ..factories import UserFactory

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _login(client, url, username, password, ip="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize(("url", "attempts"), [("/accounts/login/", 30), ("/admin/login/", 11)])
def test_wrong_passwords_lock_the_account_and_the_right_one_no_longer_logs_in(url, attempts):
    user = UserFactory(username="pt-target", is_staff=True)
    client = Client()
    for _ in range(attempts):
        response = _login(client, url, user.username, "guess")
    assert response.status_code == 429
    response = _login(client, url, user.username, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in response.content.decode()
    # Counted per account: another address is refused too.
    assert _login(Client(), url, user.username, PASSWORD, ip="10.9.9.9").status_code == 429


def test_the_tenth_wrong_password_locks_and_the_ninth_does_not():
    user = UserFactory(username="pt-nine")
    for _ in range(9):
        _login(Client(), "/accounts/login/", user.username, "guess")
    assert _login(Client(), "/accounts/login/", user.username, PASSWORD).status_code == 302
    user2 = UserFactory(username="pt-ten")
    for _ in range(10):
        _login(Client(), "/accounts/login/", user2.username, "guess")
    assert _login(Client(), "/accounts/login/", user2.username, PASSWORD).status_code == 429


def test_an_address_trying_many_accounts_is_locked_out():
    user = UserFactory(username="pt-innocent")
    for n in range(10):
        _login(Client(), "/accounts/login/", f"someone{n}", "guess", ip="10.6.6.6")
    assert _login(Client(), "/accounts/login/", user.username, PASSWORD, ip="10.6.6.6"
                  ).status_code == 429  # fmt: skip
    # The account itself is not locked from elsewhere.
    assert _login(Client(), "/accounts/login/", user.username, PASSWORD, ip="10.1.1.1"
                  ).status_code == 302  # fmt: skip


def test_the_lockout_page_is_in_the_users_language():
    UserFactory(username="pt-svensk")
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    for _ in range(11):
        response = _login(client, "/accounts/login/", "pt-svensk", "fel")
    assert response.status_code == 429
    assert "För många misslyckade inloggningar" in response.content.decode()
    client = Client(HTTP_ACCEPT_LANGUAGE="da")
    response = _login(client, "/accounts/login/", "pt-svensk", "forkert")
    assert "For mange mislykkede login" in response.content.decode()


def test_an_administrator_unlocks_in_the_site_and_it_is_logged(client):
    user = UserFactory(username="pt-locked")
    for _ in range(10):
        _login(Client(), "/accounts/login/", user.username, "guess")
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    page = client.get("/accounts/lockouts/")
    assert "pt-locked" in page.content.decode()
    client.post("/accounts/lockouts/unlock/", {"username": "pt-locked"})
    assert _login(Client(), "/accounts/login/", user.username, PASSWORD).status_code == 302
    kinds = list(AccessEvent.objects.filter(username="pt-locked").values_list("kind", flat=True))
    assert kinds.count(AccessEvent.LOGIN_FAILED) == 10
    assert AccessEvent.LOCKED_OUT in kinds
    assert AccessEvent.UNLOCKED in kinds
    assert AccessEvent.LOGIN in kinds


def test_only_administrators_see_the_lockouts(client, coordinator):
    client.force_login(coordinator)
    assert client.get("/accounts/lockouts/").status_code == 302
    assert client.post("/accounts/lockouts/unlock/", {"username": "x"}).status_code == 302


def test_axes_reset_command_unlocks():
    user = UserFactory(username="pt-cli")
    for _ in range(10):
        _login(Client(), "/accounts/login/", user.username, "guess")
    assert AccessAttempt.objects.exists()
    call_command("axes_reset_username", "pt-cli")
    assert _login(Client(), "/accounts/login/", user.username, PASSWORD).status_code == 302
