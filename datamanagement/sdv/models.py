from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class SourceVerification(models.Model):
    """The verification mark of one form (a final response), with the digest of the values
    verified: a change to any of them clears the mark (cleared_at, with the reason)."""

    response = models.OneToOneField(
        "questionnaires.Response", on_delete=models.CASCADE, related_name="+"
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"))
    values_sha256 = models.CharField(_("values SHA-256"), max_length=64)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_reason = models.TextField(_("cleared reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        app_label = "datamanagement"

    def __str__(self) -> str:
        return f"SDV of response {self.response_id}"

    @property
    def is_verified(self) -> bool:
        return self.cleared_at is None
