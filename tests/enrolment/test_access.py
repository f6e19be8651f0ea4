"""Per-role access, enforced in querysets and views: a physiotherapist sees only their own
clinic (404 elsewhere), statisticians never see personal details."""

from datetime import date

import pytest
from django.urls import reverse

from enrolment.models import Participant
from tests.conftest import use_betterback_built_once

from ..factories import UserFactory, enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def patients(clinic_west, clinic_east):
    return {
        "west": enrol(clinic_west, full_name="Wilma West", email="wilma@example.com"),
        "east": enrol(clinic_east, full_name="Egon East", email="egon@example.com"),
    }


def test_physiotherapist_queryset_is_own_clinic_only(physio_west, patients):
    visible = Participant.objects.visible_to(physio_west)
    assert list(visible) == [patients["west"]]


def test_coordinator_queryset_is_the_whole_trial(coordinator, patients):
    assert set(Participant.objects.visible_to(coordinator)) == set(patients.values())


def test_user_without_a_role_sees_nobody(patients):
    assert not Participant.objects.visible_to(UserFactory()).exists()


def test_physiotherapist_gets_404_for_another_clinics_participant(client, physio_west, patients):
    client.force_login(physio_west)
    for name in (
        "participant_detail",
        "participant_edit",
        "participant_history",
        "personal_details_edit",
        "participant_withdraw",
    ):
        response = client.get(reverse(name, args=[patients["east"].study_id]))
        assert response.status_code == 404, name
    own = client.get(reverse("participant_detail", args=[patients["west"].study_id]))
    assert own.status_code == 200 and "Wilma West" in own.content.decode()


def test_physiotherapist_list_shows_only_own_clinic(client, physio_west, patients, betterback):
    client.force_login(physio_west)
    page = client.get(reverse("participant_list", args=[betterback.code])).content.decode()
    assert patients["west"].study_id in page and patients["east"].study_id not in page


def test_statistician_sees_participants_but_never_personal_details(client, statistician, patients):
    client.force_login(statistician)
    response = client.get(reverse("participant_detail", args=[patients["west"].study_id]))
    page = response.content.decode()
    assert response.status_code == 200 and patients["west"].study_id in page
    for identifier in ("Wilma West", "wilma@example.com", "19800101-", "+46701"):
        assert identifier not in page
    edit = client.get(reverse("personal_details_edit", args=[patients["west"].study_id]))
    assert edit.status_code in (403, 404)


def test_coordinator_sees_personal_details(client, coordinator, patients):
    client.force_login(coordinator)
    page = client.get(reverse("participant_detail", args=[patients["east"].study_id]))
    assert "Egon East" in page.content.decode()


def test_statistician_cannot_edit_or_read_history(client, statistician, patients):
    client.force_login(statistician)
    sid = patients["west"].study_id
    assert client.get(reverse("participant_edit", args=[sid])).status_code == 403
    assert client.get(reverse("participant_history", args=[sid])).status_code == 403


def test_another_trials_coordinator_sees_nothing_of_betterback(client, patients):
    from enrolment.models import TrialRole
    from enrolment.protocol.writing import load_protocol

    from ..conftest import PROTOCOLS
    from ..factories import TrialRoleFactory

    safe, _ = load_protocol(PROTOCOLS / "safe.toml")
    other = TrialRoleFactory(trial=safe, role=TrialRole.COORDINATOR).user
    client.force_login(other)
    assert (
        client.get(reverse("participant_detail", args=[patients["west"].study_id])).status_code
        == 404
    )
    assert client.get(reverse("trial_overview", args=["betterback"])).status_code == 404


def test_anonymous_user_is_sent_to_login(client, patients):
    response = client.get(reverse("participant_detail", args=[patients["west"].study_id]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_coordinator_overview_shows_clusters_crossovers_and_counts(
    client, coordinator, clinic_central, clinic_east
):
    enrol(clinic_central, enrolled_on=date(2017, 5, 1))
    enrol(clinic_central, enrolled_on=date(2017, 10, 1))
    enrol(clinic_east, enrolled_on=date(2017, 10, 1))
    client.force_login(coordinator)
    response = client.get(reverse("home"), follow=True)
    page = response.content.decode()
    assert "2017-09-18" in page and "never" in page
    table = response.context["clusters"]
    counts = {row["cluster"].code: row["by_condition"] for row in table}
    arms = [a.code for a in response.context["arms"]]
    assert arms == ["control", "intervention"]
    assert counts == {"W": [0, 0], "C": [1, 1], "E": [1, 0]}
    assert response.context["total"] == 3
