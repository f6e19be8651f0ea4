"""Every endpoint for every role, from one table: the status each role's token gets, the
rows it sees, that every refusal is JSON with a stable code, and that no answer carries a
personal detail (nor, for roles without personal details, the free text naming the
patient). The other API test files go deeper endpoint by endpoint; this one is the matrix.
"""

import json

import pytest
from django.core.exceptions import ValidationError

from api.models import ApiToken
from datamanagement.queries.actions import raise_query
from enrolment import permissions as roles
from enrolment.models import PersonalDetails, TrialRole
from questionnaires.models import Response
from tests.conftest import _role

pytestmark = pytest.mark.django_db

BASE = "/api/v1/trials/betterback/"
ROLES = ["coordinator", "data_manager", "statistician", "administrator", "physiotherapist",
         "monitor", "investigator", "clinic_manager"]
TRIAL_WIDE = {"coordinator", "data_manager", "statistician", "administrator", "monitor",
              "investigator"}


@pytest.fixture
def user_of(betterback, coordinator, data_manager, statistician, physio_west, clinic_west):
    """The user holding ``role`` in BetterBack (the physiotherapist works at MOT, west; the
    clinic manager manages MOT)."""
    made = {"coordinator": coordinator, "data_manager": data_manager,
            "statistician": statistician, "physiotherapist": physio_west}

    def get(role: str):
        if role not in made:
            made[role] = _role(betterback, role, role.replace("_", ""))
            if role == "clinic_manager":
                TrialRole.objects.get(user=made[role]).clinics.add(clinic_west)
        return made[role]

    return get


@pytest.fixture
def west_query(people, data_manager):
    """An open query on a west participant's 3-month ODI answer."""
    return raise_query(people[0], "3m.odi.q4", "Q4 looks like a slip of the pen.", data_manager)


def expected_reads(role: str, p, q) -> dict[str, int]:
    """Endpoint -> the status this role's read token gets (p: a west participant, q: a
    query about them)."""
    seen = role in TRIAL_WIDE or role == "physiotherapist"
    history = role in roles.HISTORY
    queries = role in roles.DM_READERS or role == "physiotherapist"
    export = role in roles.EXPORT
    return {
        "/api/v1/": 200,
        "/api/v1/me/": 200,
        BASE: 200,
        BASE + "codebook/": 200,
        BASE + "participants/": 200,
        f"{BASE}participants/{p.study_id}/": 200 if seen else 404,
        f"{BASE}participants/{p.study_id}/audit/": (200 if history else 403) if seen else 404,
        BASE + "responses/": 200,
        BASE + "scores/": 200,
        BASE + "contacts/": 200,
        BASE + "queries/": 200 if queries else 404,
        f"{BASE}queries/{q.pk}/": 200 if queries else 404,
        BASE + "dataset.csv": 200 if export else 403,
        BASE + "dataset.jsonl": 200 if export else 403,
        BASE + "odm.xml": 200 if export else 403,
    }


def _personal_values(people) -> set[str]:
    values = set()
    for d in PersonalDetails.objects.filter(participant__in=people):
        values |= {d.full_name, d.national_id, d.email, d.mobile, d.date_of_birth.isoformat()}
    return values - {""}


@pytest.mark.parametrize("role", ROLES)
def test_every_read_endpoint_for_every_role(role, user_of, api, people, west_query):
    user = user_of(role)
    client = api(user)
    texts = []
    for url, status in expected_reads(role, people[0], west_query).items():
        r = client.get(url + ("?page_size=5000" if url.endswith("s/") else ""))
        assert r.status_code == status, (role, url, r.status_code)
        text = b"".join(r.streaming_content).decode() if r.streaming else r.content.decode()
        if url.endswith("odm.xml") and status == 200:
            assert text.startswith("<?xml") and "<ODM " in text, role
        if status >= 400:
            body = json.loads(text)
            assert set(body) == {"code", "detail"} and body["code"].isidentifier(), body
            assert body["detail"], body
        texts.append(text)
    # Which participants a token sees: the trial's, the physiotherapist's clinic's, or none
    # (a clinic manager reads counts on the pages, never participants).
    visible = {p["study_id"] for p in client.get(BASE + "participants/?page_size=100").json()[
        "results"]}
    mot = {p.study_id for p in people if p.clinic.code == "MOT"}
    expected = ({p.study_id for p in people} if role in TRIAL_WIDE
                else mot if role == "physiotherapist" else set())
    assert visible == expected
    answered = {r["participant"] for r in client.get(BASE + "responses/?page_size=5000").json()[
        "results"]}
    assert answered == expected
    # Personal details never; the free text naming the patient only for roles that may see
    # personal details.
    whole = "\n".join(texts)
    for value in _personal_values(people):
        if role in roles.PERSONAL_DETAILS and value.startswith("Testname"):
            continue  # the free text (exportdata) names the patient, which these roles read
        assert value not in whole, (role, value)
    for key in ("full_name", "national_id", "email", "mobile", "date_of_birth"):
        assert f'"{key}":' not in whole, (role, key)  # a key (the audit trail names fields)
    if expected and role not in roles.PERSONAL_DETAILS:
        assert "Testname" not in whole, role


def _post(client, url, body):
    r = client.post(url, body, format="json")
    if r.status_code >= 400:
        data = r.json()
        assert set(data) <= {"code", "detail", "errors"} and data["code"], data
    return r


@pytest.mark.parametrize("role", ROLES)
def test_every_write_endpoint_for_every_role(role, user_of, api, people, west_query):
    user = user_of(role)
    p = people[0]
    if role not in roles.EDIT:
        # Roles that enter no data get no read-write token at all ...
        with pytest.raises(ValidationError) as refused:
            api(user, ApiToken.READ_WRITE)
        assert refused.value.code == "role_may_not_write"
        # ... and their read token refuses every write with read_only_token.
        client = api(user)
        for url in (f"{BASE}participants/{p.study_id}/responses/", BASE + "queries/",
                    f"{BASE}queries/{west_query.pk}/answer/"):
            r = _post(client, url, {})
            assert r.status_code == 403 and r.json()["code"] == "read_only_token", (role, url)
        return
    client = api(user, ApiToken.READ_WRITE)
    Response.objects.filter(participant=p, timepoint__code="6m").delete()
    r = _post(client, f"{BASE}participants/{p.study_id}/responses/",
              {"timepoint": "6m", "instrument": "odi",
               "answers": {f"q{i}": 1 for i in range(1, 11)}})
    assert r.status_code == 201, (role, r.content)
    raiser = role in roles.QUERY_RAISERS
    answerer = role in roles.QUERY_ANSWERERS
    r = _post(client, BASE + "queries/",
              {"participant": p.study_id, "value": "3m.odi.q5", "text": "Q5 unreadable."})
    assert (r.status_code, r.json().get("code")) == (
        (201, None) if raiser else (403, "role_may_not_raise")), role
    q = west_query.pk
    r = _post(client, f"{BASE}queries/{q}/answer/", {"text": "Checked: it is right."})
    assert (r.status_code, r.json().get("code")) == (
        (200, None) if answerer else (403, "role_may_not_answer")), role
    r = _post(client, f"{BASE}queries/{q}/close/", {"text": "Confirmed against the source."})
    assert (r.status_code, r.json().get("code")) == (
        (200, None) if raiser else (403, "role_may_not_close")), role
    if raiser:
        r = _post(client, f"{BASE}queries/{q}/reopen/", {"text": "A second form was found."})
        assert r.status_code == 200 and r.json()["state"] == "reopened", role
    r = _post(client, f"{BASE}queries/{q}/correct/", {"new_value": 2, "text": "Re-read."})
    assert (r.status_code, r.json().get("code")) == (
        (200, None) if answerer else (403, "role_may_not_answer")), (role, r.content)
