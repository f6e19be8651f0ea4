"""An enrolment reads each row once: what the action has just read or written in its
transaction is not looked up again to validate it (a row's existence, a participant's
trial for the lock check), a fifth of an enrolment's queries, the coordinator's wait
at the enrol form and a quarter of the unit tests' time."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrolment.models import Consent, ConsentRecord, Participant, PersonalDetails
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

EXISTS = re.compile(r'^SELECT 1 AS "a" FROM "(\w+)" WHERE "\w+"\."id" = ')
TRIAL_OF = re.compile(r'^SELECT "enrolment_participant"\."trial_id" AS "trial_id" FROM')


def test_an_enrolment_does_not_ask_again_for_rows_it_holds(clinic_west):
    enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    with CaptureQueriesContext(connection) as ctx:
        p = enrol(clinic_west, enrolled_on=date(2017, 5, 3))
    sql = [q["sql"] for q in ctx.captured_queries]
    assert [EXISTS.match(s).group(1) for s in sql if EXISTS.match(s)] == []
    assert [s for s in sql if TRIAL_OF.match(s)] == []
    # All written, and audited, all the same.
    assert PersonalDetails.objects.filter(participant=p).exists()
    assert Consent.objects.filter(participant=p).exists()
    assert ConsentRecord.objects.filter(participant=p).exists()
    assert Participant.history.filter(id=p.pk).get().history_change_reason == "enrolment"
