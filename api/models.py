"""Personal API tokens: a user's key to the REST API for one trial.

Only the SHA-256 of the secret is stored; the secret is shown once, when it is made.
A token acts as its user, with that user's roles in its trial (checked at every call,
so a role removed or an account deactivated stops the token at once), narrowed by its
scope: read, or read and write.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    READ = "read"
    READ_WRITE = "read_write"
    SCOPES = [(READ, _("Read")), (READ_WRITE, _("Read and write"))]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    trial = models.ForeignKey(
        "enrolment.Trial", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=SCOPES, default=READ)
    # The first characters of the secret, to tell tokens apart in lists and logs.
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def may_write(self) -> bool:
        return self.scope == self.READ_WRITE

    def state(self, now=None) -> str:
        """"revoked", "expired" or "active"."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"
