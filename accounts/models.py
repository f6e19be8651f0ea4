"""The access log: who logged in, failed, was locked out, exported or downloaded what.

Rows carry user names and addresses, never participants' identifiers: a download is
named by its path and file name, which hold study IDs at most.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessEvent(models.Model):
    LOGIN = "login"  # the password was right (a code may still be asked: CODE_GIVEN)
    LOGIN_FAILED = "login_failed"
    LOCKED_OUT = "locked_out"
    LOGOUT = "logout"
    CODE_GIVEN = "code_given"
    CODE_FAILED = "code_failed"
    TWO_FACTOR_ENROLLED = "two_factor_enrolled"
    UNLOCKED = "unlocked"
    EXPORT = "export"
    DOWNLOAD = "download"
    INVITED = "invited"
    ROLE_CHANGED = "role_changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    PASSWORD_SET = "password_set"
    API_CALL = "api_call"
    API_TOKEN_CREATED = "api_token_created"
    API_TOKEN_REVOKED = "api_token_revoked"
    KINDS = [
        (LOGIN, _("Login")),
        (LOGIN_FAILED, _("Failed login")),
        (LOCKED_OUT, _("Locked out")),
        (LOGOUT, _("Logout")),
        (CODE_GIVEN, _("Two-factor code given")),
        (CODE_FAILED, _("Wrong two-factor code")),
        (TWO_FACTOR_ENROLLED, _("Two-factor authentication set up")),
        (UNLOCKED, _("Unlocked")),
        (EXPORT, _("Export")),
        (DOWNLOAD, _("Download")),
        (INVITED, _("Invited")),
        (ROLE_CHANGED, _("Role changed")),
        (DEACTIVATED, _("Deactivated")),
        (REACTIVATED, _("Reactivated")),
        (PASSWORD_SET, _("Password set")),
        (API_CALL, _("API call")),
        (API_TOKEN_CREATED, _("API token created")),
        (API_TOKEN_REVOKED, _("API token revoked")),
    ]

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=24, choices=KINDS, db_index=True)
    # The account concerned; kept as text too, so a failed login for a name that does
    # not exist, or a user deleted later, still reads.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    # Who did it, when someone acted on another's account (an invitation, an unlock).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"
