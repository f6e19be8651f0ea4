"""Coordinators make clinic managers where they manage staff: a clinic manager holds
the role at one or more clinics of the trial, given and removed clinic by clinic, in
English, Swedish and Danish."""

import pytest
from django.contrib.auth import get_user_model

from enrolment.models import TrialRole
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _invite(client, **data):
    form = {"email": "mia@example.org", "username": "mia", "role": "clinic_manager"}
    form.update(data)
    return client.post("/accounts/staff/betterback/invite/", form)


def test_a_coordinator_makes_a_clinic_manager_of_two_clinics_and_removes_them(
    client, coordinator, clinic_west, clinic_east
):
    client.force_login(coordinator)
    refused = _invite(client)
    assert refused.status_code == 200 and "clinic" in refused.context["form"].errors
    assert _invite(client, clinic=clinic_west.pk).status_code == 302
    mia = get_user_model().objects.get(username="mia")
    role = TrialRole.objects.get(user=mia, role=TrialRole.CLINIC_MANAGER)
    assert list(role.clinics.all()) == [clinic_west]
    member = f"/accounts/staff/betterback/{mia.pk}/"
    client.post(member, {"role": "clinic_manager", "clinic": clinic_east.pk})
    assert set(role.clinics.all()) == {clinic_west, clinic_east}
    page = client.get(member).content.decode()
    assert f"Clinic manager at {clinic_west.name}" in page
    assert f"Clinic manager at {clinic_east.name}" in page

    remove = f"/accounts/staff/betterback/{mia.pk}/remove-role/"
    client.post(remove, {"role": "clinic_manager", "clinic": clinic_west.pk})
    assert list(role.clinics.all()) == [clinic_east]
    client.post(remove, {"role": "clinic_manager", "clinic": clinic_east.pk})
    assert not TrialRole.objects.filter(user=mia).exists()


@pytest.mark.parametrize(
    "language, label, missing",
    [
        ("sv", "Klinikchef vid", "Välj kliniken som klinikchefen leder."),
        ("da", "Klinikleder ved", "Vælg den klinik, som kliniklederen leder."),
    ],
)
def test_the_clinic_manager_role_in_swedish_and_danish(
    client, coordinator, clinic_west, language, label, missing
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    client.force_login(coordinator)
    assert missing in _invite(client).content.decode()
    _invite(client, clinic=clinic_west.pk)
    mia = get_user_model().objects.get(username="mia")
    page = client.get(f"/accounts/staff/betterback/{mia.pk}/").content.decode()
    assert f"{label} {clinic_west.name}" in page
