"""Making, finding and revoking personal API tokens (the one write path for ApiToken).

A secret is ``tsk_`` and 43 URL-safe characters (256 random bits); the database keeps
its SHA-256 only, so a copy of the database gives no working token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import access_log
from accounts.models import AccessEvent
from enrolment import permissions as roles

from .models import ApiToken

SECRET_PREFIX = "tsk_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(user, trial, *, name: str, scope: str, days: int, request=None) -> tuple[ApiToken, str]:
    """A new token and its secret (the only time the secret exists outside the caller)."""
    if not roles.roles_in(user, trial):
        raise ValidationError("You hold no role in this trial.", code="no_role")
    if scope == ApiToken.READ_WRITE and not roles.has_any(user, trial, roles.EDIT):
        raise ValidationError(
            "Your role may not enter data: make a read token.", code="role_may_not_write"
        )
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(
            f"A token lasts 1 to {settings.API_TOKEN_MAX_DAYS} days.", code="expiry"
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        trial=trial,
        name=name.strip()[:100],
        scope=scope,
        prefix=secret[:12],
        token_hash=digest(secret),
        expires_at=timezone.now() + timedelta(days=days),
    )
    access_log.record(AccessEvent.API_TOKEN_CREATED, request, user=user,
                      detail=f"{trial.code} {token.prefix} {scope} {name[:100]}")
    return token, secret


def revoke(token: ApiToken, request=None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        access_log.record(AccessEvent.API_TOKEN_REVOKED, request, user=token.user,
                          detail=f"{token.trial.code} {token.prefix} {token.name}")


def find(secret: str) -> ApiToken | None:
    if not secret.startswith(SECRET_PREFIX):
        return None
    return (
        ApiToken.objects.select_related("user", "trial")
        .filter(token_hash=digest(secret))
        .first()
    )
