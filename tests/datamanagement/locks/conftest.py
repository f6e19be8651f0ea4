"""Fixtures of the data-management tests: a monitor, an investigator (with a password, to
sign) and a BetterBack participant with completed baseline and 3-month forms."""

from __future__ import annotations

import pytest

from enrolment.models import Timepoint, TrialRole
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import save_answers

from ...conftest import _role
from ...factories import enrol
from ...questionnaires.engine_helpers import valid_answers

PASSWORD = "a long enough password 42"


@pytest.fixture
def monitor(betterback):
    return _role(betterback, TrialRole.MONITOR, "monitor")


@pytest.fixture
def investigator(betterback):
    user = _role(betterback, TrialRole.INVESTIGATOR, "investigator")
    user.set_password(PASSWORD)
    user.save()
    return user


def answer(participant, tp_code: str, code: str, answers: dict | None = None) -> Response:
    tp = Timepoint.objects.get(trial=participant.trial, code=tp_code)
    instrument = get(code)
    return save_answers(
        instrument=instrument,
        timepoint=tp,
        answers=answers if answers is not None else valid_answers(instrument),
        complete=True,
        mode=Response.STAFF_PAPER,
        participant=participant,
    )


@pytest.fixture
def participant(clinic_west, coordinator):
    p = enrol(clinic_west, user=coordinator, preferred_language="en")
    for code in ("nrs", "odi"):
        answer(p, "baseline", code)
        answer(p, "3m", code)
    return p


def nrs_3m(participant) -> Response:
    return Response.objects.get(participant=participant, timepoint__code="3m", instrument="nrs")
