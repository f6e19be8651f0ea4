"""The nightly batch and a save's check run at the same moment, on PostgreSQL: both find
the same failing value with no query yet; one query and one "raised" message result, and
neither run fails (the unique constraint decides, the loser skips its insert)."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import connection

from datamanagement.queries import checks
from datamanagement.queries.models import Query, QueryMessage
from enrolment.models import Participant
from questionnaires.models import Response

from .conftest import answer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL: CI runs this against it")


def in_thread(fn):
    result = {}

    def target():
        try:
            result["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def test_two_runs_at_once_open_one_query(betterback, participant, monkeypatch):
    response = answer(participant, "baseline", "nrs", on=date(2017, 5, 3))
    # The value goes wrong behind the checks' back (as a bulk import would).
    Response.objects.filter(pk=response.pk).update(answers={"back": 0, "leg": 2})
    real = checks.evaluate

    def slow(*args, **kwargs):
        found = real(*args, **kwargs)
        time.sleep(1.0)  # both runs have read "no query yet" before either writes
        return found

    monkeypatch.setattr(checks, "evaluate", slow)
    ids = [Participant.objects.get(pk=participant.pk).pk]
    first, first_result = in_thread(lambda: checks.run_checks(betterback))
    second, second_result = in_thread(lambda: checks.run_checks(betterback, ids))
    first.join()
    second.join()
    assert "error" not in first_result and "error" not in second_result
    query = Query.objects.get(check_code="baseline-back-pain")
    assert query.state == Query.OPEN
    assert QueryMessage.objects.filter(query=query).count() == 1
