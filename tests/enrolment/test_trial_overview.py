"""The trial's overview page heading."""

import pytest
from django.urls import reverse

from enrolment.models import Trial
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _subtitle(client, user, trial) -> str:
    client.force_login(user)
    page = client.get(reverse("trial_overview", args=[trial.code])).content.decode()
    return page.split('<span class="text-muted">', 1)[1].split("</span>", 1)[0]


def test_the_subtitle_names_registration_design_and_time_zone(client, coordinator, betterback):
    assert _subtitle(client, coordinator, betterback) == (
        f"{betterback.registration} · {betterback.get_design_display()} · Europe/Stockholm"
    )


def test_a_trial_without_a_registration_number_starts_with_its_design(
    client, coordinator, betterback
):
    Trial.objects.filter(pk=betterback.pk).update(registration="")
    assert _subtitle(client, coordinator, betterback).startswith(
        f"{betterback.get_design_display()} · "
    )
