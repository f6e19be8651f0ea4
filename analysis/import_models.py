"""Imports declared by a trial's protocol file (``[[imports]]``): per-participant (or
per-participant-and-week) data from outside the site, e.g. Danish registry extracts,
selfBACK app-usage summaries, IMPACt escalation of care. The columns, their types and
limits come from the protocol file (analysis.imports); rows are stored by participant,
never with a personal identifier, and every import is kept with who uploaded it, when,
the file's hash and which later import replaced it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from enrolment.models import Participant, Trial


class DataImport(models.Model):
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="data_imports")
    code = models.SlugField(help_text="the [[imports]] code of the protocol file")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    # The declaration the file was checked against (columns, types), as it was then.
    spec = models.JSONField(default=dict)
    active = models.BooleanField(default=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    replaced_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    skipped_without_consent = models.JSONField(default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "code"],
                condition=models.Q(active=True),
                name="one_active_data_import",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} import {self.pk} of {self.trial.code}"


class ImportedRow(models.Model):
    data_import = models.ForeignKey(DataImport, on_delete=models.CASCADE, related_name="records")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="imported_rows"
    )
    week = models.PositiveSmallIntegerField(null=True, blank=True)  # per-week imports
    line = models.PositiveIntegerField()
    values = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["data_import", "participant"],
                condition=models.Q(week__isnull=True),
                name="one_imported_row_per_participant",
            ),
            models.UniqueConstraint(
                fields=["data_import", "participant", "week"],
                condition=models.Q(week__isnull=False),
                name="one_imported_row_per_participant_week",
            ),
        ]

    def __str__(self) -> str:
        week = f" week {self.week}" if self.week is not None else ""
        return f"{self.data_import} line {self.line}{week}"
