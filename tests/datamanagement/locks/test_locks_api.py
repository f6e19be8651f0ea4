"""Every lock level against the API's two write paths, with the real locks (not a
stand-in guard): entering or changing a response (``submit_response``) and correcting a
value from a query (``correct_from_query``). Locked data answer 409 ``locked`` with the
lock's message and nothing changes; what the level does not cover is still written."""

from __future__ import annotations

import pytest

from api.models import ApiToken
from datamanagement.queries import actions
from questionnaires.instruments import get
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

from ...api.conftest import token_client
from ...questionnaires.engine_helpers import valid_answers
from .conftest import nrs_3m
from .test_locks import COVERS_NEW_FORMS, LEVELS, make_lock

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

BASE = "/api/v1/trials/betterback/"


@pytest.mark.parametrize("level", LEVELS)
def test_the_api_refuses_a_change_to_locked_data_with_409(level, participant, data_manager):
    make_lock(level, participant, data_manager)
    client = token_client(data_manager, participant.trial, ApiToken.READ_WRITE)
    url = f"{BASE}participants/{participant.study_id}/responses/"
    before = dict(nrs_3m(participant).answers)
    r = client.post(url, {"timepoint": "3m", "instrument": "nrs",
                          "answers": {**before, "back": 0 if before["back"] else 1},
                          "reason": "typo"}, format="json")
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "locked" and r.json()["detail"].startswith("Locked: ")
    assert nrs_3m(participant).answers == before

    # A new form of the 3-month visit: refused by every level that covers the visit.
    r = client.post(url, {"timepoint": "3m", "instrument": "eq5d3l",
                          "answers": valid_answers(get("eq5d3l"))}, format="json")
    made = Response.objects.filter(participant=participant, instrument="eq5d3l").exists()
    if level in COVERS_NEW_FORMS:
        assert r.status_code == 409 and not made
    else:
        assert r.status_code == 201 and made


@pytest.mark.parametrize("level", LEVELS)
def test_the_api_refuses_a_correction_from_a_query_on_locked_data(level, participant,
                                                                 data_manager, coordinator):
    query = actions.raise_query(participant, "3m.nrs.back", "Check the paper form.",
                                data_manager)
    make_lock(level, participant, data_manager)
    client = token_client(coordinator, participant.trial, ApiToken.READ_WRITE)
    before = dict(nrs_3m(participant).answers)
    r = client.post(f"{BASE}queries/{query.pk}/correct/",
                    {"new_value": 0 if before["back"] else 1, "text": "re-read"},
                    format="json")
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "locked"
    assert nrs_3m(participant).answers == before
    query.refresh_from_db()
    assert query.state == query.OPEN
