"""A coordinator sets or moves a cluster's crossover only for the future, with a reason,
audited; participants enrolled before keep their condition."""

from datetime import date

import pytest
from django.urls import reverse

from enrolment.actions.errors import EnrolmentError
from enrolment.actions.status import move_crossover
from enrolment.models import Cluster
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
TODAY = date(2017, 8, 1)


def test_moving_the_crossover_later_is_audited_and_spares_the_enrolled(clinic_central):
    before = enrol(clinic_central, enrolled_on=date(2017, 7, 3))
    cluster = move_crossover(clinic_central.cluster, date(2017, 10, 2), "slow recruitment", TODAY)
    assert cluster.crossover == date(2017, 10, 2)
    latest = Cluster.history.filter(id=cluster.pk).latest("history_date")
    assert latest.history_change_reason == "slow recruitment"
    before.refresh_from_db()
    assert before.condition == "control"
    assert enrol(clinic_central, enrolled_on=date(2017, 9, 20)).condition == "control"
    assert enrol(clinic_central, enrolled_on=date(2017, 10, 2)).condition == "intervention"


@pytest.mark.parametrize("new_date", [TODAY, date(2017, 7, 1)])
def test_crossover_cannot_be_set_in_the_past_or_today(clinic_central, new_date):
    with pytest.raises(EnrolmentError, match="future"):
        move_crossover(clinic_central.cluster, new_date, "because", TODAY)


def test_a_cluster_that_has_crossed_over_stays(clinic_west):
    with pytest.raises(EnrolmentError, match="crossed over"):
        move_crossover(clinic_west.cluster, date(2017, 12, 1), "undo", TODAY)


def test_reason_is_required(clinic_east):
    with pytest.raises(EnrolmentError, match="why"):
        move_crossover(clinic_east.cluster, date(2017, 12, 1), " ", TODAY)


def test_only_coordinators_reach_the_crossover_page(client, physio_west, coordinator, betterback):
    url = reverse("cluster_crossover", args=["betterback", "E"])
    client.force_login(physio_west)
    assert client.get(url).status_code == 403
    client.force_login(coordinator)
    response = client.post(url, {"crossover": "2000-01-01", "reason": "x"})
    assert "only be set for the future" in response.content.decode()
    assert Cluster.objects.get(trial=betterback, code="E").crossover is None
