"""The implementation of a model of care and its process measures (BetterBack): the
physiotherapists' two-day workshop with attendance and diplomas, the SWOT analyses the
physiotherapists hold afterwards, and the patients selected for an interview.

Enrolment stays below: this app reads clusters, clinics, physiotherapists and
participants. Followup reads the workshop's days to plan the physiotherapists'
questionnaires (:func:`implementation.workshops.workshop_days`). Every row keeps an audit
history; the write paths are :mod:`implementation.workshops` and
:mod:`implementation.process`."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from enrolment.models import Clinic, Cluster, Participant, Physiotherapist


class Workshop(models.Model):
    """One delivery of the education and training workshop to a cluster's
    physiotherapists: two days (13.5 hours in BetterBack), run by facilitators."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="workshops")
    day1 = models.DateField(_("Day 1"))
    day2 = models.DateField(_("Day 2"))
    hours = models.DecimalField(_("Hours"), max_digits=4, decimal_places=1, default=Decimal("13.5"))
    facilitators = models.TextField(
        _("Facilitators"), help_text=_("The support team: researchers and clinical champions.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["day1", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day2__gte=models.F("day1")), name="workshop_day2_not_before_day1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cluster.code} {self.day1:%Y-%m-%d}"


class Attendance(models.Model):
    """A physiotherapist invited to a workshop: present on each day (unknown until
    recorded) and the CME diploma, issued to those who completed it."""

    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="attendances")
    # One workshop per physiotherapist: it anchors their own questionnaires.
    physiotherapist = models.OneToOneField(
        Physiotherapist, on_delete=models.PROTECT, related_name="workshop_attendance"
    )
    day1 = models.BooleanField(_("Present on day 1"), null=True, blank=True)
    day2 = models.BooleanField(_("Present on day 2"), null=True, blank=True)
    diploma_on = models.DateField(_("Diploma issued on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["workshop", "physiotherapist__study_code"]

    def __str__(self) -> str:
        return f"{self.physiotherapist} at {self.workshop}"


class SwotAnalysis(models.Model):
    """A SWOT analysis held by a clinic's physiotherapists (BetterBack: 3-6 months after
    implementation). The document is kept outside the web root
    (:func:`implementation.process.store_document`) and served only to the trial's staff."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="swot_analyses")
    held_on = models.DateField(_("Held on"))
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=100, unique=True)  # a random name under VAR_DIR
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"SWOT {self.clinic.code} {self.held_on:%Y-%m-%d}"


class Interview(models.Model):
    """A participant selected for a semi-structured interview: when they were asked,
    their answer, when they were interviewed. The interview itself is kept elsewhere."""

    YES, NO = "yes", "no"
    ANSWERS = [(YES, _("Consented")), (NO, _("Declined"))]
    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="interview"
    )
    selected_on = models.DateField(_("Selected on"))
    asked_on = models.DateField(_("Asked on"), null=True, blank=True)
    answer = models.CharField(_("Answer"), max_length=3, choices=ANSWERS, blank=True)
    answered_on = models.DateField(_("Answered on"), null=True, blank=True)
    interviewed_on = models.DateField(_("Interviewed on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["selected_on", "participant__study_id"]

    def __str__(self) -> str:
        return f"Interview {self.participant.study_id}"
