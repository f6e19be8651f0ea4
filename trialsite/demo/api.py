"""The demo's API token: the statistician's read token for BetterBack, made once and
printed once with the build's summary (a token needs a second factor in the site, which
the demo's logins do not ask for)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from api import tokens
from api.models import ApiToken
from enrolment.models import Trial


def demo_api_token(trial: Trial, username: str = "statistician") -> dict[str, int]:
    user = get_user_model().objects.filter(username=username).first()
    if user is None or ApiToken.objects.filter(user=user, trial=trial).exists():
        return {}
    _, secret = tokens.create(user, trial, name="demo: R pull", scope=ApiToken.READ, days=30)
    return {f"API token of {username} for {trial.code} (read, 30 days): {secret}": 1}
