"""``Authorization: Bearer tsk_...``: the token's user, with the token as ``request.auth``.

Each refusal has its own code (token_missing is DRF's "not_authenticated"), so a script
can tell an expired token from a mistyped one.
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from . import tokens

# last_used_at is written at most this often per token: a streamed pull of thousands of
# pages must not become thousands of UPDATEs.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"bearer", b"token"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Give the token as 'Authorization: Bearer <token>'.", code="token_invalid"
            )
        try:
            secret = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Unreadable token.", "token_invalid") from exc
        token = tokens.find(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown token.", code="token_invalid")
        now = timezone.now()
        state = token.state(now)
        if state == "revoked":
            raise exceptions.AuthenticationFailed(
                "This token was revoked.", code="token_revoked"
            )
        if state == "expired":
            raise exceptions.AuthenticationFailed(
                f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC.",
                code="token_expired",
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(
                "The token's account is deactivated.", code="account_inactive"
            )
        if (
            token.last_used_at is None
            or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
