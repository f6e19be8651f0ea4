"""Responses to instruments, and the official wording a trial loads per language.

A :class:`Response` keeps the instrument code and version it was answered on, so a later
version of a definition never changes what was answered or how it was scored. Every change
is in the audit history; once a response is completed a change needs a reason (staff
corrections, rescoring, double-entry resolution), as with :class:`enrolment.models.AuditedModel`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from enrolment.models import AuditedModel, Participant, Physiotherapist, Timepoint

from . import answered


class Response(AuditedModel):
    """One instrument answered at one timepoint by (or about) one respondent.

    ``participant`` is set for patient instruments and for clinician instruments about a
    patient (the CRPE-tool; the physiotherapist who filled it in is ``entered_by``);
    ``physiotherapist`` is set for a physiotherapist's own questionnaires. Exactly one.
    """

    PATIENT_ONLINE = "patient_online"
    STAFF_PAPER = "staff_paper"
    STAFF_CLINIC = "staff_clinic"
    PATIENT_SMS = "patient_sms"
    MODES = [
        (PATIENT_ONLINE, _("Patient online")),
        (PATIENT_SMS, _("Patient by SMS")),
        (STAFF_PAPER, _("Staff from paper")),
        (STAFF_CLINIC, _("Staff in clinic")),
    ]
    # Double data entry of a paper form: two independent entries, then the resolved final.
    FINAL = 0
    FIRST_ENTRY = 1
    SECOND_ENTRY = 2
    ENTRIES = [
        (FINAL, _("Final")),
        (FIRST_ENTRY, _("First paper entry")),
        (SECOND_ENTRY, _("Second paper entry")),
    ]

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="responses"
    )
    physiotherapist = models.ForeignKey(
        Physiotherapist, on_delete=models.PROTECT, null=True, blank=True, related_name="responses"
    )
    timepoint = models.ForeignKey(Timepoint, on_delete=models.PROTECT, related_name="responses")
    instrument = models.CharField(_("instrument"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"))
    entry = models.PositiveSmallIntegerField(_("entry"), choices=ENTRIES, default=FINAL)
    # Repeated measures within one timepoint (weekly SMS tracking): week since baseline.
    week = models.PositiveSmallIntegerField(_("week"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    # item id -> reason code (questionnaires.missing) for an item left unanswered with a
    # reason; such an item is absent from ``answers``.
    missing = models.JSONField(_("missing"), default=dict, blank=True)
    # Staff marked the whole questionnaire "not done": no answers, every item's reason the
    # one chosen (questionnaires.not_done). Keeps it apart from a form with every item
    # refused or lost one by one.
    not_done = models.BooleanField(_("not done"), default=False)
    mode = models.CharField(_("mode"), max_length=20, choices=MODES)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # Double data entry: item id -> {"first", "second", "final", "reason"} as resolved.
    resolution = models.JSONField(_("resolution"), default=dict, blank=True)
    # Every save stamps it: incremental pulls (the API's ``updated_since``) read it. A
    # bookkeeping time, not clinical data: no reason asked, no audit row of its own.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    # Required items left unanswered, one bit each (questionnaires.flags): derived from
    # the answers on every save, read by the monitoring's missing-items counts.
    unanswered = models.BigIntegerField(_("unanswered"), default=0, editable=False)
    # -1 completed before its timepoint's window opened, 1 after it closed, else 0
    # (questionnaires.flags: kept right on every save, date correction and amendment).
    outside_window = models.SmallIntegerField(_("outside window"), default=0, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at", "unanswered", "outside_window"])
    audit_exempt_fields = ("updated_at", "unanswered", "outside_window")

    class Meta:
        ordering = ["timepoint__order", "instrument", "entry"]
        constraints = [
            models.CheckConstraint(
                condition=Q(participant__isnull=False, physiotherapist__isnull=True)
                | Q(participant__isnull=True, physiotherapist__isnull=False),
                name="response_has_one_respondent",
            ),
            models.UniqueConstraint(
                fields=["participant", "timepoint", "instrument", "entry"],
                condition=Q(participant__isnull=False, week__isnull=True),
                name="unique_participant_response",
            ),
            models.UniqueConstraint(
                fields=["participant", "timepoint", "instrument", "entry", "week"],
                condition=Q(participant__isnull=False, week__isnull=False),
                name="unique_participant_week_response",
            ),
            models.UniqueConstraint(
                fields=["physiotherapist", "timepoint", "instrument", "entry"],
                condition=Q(physiotherapist__isnull=False),
                name="unique_physiotherapist_response",
            ),
        ]
        # The monitoring dashboard's queries (analysis.monitoring), each over the whole
        # trial: without these they read every response row (issue 19).
        indexes = [
            # Completed final answers by participant and timepoint, with what the CONSORT
            # flow, the missing-items and the window counts need: read from the index alone.
            models.Index(
                fields=["participant", "timepoint"],
                include=["completed_at", "instrument", "version", "unanswered", "outside_window"],
                condition=Q(entry=0, completed_at__isnull=False),
                name="response_completed_final_idx",
            ),
            # Completed finals answered outside their window (quality.out_of_window): the
            # few rows it counts, not every completed final.
            models.Index(
                fields=["timepoint", "outside_window"],
                include=["participant"],
                condition=Q(entry=0, completed_at__isnull=False) & ~Q(outside_window=0),
                name="response_outside_window_idx",
            ),
            # Paper entries awaiting resolution (unresolved_double_entries): a few rows.
            models.Index(
                fields=["participant", "timepoint", "instrument"],
                condition=Q(entry__in=[1, 2]),
                name="response_paper_entry_idx",
            ),
            # Finals with items missing for a reason (monitoring_missing.with_reasons).
            models.Index(
                fields=["participant"],
                condition=Q(entry=0, completed_at__isnull=False, missing__isnull=False)
                & ~Q(missing={}),
                name="response_missing_reason_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.respondent_code} {self.timepoint.code} {self.instrument} v{self.version}"

    @property
    def respondent_code(self) -> str:
        return self.participant.study_id if self.participant_id else self.physiotherapist.study_code

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # What counted as answered when read: a save compares with it
        # (questionnaires.answered) instead of reading the row again.
        instance._answered_before = answered.state_of(instance)
        return instance

    def save(self, *args, **kwargs):
        from .flags import (
            WINDOW_INPUTS,
            refresh_windows,
            required_of,
            unanswered_mask,
            window_inputs_in_hand,
            window_side,
        )

        self.unanswered = unanswered_mask(required_of(self.instrument, self.version), self.answers)
        fields = kwargs.get("update_fields")
        if fields is not None and "answers" in fields:
            kwargs["update_fields"] = {*fields, "unanswered"}
        counted = self.participant_id and self.entry == self.FINAL and self.completed_at
        window_changed = fields is None or bool(WINDOW_INPUTS & set(fields))
        in_hand = window_inputs_in_hand(self) if counted and window_changed else None
        if not counted:
            self.outside_window = 0
        elif in_hand is not None:
            # The survey's save already holds the participant and the timepoint: the flag
            # goes in the same write instead of an UPDATE after it (issue 19 item 4).
            self.outside_window = window_side(self.completed_at, *in_hand)
            if fields is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "outside_window"}
        super().save(*args, **kwargs)
        after = answered.state_of(self)
        answered.response_saved(getattr(self, "_answered_before", None), after, self.participant_id)
        self._answered_before = after
        if counted and window_changed and in_hand is None:
            # From the database: the participant's enrolment date and the timepoint's
            # window as they are stored now (questionnaires.flags).
            refresh_windows(Response.objects.filter(pk=self.pk), timepoint=self.timepoint)

    def definition(self):
        from .instruments import get

        return get(self.instrument, self.version)

    def needs_reason(self, saved: dict | None) -> bool:
        # Answering page by page changes a response freely; once it was completed, a
        # change needs a reason.
        return bool(saved) and saved["completed_at"] is not None


class AnsweredTimepoints(models.Model):
    """The timepoints at which a participant has a completed final response, kept by
    ``Response.save`` (questionnaires.answered) for the monitoring's CONSORT flow.
    Derived from the responses, which keep the audit trail: not audited itself."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Timepoint ids, ascending, comma-separated (questionnaires.answered.key).
    timepoints = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.timepoints}"


class InstrumentWording(models.Model):
    """The official (licensed) wording of an instrument in one language, loaded by a trial
    from a file (``manage.py load_wording``). Anything not given falls back to our
    paraphrase."""

    trial = models.ForeignKey("enrolment.Trial", on_delete=models.CASCADE, related_name="+")
    instrument = models.CharField(max_length=40)
    version = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=300, blank=True)
    instructions = models.TextField(blank=True)
    # item id -> text; item id -> [min label, max label]; item id -> {code: label}
    items = models.JSONField(default=dict, blank=True)
    anchors = models.JSONField(default=dict, blank=True)
    choices = models.JSONField(default=dict, blank=True)
    source_file = models.CharField(max_length=300, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "instrument", "version", "language"], name="unique_wording"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} v{self.version} ({self.language}) for {self.trial.code}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._wording_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._wording_changed()
        return result

    def _wording_changed(self) -> None:
        # Every process reads the trial's stamp with its next page and reads the
        # wording again (questionnaires.services.answers.wording_for).
        type(self.trial).objects.filter(pk=self.trial_id).update(wording_stamp=uuid.uuid4().hex)
