"""Individually randomised trials' allocation lists: a stored list per trial (concealed
from staff) and its slots, each taken by at most one participant. The write path is
:mod:`enrolment.randomisation_store`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .trial import Trial


class RandomisationList(models.Model):
    """A stored allocation sequence. Its slots are never shown by any view, admin page or
    export: an arm becomes visible only when it is revealed for an enrolled participant."""

    GENERATED = "generated"
    UPLOADED = "uploaded"
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="randomisation_lists")
    source = models.CharField(
        max_length=10, choices=[(GENERATED, _("Generated")), (UPLOADED, _("Uploaded"))]
    )
    strata_keys = models.JSONField(default=list)
    seed = models.BigIntegerField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trial"], condition=models.Q(active=True), name="one_active_list"
            )
        ]

    def __str__(self) -> str:
        return f"Randomisation list {self.pk} of {self.trial.code}"


class RandomisationSlot(models.Model):
    rlist = models.ForeignKey(RandomisationList, on_delete=models.PROTECT, related_name="slots")
    stratum = models.CharField(max_length=100)
    sequence = models.PositiveIntegerField()
    arm = models.SlugField()
    participant = models.OneToOneField(
        "Participant", null=True, blank=True, on_delete=models.PROTECT, related_name="slot"
    )
    revealed_at = models.DateTimeField(null=True, blank=True)
    revealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["rlist", "stratum", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["rlist", "stratum", "sequence"], name="unique_slot_sequence"
            )
        ]
        indexes = [models.Index(fields=["rlist", "stratum", "participant", "sequence"])]

    def __str__(self) -> str:
        # Never the arm: a slot printed in a log must not unmask the sequence.
        return f"Slot {self.stratum}#{self.sequence}"
