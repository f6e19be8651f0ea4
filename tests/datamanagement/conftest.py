from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from datamanagement.queries.checks import run_for_participant
from enrolment.models import TrialRole
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import save_answers
from tests.factories import enrol

from ..conftest import _role


def answer(participant, timepoint_code, code, answers=None, on=None, user=None):
    """A completed final response, saved through the one write path."""
    from tests.questionnaires.engine_helpers import valid_answers

    definition = get(code)
    response = save_answers(
        instrument=definition,
        timepoint=participant.trial.timepoints.get(code=timepoint_code),
        answers={**valid_answers(definition), **(answers or {})},
        complete=True,
        mode=Response.STAFF_PAPER,
        user=user,
        participant=participant,
    )
    if on is not None:
        # The day it was completed (the window checks read it): set as an import would.
        zone = ZoneInfo(participant.trial.time_zone)
        Response.objects.filter(pk=response.pk).update(
            completed_at=datetime.combine(on, time(12), zone)
        )
        response.refresh_from_db()
        run_for_participant(participant.pk)  # as the nightly batch would
    return response


@pytest.fixture
def monitor(betterback):
    return _role(betterback, TrialRole.MONITOR, "monitor")


@pytest.fixture
def participant(clinic_west):
    # 19800101-xxxx numbers: PersonalFactory's date of birth agrees with them.
    return enrol(clinic_west, enrolled_on=date(2017, 5, 2), national_id="19800101-0001")


@pytest.fixture
def odi_baseline(participant):
    return answer(participant, "baseline", "odi", on=date(2017, 5, 3))
