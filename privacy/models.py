"""The log of subject access: who produced which participant's data, when, in which form.

Erasures are recorded by enrolment (:class:`enrolment.models.Erasure`), next to the
personal details they erase."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SubjectAccess(models.Model):
    HTML = "html"
    JSON = "json"
    PDF = "pdf"
    FORMATS = [(HTML, _("Page")), (JSON, _("Machine-readable file (JSON)")), (PDF, _("PDF"))]

    participant = models.ForeignKey(
        "enrolment.Participant", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    format = models.CharField(max_length=4, choices=FORMATS)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "subject access log"

    def __str__(self) -> str:
        return f"{self.user} produced the data of participant {self.participant_id} ({self.format})"
