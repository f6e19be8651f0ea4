"""Two factors for every role that sees personal details, per trial; optional for the
others; recovery codes; the admin behind it too."""

import time

import pytest
import time_machine
from django.test import Client
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import AccessEvent
from enrolment.models import TrialRole
from tests.conftest import use_betterback_built_once

from ..factories import AuthenticatorFactory, TrialRoleFactory, UserFactory, current_code

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _log_in(username, **extra) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD},
                           **extra)  # fmt: skip
    assert response.status_code == 302, response.content[:500]
    return client


def _code(device, steps_ahead=0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():06d}"


def test_a_coordinator_without_an_authenticator_sets_one_up_before_any_page(betterback):
    user = TrialRoleFactory(trial=betterback, role=TrialRole.COORDINATOR).user
    client = _log_in(user.username)
    for path in ("/", f"/trials/{betterback.code}/participants/", "/admin/", "/followup/outbox/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/two-factor/set-up/"), path
    page = client.get("/accounts/two-factor/set-up/")
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/accounts/two-factor/set-up/", {"code": "000000"}).status_code == 200
    device.refresh_from_db()
    device.throttle_reset()  # a wrong code makes the next one wait a second
    response = client.post("/accounts/two-factor/set-up/", {"code": _code(device)})
    codes = response.context["codes"]
    assert len(codes) == 10
    assert client.get(f"/trials/{betterback.code}/participants/").status_code == 200
    assert AccessEvent.objects.filter(user=user, kind=AccessEvent.TWO_FACTOR_ENROLLED).exists()


def test_a_set_up_code_that_arrives_a_step_late_leaves_the_app_s_later_codes_working(betterback):
    """A code typed in the last second of its 30-second step reaches the site in the
    next: it is accepted, and django-otp remembers a drift of one step for the device.
    The codes the app shows later must still work (the end-to-end test of staff accounts
    once failed on a code one step ahead, which no app shows)."""
    user = TrialRoleFactory(trial=betterback, role=TrialRole.COORDINATOR).user
    client = _log_in(user.username)
    client.get("/accounts/two-factor/set-up/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    last_second = (int(time.time()) // 30 + 1) * 30 - 0.5
    with time_machine.travel(last_second, tick=False):
        typed = _code(device)
    with time_machine.travel(last_second + 1, tick=False):
        response = client.post("/accounts/two-factor/set-up/", {"code": typed})
    assert len(response.context["codes"]) == 10
    device.refresh_from_db()
    assert device.confirmed and device.drift == -1

    for later in (31, 61, 3600):  # the next step, the one after, an hour on
        with time_machine.travel(last_second + later, tick=False):
            shown = f"{totp(device.bin_key):06d}"  # what the app shows then
            again = _log_in(user.username)
            response = again.post("/accounts/two-factor/code/", {"code": shown, "next": "/"})
        assert response.status_code == 302, later


def test_a_physiotherapist_with_an_authenticator_gives_a_code_after_the_password(physio_west):
    client = _log_in("physio_west")
    response = client.get("/")
    assert response["Location"].startswith("/accounts/two-factor/code/")
    assert client.get("/admin/")["Location"].startswith("/accounts/two-factor/code/")
    wrong = client.post("/accounts/two-factor/code/", {"code": "123456", "next": "/"})
    assert wrong.status_code == 200
    assert AccessEvent.objects.filter(username="physio_west", kind=AccessEvent.CODE_FAILED).exists()
    # A wrong code makes django-otp wait before the next try: a brute force is slow.
    device = TOTPDevice.objects.get(user=physio_west)
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    ok = client.post("/accounts/two-factor/code/", {"code": current_code(physio_west),
                                                    "next": "/trials/betterback/"})  # fmt: skip
    assert ok["Location"] == "/trials/betterback/"
    assert client.get("/trials/betterback/").status_code == 200


def test_a_recovery_code_logs_in_once(physio_west):
    codes = two_factor.new_recovery_codes(physio_west)
    client = _log_in("physio_west")
    assert client.post("/accounts/two-factor/code/", {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code in (200, 302)
    assert two_factor.recovery_codes_left(physio_west) == 9
    again = _log_in("physio_west")
    assert again.post("/accounts/two-factor/code/", {"code": codes[0]}).status_code == 200


def test_a_statistician_may_log_in_without_and_choose_to_use_it(statistician, betterback):
    statistician.totpdevice_set.all().delete()  # the fixture gave one
    assert not two_factor.required(statistician)
    client = _log_in("statistician")
    assert client.get(f"/trials/{betterback.code}/").status_code == 200
    AuthenticatorFactory(user=statistician)
    client = _log_in("statistician")
    assert client.get(f"/trials/{betterback.code}/")["Location"].startswith(
        "/accounts/two-factor/code/"
    )


def test_a_trial_that_does_not_require_it_lets_its_staff_in_with_a_password(betterback):
    betterback.two_factor_required = False
    betterback.save()
    user = TrialRoleFactory(trial=betterback, role=TrialRole.COORDINATOR).user
    client = _log_in(user.username)
    assert client.get(f"/trials/{betterback.code}/").status_code == 200


def test_the_protocol_files_require_it_by_default(betterback):
    assert betterback.two_factor_required is True


def test_a_superuser_is_asked_for_it_on_the_admin_login_too(betterback):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/")["Location"].startswith("/accounts/two-factor/set-up/")


def test_a_protocol_file_turns_it_off_for_its_trial(tmp_path):
    from enrolment.protocol.writing import load_protocol

    from ..conftest import PROTOCOLS

    text = (PROTOCOLS / "betterback.toml").read_text()
    path = tmp_path / "betterback.toml"
    path.write_text(text.replace("[trial]\n", "[trial]\ntwo_factor_required = false\n", 1))
    trial, _ = load_protocol(path)
    assert trial.two_factor_required is False
