from __future__ import annotations

from django.conf import settings
from django.db import models


class Signature(models.Model):
    """Who signed what, when, with which meaning, and the SHA-256 of the values signed.

    Never changed after it is made: whether it still holds is computed on read by
    hashing the values again (:func:`datamanagement.signatures.services.is_broken`), so a
    change through any path, even one that bypasses ``save()``, breaks it."""

    trial = models.ForeignKey("enrolment.Trial", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "enrolment.Participant", on_delete=models.PROTECT, related_name="+"
    )
    # None: the whole casebook.
    timepoint = models.ForeignKey(
        "enrolment.Timepoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    meaning = models.TextField()
    values_sha256 = models.CharField(max_length=64)
    # The canonical JSON that was hashed: shows what changed when a signature breaks.
    values = models.JSONField(default=list)

    class Meta:
        app_label = "datamanagement"
        ordering = ["-signed_at", "-id"]

    def __str__(self) -> str:
        what = self.timepoint.label if self.timepoint_id else "casebook"
        return f"Signature of {self.participant.study_id} {what} by {self.signed_by}"
