"""Queries through the API: the pages' roles and write path (datamanagement.queries.actions),
refusals with stable codes, locked data refused with 409, every call in the access log."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AccessEvent
from api.models import ApiToken
from datamanagement.queries.models import Query, QueryMessage
from enrolment.models import TrialRole
from questionnaires.models import Response
from tests.conftest import _role, use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

BASE = "/api/v1/trials/betterback/queries/"
RW = ApiToken.READ_WRITE


@pytest.fixture
def west(people):
    return people[0]  # clinic MOT, physio_west's


@pytest.fixture
def east(people):
    return people[8]  # clinic NCE


@pytest.fixture
def monitor(betterback):
    return _role(betterback, TrialRole.MONITOR, "monitor")


def raise_on(client, p, value="3m.odi.q4", text="Q4 looks like a slip of the pen."):
    return client.post(BASE, {"participant": p.study_id, "value": value, "text": text},
                       format="json")


def act(client, pk, action, **body):
    return client.post(f"{BASE}{pk}/{action}/", body, format="json")


def test_raised_answered_closed_reopened_through_the_api(api, data_manager, physio_west,
                                                         west):
    dm = api(data_manager, RW)
    r = raise_on(dm, west)
    assert r.status_code == 201, r.content
    body = r.json()
    q = Query.objects.get(pk=body["id"])
    assert q.raised_by == data_manager and q.state == Query.OPEN
    assert body["value"] == "3m.odi.q4" and body["participant"] == west.study_id
    assert body["raised_by"] == "datamanager" and body["clinic"] == "MOT"
    assert [m["kind"] for m in body["thread"]] == ["raised"]
    assert body["thread"][0]["by"] == "datamanager"
    assert body["may"] == {"answer": False, "close": True, "reopen": False}

    physio = api(physio_west, RW)
    r = act(physio, q.pk, "answer", text="Checked the paper form: it is right.")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "answered"
    assert r.json()["thread"][-1] == {
        "at": r.json()["thread"][-1]["at"], "kind": "answered", "by": "physio_west",
        "text": "Checked the paper form: it is right.", "old_value": None, "new_value": None,
        "values_hidden": False,
    }
    r = act(dm, q.pk, "close", text="Confirmed against the source.")
    assert r.status_code == 200 and r.json()["state"] == "closed"
    r = act(dm, q.pk, "reopen", text="The monitor found a second form.")
    assert r.status_code == 200 and r.json()["state"] == "reopened"
    assert list(q.messages.values_list("kind", flat=True)) == [
        QueryMessage.RAISED, QueryMessage.ANSWERED, QueryMessage.CLOSED, QueryMessage.REOPENED]

    r = physio.get(f"{BASE}{q.pk}/")
    assert r.status_code == 200
    assert [m["kind"] for m in r.json()["thread"]] == ["raised", "answered", "closed",
                                                       "reopened"]


def test_a_correction_from_the_query_goes_through_the_audited_flow(api, data_manager,
                                                                     physio_west, west):
    q = Query.objects.get(pk=raise_on(api(data_manager, RW), west).json()["id"])
    response = Response.objects.get(participant=west, timepoint__code="3m", instrument="odi",
                                    entry=Response.FINAL)
    old = response.answers.get("q4")
    new = 0 if old != 0 else 1
    r = act(api(physio_west, RW), q.pk, "correct", new_value=new, text="Read the form again.")
    assert r.status_code == 200, r.content
    response.refresh_from_db()
    assert response.answers["q4"] == new
    last = response.history.first()
    assert last.history_change_reason.startswith(f"query {q.pk} (3m.odi.q4)")
    thread = r.json()["thread"]
    assert thread[-1]["kind"] == "corrected"
    assert (thread[-1]["old_value"], thread[-1]["new_value"]) == (old, new)
    # Closing after a correction needs no reason.
    assert act(api(data_manager, RW), q.pk, "close").json()["state"] == "closed"


def test_another_clinics_physiotherapist_gets_404(api, data_manager, physio_east, west):
    q = raise_on(api(data_manager, RW), west).json()["id"]
    client = api(physio_east, RW)
    r = client.get(f"{BASE}{q}/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = act(client, q, "answer", text="Not mine.")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get(BASE + f"?participant={west.study_id}").json()["results"] == []
    assert Query.objects.get(pk=q).state == Query.OPEN


def test_a_physiotherapist_lists_only_their_clinics_queries(api, data_manager, physio_west,
                                                            west, east):
    dm = api(data_manager, RW)
    mine = raise_on(dm, west).json()["id"]
    theirs = raise_on(dm, east).json()["id"]
    seen = {row["id"] for row in api(physio_west).get(BASE + "?page_size=5000").json()["results"]}
    assert mine in seen and theirs not in seen
    assert all(row["clinic"] == "MOT"
               for row in api(physio_west).get(BASE).json()["results"])
    everything = {row["id"] for row in dm.get(BASE + "?page_size=5000").json()["results"]}
    assert {mine, theirs} <= everything


def test_a_statistician_sees_no_queries(api, data_manager, statistician, west):
    q = raise_on(api(data_manager, RW), west).json()["id"]
    client = api(statistician)
    r = client.get(BASE)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get(f"{BASE}{q}/").status_code == 404


def test_roles_that_may_not_raise_or_answer(api, physio_west, monitor, data_manager,
                                            coordinator, west):
    r = raise_on(api(physio_west, RW), west)
    assert r.status_code == 403 and r.json()["code"] == "role_may_not_raise"
    q = raise_on(api(data_manager, RW), west).json()["id"]
    r = act(api(data_manager, RW), q, "answer", text="I answer myself.")
    assert r.status_code == 403 and r.json()["code"] == "role_may_not_answer"
    r = act(api(coordinator, RW), q, "close", text="Done.")
    assert r.status_code == 403 and r.json()["code"] == "role_may_not_close"
    r = act(api(physio_west, RW), q, "reopen", text="Again.")
    assert r.status_code == 403 and r.json()["code"] == "role_may_not_reopen"
    assert act(api(coordinator, RW), q, "answer", text="Right.").status_code == 200
    assert Query.objects.get(pk=q).messages.count() == 2
    # A monitor reads every query; their tokens only read (the token page's rule).
    body = api(monitor).get(f"{BASE}{q}/").json()
    assert body["state"] == "answered" and body["may"]["close"] is True


def test_a_read_only_token_cannot_write(api, data_manager, west):
    client = api(data_manager)
    r = raise_on(client, west)
    assert r.status_code == 403 and r.json()["code"] == "read_only_token"
    q = raise_on(api(data_manager, RW), west).json()["id"]
    r = act(client, q, "close", text="Resolved.")
    assert r.status_code == 403 and r.json()["code"] == "read_only_token"
    assert Query.objects.get(pk=q).state == Query.OPEN


def test_refusals_carry_the_sites_message_and_a_stable_code(api, data_manager, physio_west,
                                                            west):
    dm = api(data_manager, RW)
    q = raise_on(dm, west).json()["id"]
    r = act(dm, q, "close")
    assert r.status_code == 400
    assert r.json() == {"code": "reason_required",
                        "detail": "The value was not changed: give a reason to close the query."}
    assert Query.objects.get(pk=q).state == Query.OPEN
    r = act(dm, q, "reopen", text="Why not.")
    assert r.status_code == 400 and r.json()["code"] == "not_reopenable"
    r = act(api(physio_west, RW), q, "answer", text=" ")
    assert r.status_code == 400 and r.json()["code"] == "text_required"
    act(dm, q, "close", text="Fine as it is.")
    r = act(api(physio_west, RW), q, "answer", text="Late answer.")
    assert r.status_code == 400 and r.json() == {"code": "query_closed",
                                                 "detail": "This query is closed."}
    r = raise_on(dm, west, value="3m.odi.q99")
    assert r.status_code == 400 and r.json()["code"] == "unknown_value"
    r = raise_on(dm, west, text="")
    assert r.status_code == 400 and r.json()["code"] == "invalid" and "text" in r.json()["errors"]
    r = raise_on(dm, west, value="3m.odi.q4")
    assert r.status_code == 201


def test_locked_data_is_refused_with_409(api, data_manager, physio_west, west):
    from enrolment import guards

    q = raise_on(api(data_manager, RW), west).json()["id"]

    def lock(instance, action):
        if isinstance(instance, Response) and instance.participant_id == west.pk:
            raise guards.WriteRefused(f"Data of {west.study_id} are locked by data management.")

    guards.register(lock)
    try:
        r = act(api(physio_west, RW), q, "correct", new_value=2, text="Read it again.")
    finally:
        guards.unregister(lock)
    assert r.status_code == 409
    assert r.json() == {"code": "locked",
                        "detail": f"Data of {west.study_id} are locked by data management."}
    # Refused in one transaction: no "corrected" message, the query still open.
    assert Query.objects.get(pk=q).messages.count() == 1
    assert Query.objects.get(pk=q).state == Query.OPEN


def test_filters_and_updated_since(api, data_manager, physio_west, west, east):
    dm = api(data_manager, RW)
    a = raise_on(dm, west).json()["id"]
    b = raise_on(dm, east, value="enrolment.consented_on",
                 text="Consent after enrolment?").json()["id"]
    act(api(physio_west, RW), a, "answer", text="Right as it is.")

    def ids(query):
        r = dm.get(BASE + "?page_size=5000&" + query)
        assert r.status_code == 200, r.content
        return {row["id"] for row in r.json()["results"]}

    assert a in ids("state=answered") and b not in ids("state=answered")
    assert b in ids("clinic=NCE") and a not in ids("clinic=NCE")
    assert ids("instrument=enrolment") >= {b} and a not in ids("instrument=enrolment")
    assert a in ids(f"participant={west.study_id}") and b not in ids(f"participant={west.study_id}")
    later = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"updated_since={later}") == set()
    earlier = (timezone.now() - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert {a, b} <= ids(f"updated_since={earlier}")
    r = dm.get(BASE + "?updated_since=yesterday")
    assert r.status_code == 400 and r.json()["code"] == "invalid_filter"
    r = dm.get(BASE + "?state=pending")
    assert r.status_code == 400 and r.json()["code"] == "invalid_filter"


def test_cursor_pages(api, data_manager, people):
    dm = api(data_manager, RW)
    for p in people[:3]:
        raise_on(dm, p)
    total = Query.objects.filter(participant__trial=people[0].trial).count()
    seen, url = [], BASE + "?page_size=2"
    while url:
        body = dm.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == total


def test_no_personal_value_in_a_thread(api, data_manager, coordinator, statistician, west):
    """A correction of the date of birth says that it changed, never to what."""
    dm = api(data_manager, RW)
    q = raise_on(dm, west, value="enrolment.date_of_birth", text="Born after enrolment?").json()
    r = act(api(coordinator, RW), q["id"], "correct", new_value="1970-03-02",
            text="Typo on the form.")
    assert r.status_code == 200, r.content
    last = r.json()["thread"][-1]
    assert last["kind"] == "corrected" and last["values_hidden"] is True
    assert last["old_value"] is None and last["new_value"] is None
    assert "1970" not in dm.get(f"{BASE}{q['id']}/").content.decode()


def test_every_call_is_logged(api, data_manager, physio_east, west):
    dm = api(data_manager, RW)
    before = AccessEvent.objects.filter(kind=AccessEvent.API_CALL).count()
    q = raise_on(dm, west).json()["id"]
    dm.get(f"{BASE}{q}/")
    act(dm, q, "close")
    api(physio_east, RW).get(f"{BASE}{q}/")
    events = list(AccessEvent.objects.filter(kind=AccessEvent.API_CALL)[:4])
    assert AccessEvent.objects.filter(kind=AccessEvent.API_CALL).count() == before + 4
    details = [e.detail for e in reversed(events)]
    assert details[0] == f"POST 201 token {dm.token.prefix}"
    assert details[1] == f"GET 200 token {dm.token.prefix}"
    assert details[2].startswith("POST 400 reason_required")
    assert details[3].startswith("GET 404 not_found")
    assert events[0].path == f"{BASE}{q}/" and events[0].user == physio_east
