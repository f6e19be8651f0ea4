"""Personal tokens: made in the site with a second factor, shown once, stored as a hash,
refused when expired, revoked, unknown, for another trial or over the rate limit."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccessEvent
from api.models import ApiToken
from enrolment.models import TrialRole
from enrolment.protocol.writing import load_protocol
from tests.conftest import PROTOCOLS, use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

BASE = "/api/v1/trials/betterback/"


def test_made_in_the_site_shown_once_and_stored_only_as_a_hash(client, statistician,
                                                                 betterback):
    client.force_login(statistician)
    assert client.get("/api/tokens/").status_code == 200
    r = client.post("/api/tokens/", {"trial": betterback.pk, "name": "weekly R pull",
                                     "scope": ApiToken.READ, "days": 30})
    assert r.status_code == 200
    secret = re.search(r'id="new-token">(tsk_[\w-]+)<', r.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.values().get())  # only its hash is kept
    assert token.name == "weekly R pull" and token.user == statistician
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert secret not in client.get("/api/tokens/").content.decode()  # shown once
    assert AccessEvent.objects.filter(kind=AccessEvent.API_TOKEN_CREATED,
                                      user=statistician).exists()
    api = APIClient()
    r = api.get(BASE, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.status_code == 200


def test_a_token_needs_a_second_factor_in_the_session(unverified_client, statistician,
                                                      betterback):
    unverified_client.force_login(statistician)
    r = unverified_client.post("/api/tokens/", {"trial": betterback.pk, "name": "x",
                                                "scope": ApiToken.READ, "days": 30})
    assert r.status_code == 302
    assert not ApiToken.objects.exists()


def test_read_write_only_for_roles_that_enter_data_and_expiry_bounded(client, statistician,
                                                                       betterback):
    client.force_login(statistician)
    r = client.post("/api/tokens/", {"trial": betterback.pk, "name": "x",
                                     "scope": ApiToken.READ_WRITE, "days": 30})
    assert "may not enter data" in r.content.decode()
    r = client.post("/api/tokens/", {"trial": betterback.pk, "name": "x",
                                     "scope": ApiToken.READ, "days": 5000})
    assert r.status_code == 200 and "tsk_" not in r.content.decode()
    assert not ApiToken.objects.exists()


def test_revoked_in_the_site_then_refused(client, api, coordinator, data_manager):
    c = api(coordinator)
    other = api(data_manager)
    client.force_login(coordinator)
    # Someone else's token is not theirs to revoke.
    assert client.post(f"/api/tokens/{other.token.pk}/revoke/").status_code == 404
    r = client.post(f"/api/tokens/{c.token.pk}/revoke/")
    assert r.status_code == 302
    r = c.get(BASE)
    assert r.status_code == 401
    assert r.json() == {"code": "token_revoked", "detail": "This token was revoked."}
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert other.get(BASE).status_code == 200


def test_expired_unknown_and_missing_tokens_are_refused(api, coordinator):
    c = api(coordinator)
    ApiToken.objects.filter(pk=c.token.pk).update(expires_at=timezone.now())
    r = c.get(BASE)
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    r = APIClient().get(BASE, HTTP_AUTHORIZATION="Bearer tsk_" + "x" * 43)
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    r = APIClient().get(BASE)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    r = APIClient().get(BASE, HTTP_AUTHORIZATION="Bearer")
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


def test_a_deactivated_account_or_a_removed_role_stops_the_token(api, coordinator,
                                                                 data_manager):
    c = api(coordinator)
    coordinator.is_active = False
    coordinator.save()
    r = c.get(BASE)
    assert r.status_code == 401 and r.json()["code"] == "account_inactive"
    d = api(data_manager)
    TrialRole.objects.filter(user=data_manager).delete()
    r = d.get(BASE)
    assert r.status_code == 403 and r.json()["code"] == "no_role"


def test_a_token_is_bound_to_its_trial(api, coordinator, betterback):
    load_protocol(PROTOCOLS / "safe.toml")
    r = api(coordinator).get("/api/v1/trials/safe/")
    assert r.status_code == 403
    assert r.json() == {"code": "wrong_trial", "detail": "This token is for trial betterback."}


def test_rate_limited_per_token(api, coordinator, settings):
    settings.API_THROTTLE_RATE = "3/min"
    c, other = api(coordinator), api(coordinator)
    assert [c.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    r = c.get("/api/v1/me/")
    assert r.status_code == 429
    assert r.json()["code"] == "throttled" and "available in" in r.json()["detail"]
    assert int(r["Retry-After"]) > 0
    assert other.get("/api/v1/me/").status_code == 200  # counted per token
