"""Tokens and clients for the API tests: a token made through the same function as the
token page, sent as ``Authorization: Bearer``."""

import pytest
from rest_framework.test import APIClient

from api import tokens
from api.models import ApiToken
from enrolment.models import Participant
from enrolment.protocol.writing import load_protocol
from tests.analysis.exportdata import make_trial_data
from tests.built_once import rolled_back
from tests.conftest import PROTOCOLS


def token_client(user, trial, scope=ApiToken.READ, days=30) -> APIClient:
    token, secret = tokens.create(user, trial, name="test", scope=scope, days=days)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.token = token
    client.secret = secret
    return client


@pytest.fixture(scope="module")
def _module_people(django_db_setup, django_db_blocker):
    """Built once for a module's tests (tests/built_once.py): two seconds a test else."""
    with rolled_back(django_db_blocker):
        trial, _ = load_protocol(PROTOCOLS / "betterback.toml")
        yield [p.pk for p in make_trial_data(trial)]


@pytest.fixture
def people(_module_people, betterback):
    """Four participants in each of three clinics (west MOT, central EKH, east NCE), every
    patient timepoint answered, free text naming the patient."""
    by_pk = Participant.objects.in_bulk(_module_people)
    return [by_pk[pk] for pk in _module_people]


@pytest.fixture
def api(betterback):
    """``api(user)`` or ``api(user, ApiToken.READ_WRITE)``: a client with a fresh token."""

    def make(user, scope=ApiToken.READ, trial=None, days=30):
        return token_client(user, trial or betterback, scope, days)

    return make
