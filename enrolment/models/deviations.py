"""The protocol-deviation log: what kinds of deviation a protocol names, and each one
recorded for a participant; the write path is :mod:`enrolment.deviations`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .participants import Participant
from .trial import Trial


class DeviationType(models.Model):
    """A kind of deviation declared in the protocol file (``[[deviation_types]]``)."""

    EXCLUDED = "excluded"
    KEPT = "kept"
    JUDGED = "judged"
    PER_PROTOCOL = [
        (EXCLUDED, _("Excludes from the per-protocol set")),
        (KEPT, _("Does not exclude from the per-protocol set")),
        (JUDGED, _("Judged for each deviation")),
    ]
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="deviation_types")
    code = models.SlugField()
    label = models.CharField(max_length=200)
    per_protocol = models.CharField(max_length=10, choices=PER_PROTOCOL)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["trial", "order"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "code"], name="unique_deviation_type_code")
        ]

    def __str__(self) -> str:
        return self.label


class Deviation(AuditedModel):
    """One protocol deviation of one participant. The description is clinical free text:
    it is shown only to roles that see personal details and never exported."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="deviations"
    )
    type = models.ForeignKey(DeviationType, on_delete=models.PROTECT, related_name="deviations")
    occurred_on = models.DateField(_("occurred on"))
    description = models.TextField(_("description"))
    excludes_per_protocol = models.BooleanField(_("excludes per protocol"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant", "occurred_on", "id"]
        indexes = [models.Index(fields=["participant", "excludes_per_protocol"])]

    def __str__(self) -> str:
        return f"Deviation {self.pk} of {self.participant_id}: {self.type.code}"
