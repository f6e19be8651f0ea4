"""Entering a response through the API: validated and scored as the site does, a change
with a reason, locked data refused (409), read tokens and reading roles refused."""

import pytest

from api.models import ApiToken
from enrolment import guards
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.scoring import compute_scores
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

BASE = "/api/v1/trials/betterback/"
ODI = {f"q{i}": 1 for i in range(1, 11)}


@pytest.fixture
def participant(people):
    """A participant of the west clinic with nothing answered at 6 months."""
    p = people[0]
    Response.objects.filter(participant=p, timepoint__code="6m").delete()
    return p


def post(client, p, **body):
    body = {"timepoint": "6m", "instrument": "odi", "answers": ODI, **body}
    return client.post(f"{BASE}participants/{p.study_id}/responses/", body, format="json")


def test_a_response_is_validated_scored_and_saved_as_the_site_does(api, coordinator,
                                                                   participant):
    r = post(api(coordinator, ApiToken.READ_WRITE), participant)
    assert r.status_code == 201, r.content
    saved = Response.objects.get(participant=participant, timepoint__code="6m",
                                 instrument="odi")
    assert saved.scores == compute_scores(get("odi"), ODI, participant.trial)
    assert r.json()["scores"] == saved.scores and r.json()["id"] == saved.pk
    assert saved.entered_by == coordinator and saved.mode == Response.STAFF_PAPER
    assert saved.completed_at is not None


def test_invalid_answers_are_refused_item_by_item(api, coordinator, participant):
    r = post(api(coordinator, ApiToken.READ_WRITE), participant,
             answers={**ODI, "q1": 9, "q99": 1})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"q1", "q99"}
    assert not Response.objects.filter(participant=participant, timepoint__code="6m").exists()
    r = post(api(coordinator, ApiToken.READ_WRITE), participant, timepoint="pt-3m")
    assert r.json()["code"] == "unknown_timepoint"
    r = post(api(coordinator, ApiToken.READ_WRITE), participant, instrument="crpe")
    assert r.json()["code"] == "unknown_instrument"
    r = post(api(coordinator, ApiToken.READ_WRITE), participant, answers="q1=1")
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    assert "answers" in r.json()["errors"]


def test_a_change_to_a_completed_response_needs_a_reason(api, data_manager, participant):
    client = api(data_manager, ApiToken.READ_WRITE)
    assert post(client, participant).status_code == 201
    changed = {**ODI, "q2": 4}
    r = post(client, participant, answers=changed)
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    assert post(client, participant).status_code == 200  # unchanged: no reason needed
    r = post(client, participant, answers=changed, reason="paper form re-read")
    assert r.status_code == 200 and r.json()["answers"]["q2"] == 4
    saved = Response.objects.get(participant=participant, timepoint__code="6m",
                                 instrument="odi")
    assert saved.history.first().history_change_reason == "paper form re-read"
    assert saved.history.first().history_user == data_manager
    # The audit trail names the answer that changed, not the bookkeeping time.
    from enrolment.audit import participant_history

    entry = next(e for e in participant_history(participant) if e.what == "Response odi at 6m")
    assert entry.reason == "paper form re-read" and [c[0] for c in entry.changes] == ["answers",
                                                                                      "scores"]


def test_locked_data_is_refused_with_409(api, coordinator, participant):
    def lock(instance, action):
        if isinstance(instance, Response) and instance.participant_id == participant.pk:
            raise guards.WriteRefused("Data of BB-W-0001 are locked by data management.")

    guards.register(lock)
    try:
        r = post(api(coordinator, ApiToken.READ_WRITE), participant)
    finally:
        guards.unregister(lock)
    assert r.status_code == 409
    assert r.json() == {"code": "locked",
                        "detail": "Data of BB-W-0001 are locked by data management."}
    assert not Response.objects.filter(participant=participant, timepoint__code="6m").exists()


def test_a_read_token_cannot_write(api, coordinator, participant):
    r = post(api(coordinator, ApiToken.READ), participant)
    assert r.status_code == 403 and r.json()["code"] == "read_only_token"
    assert not Response.objects.filter(participant=participant, timepoint__code="6m").exists()


def test_roles_that_may_not_enter_data(api, statistician, physio_west, physio_east,
                                       participant, betterback):
    # A statistician cannot even make a read-write token ...
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api(statistician, ApiToken.READ_WRITE)
    # ... and one who lost a data-entry role keeps a token that no longer writes.
    from enrolment.models import TrialRole
    from tests.factories import TrialRoleFactory

    role = TrialRoleFactory(user=statistician, trial=betterback, role=TrialRole.DATA_MANAGER)
    statistician._trial_roles_cache = None
    client = api(statistician, ApiToken.READ_WRITE)
    role.delete()
    statistician._trial_roles_cache = None
    r = post(client, participant)
    assert r.status_code == 403 and r.json()["code"] == "role_may_not_write"
    # Another clinic's physiotherapist does not see the participant at all.
    r = post(api(physio_east, ApiToken.READ_WRITE), participant)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    # Their own clinic's physiotherapist may.
    assert post(api(physio_west, ApiToken.READ_WRITE), participant).status_code == 201


def test_nothing_writes_participants_or_personal_details(api, coordinator, participant):
    client = api(coordinator, ApiToken.READ_WRITE)
    for method in ("put", "patch", "post", "delete"):
        r = getattr(client, method)(f"{BASE}participants/{participant.study_id}/",
                                    {"condition": "control", "full_name": "X"}, format="json")
        assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    participant.refresh_from_db()
    assert participant.personal_details.full_name != "X"


def test_a_lock_by_data_management_refuses_the_write_with_409(api, coordinator, data_manager,
                                                              participant, betterback):
    """The real lock (datamanagement.locks), not a stand-in guard: the write path refuses it
    whatever the door, and the API says so with the lock's own message."""
    from datamanagement.locks.models import Lock
    from datamanagement.locks.services import lock, unlock

    row = lock(Lock.PARTICIPANT, trial=betterback, participant=participant, user=data_manager,
               reason="casebook signed")
    client = api(coordinator, ApiToken.READ_WRITE)
    r = post(client, participant)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "locked" and "datamanager" in body["detail"]
    assert set(body) == {"code", "detail"}
    assert not Response.objects.filter(participant=participant, timepoint__code="6m").exists()
    # A correction of a completed response is refused the same way.
    done = Response.objects.filter(participant=participant, entry=Response.FINAL,
                                   instrument="odi").exclude(timepoint__code="6m").first()
    r = post(client, participant, timepoint=done.timepoint.code,
             answers={**done.answers, "q1": (done.answers["q1"] + 1) % 6}, reason="re-read")
    assert r.status_code == 409 and r.json()["code"] == "locked"
    unlock(row, user=data_manager, reason="signature withdrawn")
    assert post(client, participant).status_code == 201


def test_the_metadata_gives_the_instrument_versions_the_trial_asks(api, coordinator,
                                                                   betterback):
    """BetterBack pins NRS version 1 although version 2 exists: its metadata, like its forms,
    describes version 1."""
    assert betterback.instrument_versions.get("nrs") == 1 and get("nrs").version > 1
    body = api(coordinator).get(BASE).json()
    nrs = next(i for i in body["instruments"] if i["code"] == "nrs")
    assert nrs["version"] == 1
    assert [i["id"] for i in nrs["items"]] == [i.id for i in get("nrs", 1).items]
