"""Coordinators manage their trial's staff in the site: invite by email (a one-time link
to set a password), roles per trial and clinic, deactivation that ends sessions at once,
last login; never another trial's staff."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from accounts.models import AccessEvent
from enrolment.models import Physiotherapist, TrialRole
from enrolment.protocol.writing import load_protocol
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS
from ..factories import TrialRoleFactory, UserFactory

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
NEW_PASSWORD = "Lumbar-Spine-Chart-91"


def _invite(client, trial_code, **data):
    form = {"email": "anna@example.org", "username": "anna", "first_name": "Anna",
            "last_name": "Berg", "role": "physiotherapist",
            "study_code": "BB-W-MOT-PT99"}  # fmt: skip
    form.update(data)
    return client.post(f"/accounts/staff/{trial_code}/invite/", form)


def test_a_coordinator_invites_a_physiotherapist_who_sets_a_password_once(
    client, coordinator, clinic_west
):
    client.force_login(coordinator)
    response = _invite(client, "betterback", clinic=clinic_west.pk)
    assert response.status_code == 302, response.content.decode()[-2000:]
    anna = get_user_model().objects.get(username="anna")
    assert not anna.has_usable_password()
    assert Physiotherapist.objects.get(user=anna).clinic == clinic_west
    (message,) = mail.outbox
    assert message.to == ["anna@example.org"]
    link = re.search(r"http://testserver(/accounts/password/\S+)", message.body).group(1)

    browser = Client()
    form_page = browser.get(link, follow=True)
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    # Django's password validators: a common password is refused.
    weak = browser.post(set_url, {"new_password1": "password", "new_password2": "password"})
    assert weak.status_code == 200 and weak.context["form"].errors
    done = browser.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    anna.refresh_from_db()
    assert anna.check_password(NEW_PASSWORD)
    # The link works once.
    again = Client().get(link, follow=True)
    assert not again.context["validlink"]
    # A new link is for those who never set a password; the others reset theirs.
    client.post(f"/accounts/staff/betterback/{anna.pk}/resend/")
    assert len(mail.outbox) == 1
    assert AccessEvent.objects.filter(user=anna, kind=AccessEvent.INVITED,
                                      actor=coordinator).exists()  # fmt: skip


def test_a_lost_invitation_is_sent_again(client, coordinator, clinic_west):
    client.force_login(coordinator)
    _invite(client, "betterback", clinic=clinic_west.pk)
    anna = get_user_model().objects.get(username="anna")
    client.post(f"/accounts/staff/betterback/{anna.pk}/resend/")
    first, second = (re.search(r"/accounts/password/\S+", m.body).group(0) for m in mail.outbox)
    assert Client().get(second, follow=True).context["validlink"]


def test_the_staff_list_shows_roles_and_last_login_of_the_own_trial_only(
    client, coordinator, physio_west, betterback
):
    safe, _ = load_protocol(PROTOCOLS / "safe.toml")
    safe_coordinator = TrialRoleFactory(trial=safe, role=TrialRole.COORDINATOR).user
    Client().post("/accounts/login/", {"username": "physio_west",
                                       "password": "correct horse battery staple"})  # fmt: skip
    client.force_login(coordinator)
    page = client.get("/accounts/staff/betterback/").content.decode()
    assert "physio_west" in page and "Physiotherapist at" in page
    assert safe_coordinator.username not in page
    assert "never" not in page.split("physio_west")[1].split("</tr>")[0]
    # Another trial's staff pages and members are not found.
    assert client.get("/accounts/staff/safe/").status_code == 404
    assert client.get(f"/accounts/staff/betterback/{safe_coordinator.pk}/").status_code == 404
    # Only coordinators (and administrators) manage staff.
    client.force_login(physio_west)
    assert client.get("/accounts/staff/betterback/").status_code == 404


def test_roles_are_given_and_taken_per_trial_and_clinic(client, coordinator, betterback,
                                                        clinic_east):  # fmt: skip
    member = TrialRoleFactory(trial=betterback, role=TrialRole.STATISTICIAN).user
    client.force_login(coordinator)
    url = f"/accounts/staff/betterback/{member.pk}/"
    client.post(url, {"role": "data_manager"})
    client.post(url, {"role": "physiotherapist", "clinic": clinic_east.pk,
                      "study_code": "BB-E-NCE-PT77"})  # fmt: skip
    assert set(TrialRole.objects.filter(user=member).values_list("role", flat=True)) == {
        "statistician", "data_manager"}
    assert Physiotherapist.objects.get(user=member).clinic == clinic_east
    client.post(f"{url}remove-role/", {"role": "statistician"})
    client.post(f"{url}remove-role/", {"role": "physiotherapist", "clinic": clinic_east.pk})
    assert list(TrialRole.objects.filter(user=member).values_list("role", flat=True)) == [
        "data_manager"]
    assert not Physiotherapist.objects.get(user=member).active


def test_deactivation_ends_the_sessions_at_once(client, coordinator, physio_west):
    theirs = Client()
    theirs.force_login(physio_west)
    client.force_login(coordinator)
    client.post(f"/accounts/staff/betterback/{physio_west.pk}/active/", {"active": "0"})
    physio_west.refresh_from_db()
    assert not physio_west.is_active
    response = theirs.get("/trials/betterback/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert AccessEvent.objects.filter(user=physio_west, kind=AccessEvent.DEACTIVATED).exists()


def test_a_coordinator_cannot_deactivate_someone_working_in_another_trial(
    client, coordinator, physio_west
):
    safe, _ = load_protocol(PROTOCOLS / "safe.toml")
    TrialRoleFactory(user=physio_west, trial=safe, role=TrialRole.DATA_MANAGER)
    client.force_login(coordinator)
    client.post(f"/accounts/staff/betterback/{physio_west.pk}/active/", {"active": "0"})
    physio_west.refresh_from_db()
    assert physio_west.is_active


def test_password_reset_by_email(client, physio_west):
    physio_west.email = "pw@example.org"
    physio_west.save()
    Client().post("/accounts/password-reset/", {"email": "pw@example.org"})
    (message,) = mail.outbox
    assert "/accounts/password/" in message.body


def test_access_log_is_read_and_exported_by_administrators_only(client, coordinator):
    UserFactory(username="pt-x")
    Client().post("/accounts/login/", {"username": "pt-x", "password": "wrong"})
    client.force_login(coordinator)
    assert client.get("/accounts/access-log/").status_code == 302
    admin = UserFactory(username="root", is_superuser=True)
    client.force_login(admin)
    page = client.get("/accounts/access-log/?kind=login_failed").content.decode()
    assert "pt-x" in page
    csv = b"".join(client.get("/accounts/access-log.csv").streaming_content).decode()
    assert csv.splitlines()[0] == "at,kind,username,actor,ip_address,path,detail"
    assert ",login_failed,pt-x," in csv
    # The CSV itself is a download, and logged as one.
    assert AccessEvent.objects.filter(kind=AccessEvent.DOWNLOAD, user=admin).exists()


def test_exports_are_in_the_access_log(betterback):
    from analysis.models import ExportLog

    ExportLog.objects.create(user=None, user_label="command line", trial=betterback,
                             format="csv", shape="long", level="score",
                             file_name="bb.csv")  # fmt: skip
    event = AccessEvent.objects.get(kind=AccessEvent.EXPORT)
    assert event.username == "command line" and "betterback long/score csv" in event.detail
