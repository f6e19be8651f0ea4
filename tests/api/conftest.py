"""Tokens and clients for the API tests: a token made through the same function as the
token page, sent as ``Authorization: Bearer``."""

import pytest
from rest_framework.test import APIClient

from api import tokens
from api.models import ApiToken
from tests.analysis.exportdata import make_trial_data


def token_client(user, trial, scope=ApiToken.READ, days=30) -> APIClient:
    token, secret = tokens.create(user, trial, name="test", scope=scope, days=days)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.token = token
    client.secret = secret
    return client


@pytest.fixture
def people(betterback):
    """Four participants in each of three clinics (west MOT, central EKH, east NCE), every
    patient timepoint answered, free text naming the patient."""
    return make_trial_data(betterback)


@pytest.fixture
def api(betterback):
    """``api(user)`` or ``api(user, ApiToken.READ_WRITE)``: a client with a fresh token."""

    def make(user, scope=ApiToken.READ, trial=None, days=30):
        return token_client(user, trial or betterback, scope, days)

    return make
