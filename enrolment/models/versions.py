"""Protocol versions: every load of a changed protocol file, numbered per trial, with the
file it came from, the amendment that approved it and what changed; the write path is
:mod:`enrolment.amendments`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .trial import Trial


class ProtocolVersion(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="protocol_versions")
    number = models.PositiveIntegerField()
    loaded_at = models.DateTimeField()
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    text = models.TextField(help_text=_("The protocol file exactly as it was loaded."))
    amendment = models.CharField(
        max_length=100, blank=True, help_text=_("The approval of the amendment, e.g. EPN 2017/123")
    )
    # The parsed protocol (sections and keys, dates as loaded) the next version is diffed
    # against, and the instrument definitions it used: {code: {"version", "fingerprint"}}.
    spec = models.JSONField(default=dict)
    instruments = models.JSONField(default=dict)
    # [{"section", "key", "change", "old", "new", "text"}] against the previous version.
    diff = models.JSONField(default=list)
    # What the load did to the schedule: [{"change", "participants", "contacts", ...}].
    consequences = models.JSONField(default=list)

    class Meta:
        ordering = ["trial", "number"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "number"], name="unique_protocol_version")
        ]

    def __str__(self) -> str:
        return f"{self.trial.code} protocol version {self.number}"

    @property
    def label(self) -> str:
        text = f"v{self.number} ({self.loaded_at:%Y-%m-%d})"
        return f"{text} {self.amendment}" if self.amendment else text
