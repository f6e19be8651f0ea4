"""The questionnaires on the participant's page as staff read them."""

import pytest
from django.urls import reverse

from questionnaires.instruments import get
from questionnaires.services.saving import save_answers
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .engine_helpers import valid_answers

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_a_score_is_written_with_the_readers_decimal_mark(client, coordinator, clinic_west,
                                                          betterback):
    p = enrol(clinic_west, user=coordinator)
    baseline = betterback.timepoints.get(code="baseline")
    eq5d = get("eq5d3l")
    saved = save_answers(instrument=eq5d, timepoint=baseline, answers=valid_answers(eq5d),
                         complete=True, participant=p, user=coordinator, mode="staff_clinic")
    index = saved.scores["index"]
    assert isinstance(index, float) and not index.is_integer()
    client.force_login(coordinator)
    client.cookies["django_language"] = "sv"
    html = client.get(reverse("participant_detail", args=[p.study_id])).content.decode()
    assert f"index {index:.3g}".replace(".", ",") in html
