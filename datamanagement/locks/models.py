"""Locks, kept for good: unlocking stamps the row (who, when, why) and never deletes it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class LockQuerySet(models.QuerySet):
    def active(self):
        return self.filter(unlocked_at__isnull=True)


class Lock(models.Model):
    RESPONSE = "response"
    PARTICIPANT_TIMEPOINT = "participant_timepoint"
    PARTICIPANT = "participant"
    TIMEPOINT = "timepoint"
    TRIAL = "trial"
    LEVELS = [
        (RESPONSE, _("One form")),
        (PARTICIPANT_TIMEPOINT, _("One timepoint of one participant")),
        (PARTICIPANT, _("A whole participant")),
        (TIMEPOINT, _("A timepoint across the trial (freeze)")),
        (TRIAL, _("The whole trial (database lock)")),
    ]

    trial = models.ForeignKey("enrolment.Trial", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=24, choices=LEVELS)
    participant = models.ForeignKey(
        "enrolment.Participant", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    timepoint = models.ForeignKey(
        "enrolment.Timepoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    response = models.ForeignKey(
        "questionnaires.Response",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    locked_at = models.DateTimeField(_("locked at"))
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True)
    unlock_reason = models.TextField(_("unlock reason"), blank=True)
    history = HistoricalRecords()

    objects = LockQuerySet.as_manager()

    class Meta:
        app_label = "datamanagement"
        ordering = ["-locked_at", "-id"]
        indexes = [models.Index(fields=["trial", "unlocked_at"])]

    def __str__(self) -> str:
        return f"{self.get_level_display()}: {self.scope}"

    @property
    def is_active(self) -> bool:
        return self.unlocked_at is None

    @property
    def scope(self) -> str:
        """What is locked, in the trial's words (study ID, timepoint label in the page's
        language, form)."""
        if self.level == self.RESPONSE:
            r = self.response
            return f"{r.respondent_code} {_label(r.timepoint)} {r.instrument}"
        if self.level == self.PARTICIPANT_TIMEPOINT:
            return f"{self.participant.study_id} {_label(self.timepoint)}"
        if self.level == self.PARTICIPANT:
            return self.participant.study_id
        if self.level == self.TIMEPOINT:
            return f"{_label(self.timepoint)} ({self.trial.code})"
        return self.trial.code


class LockedDataset(models.Model):
    """The bundle produced at a database lock: the exports, the query log and the audit
    trail in one zip with a SHA-256 manifest."""

    lock = models.ForeignKey(Lock, on_delete=models.PROTECT, related_name="datasets")
    trial = models.ForeignKey("enrolment.Trial", on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=500)
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    manifest = models.JSONField(default=dict, blank=True)  # file name -> SHA-256
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "datamanagement"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name


def _label(timepoint) -> str:
    return timepoint.label_in((get_language() or "en").split("-")[0])
