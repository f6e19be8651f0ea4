"""The token's trial and scope. Which rows a call sees is decided by the role querysets
(:mod:`trialsite.roles`), in the views; these only say whether the call may start."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from enrolment import permissions as roles

from .models import ApiToken


class TokenTrial(permissions.BasePermission):
    """A token whose user still holds a role in the token's trial; writes need a
    read-write token."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(
                "Give a token: 'Authorization: Bearer <token>'.", code="not_authenticated"
            )
        if not roles.roles_in(request.user, token.trial):
            raise exceptions.PermissionDenied(
                "The token's user no longer holds a role in its trial.", code="no_role"
            )
        if request.method not in permissions.SAFE_METHODS and not token.may_write:
            raise exceptions.PermissionDenied(
                "This token may only read; make a read-write token to enter data.",
                code="read_only_token",
            )
        return True
