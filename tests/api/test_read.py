"""Read endpoints, role by role: the same querysets as the pages decide what a token sees."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AccessEvent
from analysis import exports
from api import data
from enrolment.models import PersonalDetails, TrialRole
from questionnaires import missing
from questionnaires.models import Response
from questionnaires.services.saving import correct_response
from tests.conftest import use_betterback_built_once
from tests.factories import TrialRoleFactory, UserFactory

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

BASE = "/api/v1/trials/betterback/"


def all_pages(client, url):
    rows, seen = [], 0
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.content
        body = r.json()
        rows += body["results"]
        url = body["next"]
        seen += 1
    return rows, seen


def test_metadata_has_arms_clusters_clinics_timepoints_and_instruments(api, coordinator):
    body = api(coordinator).get(BASE).json()
    assert {a["code"] for a in body["arms"]} == {"control", "intervention"}
    assert [c["code"] for c in body["clusters"]] == ["W", "C", "E"] or len(body["clusters"]) == 3
    assert {"MOT", "EKH", "NCE"} <= {c["code"] for c in body["clinics"]}
    assert [t["code"] for t in body["timepoints"]][:4] == ["baseline", "3m", "6m", "12m"]
    odi = next(i for i in body["instruments"] if i["code"] == "odi")
    assert odi["items"][0]["choices"] and odi["items"][0]["choices"][0]["label"]
    assert odi["scores"][0]["name"] == "odi" and odi["scores"][0]["rule"]


def test_a_physiotherapist_sees_their_own_clinic_only(api, physio_west, people):
    client = api(physio_west)
    clinics = {c["code"] for c in client.get(BASE).json()["clinics"]}
    assert clinics == {"MOT"}
    rows, _ = all_pages(client, BASE + "participants/")
    assert {r["clinic"] for r in rows} == {"MOT"} and len(rows) == 4
    other = next(p for p in people if p.clinic.code == "NCE")
    for path in ("", "audit/"):
        r = client.get(f"{BASE}participants/{other.study_id}/{path}")
        assert r.status_code == 404
        assert r.json()["code"] == "not_found"
        assert other.study_id in r.json()["detail"]
    responses, _ = all_pages(client, BASE + "responses/?page_size=50")
    assert responses and {r["participant"][:2] for r in responses}
    mine = {p.study_id for p in people if p.clinic.code == "MOT"}
    assert {r["participant"] for r in responses} == mine
    r = client.get(BASE + f"responses/?participant={other.study_id}")
    assert r.json()["results"] == []


def test_cursor_pages_cover_every_participant_once(api, coordinator, people):
    rows, pages = all_pages(api(coordinator), BASE + "participants/?page_size=5")
    assert pages == 3
    assert sorted(r["study_id"] for r in rows) == sorted(p.study_id for p in people)


def _personal_values(people):
    values = set()
    for d in PersonalDetails.objects.filter(participant__in=people):
        values |= {d.full_name, d.national_id, d.email, d.mobile, d.date_of_birth.isoformat()}
    return values - {""}


def _assert_nothing_personal(text, people):
    for value in _personal_values(people):
        assert value not in text, value
    for key in ("full_name", "national_id", "email", "mobile", "date_of_birth",
                "withdrawal_reason", "late_enrolment_reason"):
        assert f'"{key}"' not in text


def test_a_statistician_never_gets_a_personal_field(api, statistician, people, betterback):
    client = api(statistician)
    texts = [client.get(BASE).content.decode()]
    for path in ("participants/", "responses/", "scores/", "contacts/"):
        rows, _ = all_pages(client, BASE + path + "?page_size=1000")
        assert rows, path
        texts.append(json.dumps(rows))
    texts.append(client.get(f"{BASE}participants/{people[0].study_id}/").content.decode())
    stream = client.get(BASE + "dataset.jsonl?level=item")
    texts.append(b"".join(stream.streaming_content).decode())
    whole = "\n".join(texts)
    # The free-text items name the patient (exportdata): they must not come through.
    assert "Testname" not in whole
    _assert_nothing_personal(whole, people)


def test_a_blinded_trial_gives_a_statistician_blinding_codes(api, statistician, coordinator,
                                                             people, betterback):
    assert betterback.blinded  # BetterBack's protocol file blinds its statisticians
    codes = exports.blinding_codes(betterback)
    rows, _ = all_pages(api(statistician), BASE + "participants/")
    assert {r["condition"] for r in rows} == set(codes.values())
    meta = api(statistician).get(BASE).json()
    assert meta["conditions_blinded_for_you"] is True
    assert {a["code"] for a in meta["arms"]} == set(codes.values())
    assert "intervention" not in json.dumps(meta["arms"])
    assert all(c["crossover"] is None for c in meta["clusters"])
    lines = b"".join(api(statistician).get(BASE + "dataset.jsonl").streaming_content).split(b"\n")
    assert {json.loads(x)["condition"] for x in lines if x} <= set(codes.values())
    # The coordinator of the same trial sees the arms; so does the statistician once the
    # trial is unblinded.
    rows, _ = all_pages(api(coordinator), BASE + "participants/")
    assert {r["condition"] for r in rows} == {"control", "intervention"}
    betterback.blinded = False
    betterback.save()
    rows, _ = all_pages(api(statistician), BASE + "participants/")
    assert {r["condition"] for r in rows} == {"control", "intervention"}


def test_responses_filter_by_instrument_timepoint_participant_and_updated_since(
    api, coordinator, people
):
    client = api(coordinator)
    odi, _ = all_pages(client, BASE + "responses/?instrument=odi&timepoint=3m")
    assert len(odi) == len(people)
    assert {(r["instrument"], r["timepoint"]) for r in odi} == {("odi", "3m")}
    one, _ = all_pages(client, BASE + f"responses/?participant={people[1].study_id}")
    assert {r["participant"] for r in one} == {people[1].study_id}
    # Everything was saved two days ago; one correction today.
    Response.objects.update(updated_at=timezone.now() - timedelta(days=2))
    changed = Response.objects.get(participant=people[2], instrument="odi", timepoint__code="3m")
    correct_response(changed, {**changed.answers, "q1": 5}, "transcription error", coordinator)
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    recent, _ = all_pages(client, BASE + f"responses/?updated_since={yesterday}")
    assert [r["id"] for r in recent] == [changed.pk]
    assert recent[0]["answers"]["q1"] == 5
    r = client.get(BASE + "responses/?updated_since=last-tuesday")
    assert r.status_code == 400 and r.json()["code"] == "invalid_filter"


def test_scores_carry_no_answers(api, coordinator, people):
    rows, _ = all_pages(api(coordinator), BASE + "scores/?instrument=odi&timepoint=baseline")
    assert len(rows) == len(people)
    assert "answers" not in rows[0] and "odi" in rows[0]["scores"]


def test_contacts_states(api, coordinator, physio_west, people):
    rows, _ = all_pages(api(coordinator), BASE + "contacts/?page_size=1000")
    assert rows and {"status", "due_on", "timepoint", "participant"} <= set(rows[0])
    assert "token_hash" not in rows[0]
    west, _ = all_pages(api(physio_west), BASE + "contacts/?page_size=1000")
    mine = {p.study_id for p in people if p.clinic.code == "MOT"}
    assert west and {r["participant"] for r in west} == mine


def test_audit_trail_for_history_roles_without_personal_values(
    api, coordinator, statistician, physio_west, people, betterback
):
    p = people[0]
    body = api(coordinator).get(f"{BASE}participants/{p.study_id}/audit/").json()
    whats = {e["what"] for e in body["entries"]}
    assert {"Participant", "Personal details", "Response odi at 3m"} <= whats
    personal = [e for e in body["entries"] if e["what"] == "Personal details"]
    assert {c["field"] for e in personal for c in e["changes"]} >= {"full_name", "email"}
    assert all(c["old"] is None and c["new"] is None for e in personal for c in e["changes"])
    text = json.dumps(body)
    for value in _personal_values([p]) - {"Testname Patient001"}:
        assert value not in text  # the coordinator may read free text naming the patient
    # A monitor reads the audit trail but not personal details: free text hidden too.
    monitor = TrialRoleFactory(user=UserFactory(username="monitor"), trial=betterback,
                               role=TrialRole.MONITOR).user
    body = api(monitor).get(f"{BASE}participants/{p.study_id}/audit/").json()
    assert "[free text]" in json.dumps(body)
    for value in _personal_values([p]):
        assert value not in json.dumps(body)
    for user in (statistician, physio_west):
        r = api(user).get(f"{BASE}participants/{p.study_id}/audit/")
        assert r.status_code == 403
        assert r.json()["code"] == "role_may_not_read_history"


def test_codebook_is_the_exports_codebook(api, statistician, betterback):
    rows = api(statistician).get(BASE + "codebook/?shape=wide&level=item").json()
    expected = exports.codebook(data.dataset(betterback, "wide", "item", True).vars)
    assert [r["name"] for r in rows] == list(expected["name"])
    assert any(r["name"].endswith("_reason") for r in rows)  # as the file's codebook
    r = api(statistician).get(BASE + "codebook/?shape=analysis")
    assert r.status_code == 400 and r.json()["code"] == "invalid_filter"


@pytest.mark.parametrize("shape,level", [("long", "score"), ("wide", "item")])
def test_dataset_streams_the_export_rows(api, statistician, people, betterback, tmp_path,
                                         shape, level):
    # An item missing with a reason: the file export writes the reason beside it.
    nrs = Response.objects.filter(participant=people[0], instrument="odi",
                                  entry=Response.FINAL).first()
    nrs.missing = {"q3": missing.REFUSED}
    nrs.answers = {k: v for k, v in nrs.answers.items() if k != "q3"}
    nrs._change_reason = "test: refused"
    nrs.save()
    r = api(statistician).get(BASE + f"dataset.csv?shape={shape}&level={level}")
    assert r.status_code == 200 and r.streaming
    streamed = b"".join(r.streaming_content).decode()
    path = tmp_path / "export.csv"
    assert betterback.blinded  # the protocol's setting: the statistician's file is blinded
    # The analysis page's file export, byte for byte (CSV quoting aside: \r\n both).
    n = exports.write_export(betterback, path, "csv", shape, level, blinded=True).rows
    assert streamed.replace("\r\n", "\n") == path.read_text().replace("\r\n", "\n")
    assert "_reason" in streamed.split("\n")[0]
    if level == "item":  # an item's reason (a score has one only when not done at all)
        assert f",{missing.REFUSED}" in streamed
    lines = b"".join(api(statistician).get(
        BASE + f"dataset.jsonl?shape={shape}&level={level}").streaming_content).splitlines()
    assert len(lines) == n


def test_dataset_only_for_roles_that_export(api, physio_west):
    r = api(physio_west).get(BASE + "dataset.csv")
    assert r.status_code == 403 and r.json()["code"] == "role_may_not_export"


def test_every_call_is_logged(api, coordinator, client):
    c = api(coordinator)
    before = AccessEvent.objects.filter(kind=AccessEvent.API_CALL).count()
    c.get(BASE)
    c.get("/api/v1/trials/betterback/participants/XX-0000/")
    from rest_framework.test import APIClient

    APIClient().get(BASE, HTTP_AUTHORIZATION="Bearer tsk_nonsense")
    events = list(AccessEvent.objects.filter(kind=AccessEvent.API_CALL)[:3])
    assert AccessEvent.objects.filter(kind=AccessEvent.API_CALL).count() == before + 3
    details = [e.detail for e in reversed(events)]
    assert details[0] == f"GET 200 token {c.token.prefix}"
    assert details[1].startswith("GET 404 not_found")
    assert details[2] == "GET 401 token_invalid"
    assert events[0].user is None and events[1].user == coordinator
    assert events[1].path == "/api/v1/trials/betterback/participants/XX-0000/"


def test_me_describes_the_token(api, physio_west):
    body = api(physio_west).get("/api/v1/me/").json()
    assert body["trial"] == "betterback" and body["roles"] == ["physiotherapist"]
    assert body["token"]["scope"] == "read"


def test_root_lists_the_endpoints(api, coordinator):
    body = api(coordinator).get("/api/v1/").json()
    assert body["responses"] == "http://testserver/api/v1/trials/betterback/responses/"
    assert body["dataset_csv"].endswith("/betterback/dataset.csv")


def test_participants_carry_the_protocol_version_enrolled_under(api, coordinator, people):
    rows, _ = all_pages(api(coordinator), BASE + "participants/?page_size=1000")
    assert {r["protocol_version"] for r in rows} == {1}
    one = api(coordinator).get(f"{BASE}participants/{people[0].study_id}/").json()
    assert one["protocol_version"] == 1


def test_an_unknown_path_is_a_json_refusal_with_a_stable_code(api, coordinator):
    c = api(coordinator)
    r = c.get(BASE + "nonsense/")
    assert r.status_code == 404 and r["Content-Type"] == "application/json"
    assert r.json() == {"code": "not_found", "detail": "No endpoint /api/v1/trials/betterback/"
                        "nonsense/; the endpoints are listed at /api/v1/."}
    r = c.get("/api/v1/me")
    assert r.status_code == 404 and r.json()["detail"].endswith("did you mean /api/v1/me/ ?")
    assert c.post(BASE + "nonsense/", {}, format="json").json()["code"] == "not_found"
    # A bad token is still refused as such, before the path.
    from rest_framework.test import APIClient

    r = APIClient().get(BASE + "nonsense/", HTTP_AUTHORIZATION="Bearer tsk_nonsense")
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    assert AccessEvent.objects.filter(kind=AccessEvent.API_CALL,
                                      path="/api/v1/trials/betterback/nonsense/").count() == 3
