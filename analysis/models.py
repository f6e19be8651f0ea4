"""Exports, their log and jobs, blinding codes, registry imports and analysis runs.

Nothing here holds a personal identifier: registry rows are matched to a participant on
upload (by study ID, or by national ID through PersonalDetails) and stored by participant.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from enrolment.models import Participant, Trial

FORMATS = [("csv", "CSV"), ("sav", "SPSS .sav"), ("dta", "Stata .dta"), ("parquet", "Parquet")]
SHAPES = [("long", _("Long")), ("wide", _("Wide")), ("analysis", _("Analysis dataset"))]
# Files for other systems (api.odm): logged like the exports, never built as an export job.
EXCHANGE = "exchange"
EXCHANGE_FORMATS = [("odm", "CDISC ODM 1.3.2"), ("redcap", _("REDCap data dictionary"))]
LEVELS = [("score", _("Scores")), ("item", _("Items"))]


class BlindingCode(models.Model):
    """The code (A/B) that replaces an arm in blinded exports. Created at random on first
    use; only coordinators see the mapping."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="blinding_codes")
    arm = models.SlugField()
    code = models.CharField(max_length=4)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trial", "arm"], name="unique_blinded_arm"),
            models.UniqueConstraint(fields=["trial", "code"], name="unique_blinding_code"),
        ]

    def __str__(self) -> str:
        return f"Blinding code of {self.trial.code}"  # never the arm: logs must not unblind


class ExportLog(models.Model):
    """One export written, by whom and of what."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user_label = models.CharField(max_length=150, help_text=_("user name, or 'command line'"))
    created = models.DateTimeField(auto_now_add=True)
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="export_logs")
    format = models.CharField(max_length=10, choices=FORMATS + EXCHANGE_FORMATS)
    shape = models.CharField(max_length=10, choices=SHAPES + [(EXCHANGE, _("Exchange file"))])
    level = models.CharField(max_length=10, choices=LEVELS)
    blinded = models.BooleanField(default=False)
    rows = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=300)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user_label}: {self.trial.code} {self.shape}/{self.level} {self.format}"


JOB_STATUSES = [
    ("pending", _("Waiting")), ("running", _("Running")), ("done", _("Done")),
    ("failed", _("Failed")),
]


class ExportJob(models.Model):
    PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
    STATUSES = JOB_STATUSES
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="export_jobs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=10, choices=FORMATS)
    shape = models.CharField(max_length=10, choices=SHAPES)
    level = models.CharField(max_length=10, choices=LEVELS)
    blinded = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("percent"))
    path = models.CharField(max_length=500, blank=True, help_text=_("under VAR_DIR/exports"))
    codebook_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    log = models.ForeignKey(ExportLog, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Export job {self.pk} of {self.trial.code}: {self.status}"


class RegistryImport(models.Model):
    """One uploaded registry extract. A later import of the same trial replaces it:
    ``replaced_by`` and ``replaced_at`` record when and by which import."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="registry_imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    matched_on = models.CharField(max_length=20)
    active = models.BooleanField(default=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    replaced_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    # Study IDs of the rows left out: the participant did not consent to registry linkage.
    skipped_without_consent = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial"], condition=models.Q(active=True), name="one_active_registry_import"
            )
        ]

    def __str__(self) -> str:
        return f"Registry import {self.pk} of {self.trial.code}"


class RegistryUpload(models.Model):
    """One registry file being checked and imported by a Celery task, with progress.

    The file waits under VAR_DIR/registry/ only until the task has read it (it may hold
    national ID numbers). Of a file with errors the first ``MAX_SHOWN`` are kept, with
    the total, so a wrong file of a million rows does not become a million-line page."""

    PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
    STATUSES = [(s, s) for s in (PENDING, RUNNING, DONE, FAILED)]
    MAX_SHOWN = 200
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="registry_uploads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=300)
    path = models.CharField(max_length=500, blank=True, help_text=_("under VAR_DIR/registry"))
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("percent"))
    errors = models.JSONField(default=list, blank=True, help_text=_("the first [line, reason]"))
    error_count = models.PositiveIntegerField(default=0)
    registry_import = models.ForeignKey(
        RegistryImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Registry upload {self.pk} of {self.trial.code}: {self.status}"

    @property
    def errors_not_shown(self) -> int:
        return max(self.error_count - len(self.errors), 0)


class RegistryRecord(models.Model):
    """Health care use over the 12 months from baseline, per participant, from the
    regional registry. Field names are the protocol file's ``[prices]`` items."""

    registry_import = models.ForeignKey(
        RegistryImport, on_delete=models.CASCADE, related_name="records"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="registry_records"
    )
    lbp_visit_primary_care = models.PositiveIntegerField()
    multimodal_pain_team = models.PositiveIntegerField()
    specialist_pain_clinic_referral = models.PositiveIntegerField()
    orthopaedic_or_neurosurgical_visit = models.PositiveIntegerField()
    spine_surgery = models.PositiveIntegerField()
    sick_leave_day = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registry_import", "participant"], name="one_record_per_import"
            )
        ]

    def __str__(self) -> str:
        return f"Registry record of participant {self.participant_id}"


class AnalysisRun(models.Model):
    """One analysis of the plan run from the browser; its report lives under
    VAR_DIR/analysis/<pk>/ and is served only to the trial's analysis roles."""

    PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
    STATUSES = [(s, s) for s in (PENDING, RUNNING, DONE, FAILED)]
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="analysis_runs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    analysis = models.CharField(max_length=20)
    outcome = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    out_dir = models.CharField(max_length=500, blank=True)
    output = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Analysis {self.analysis} run {self.pk}: {self.status}"


# Imports declared by protocol files (their own module: analysis.import_models).
from .import_models import DataImport, ImportedRow  # noqa: E402, F401
