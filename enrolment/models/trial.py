"""A trial's structure as its protocol file describes it: the trial, its arms, clusters,
clinics and physiotherapists, the staff's roles in it, its timepoints, its weekly SMS
schedule and its eligibility criteria. Written by :mod:`enrolment.protocol.writing`.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .. import allocation


class Trial(models.Model):
    DESIGNS = [
        (allocation.CLUSTER_DOGLEG, _("Cluster randomised, dog-leg")),
        (allocation.CLUSTER_PARALLEL, _("Cluster randomised, parallel")),
        (allocation.INDIVIDUAL, _("Individually randomised")),
    ]
    code = models.SlugField(unique=True)
    study_id_prefix = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=300)
    registration = models.CharField(max_length=40, blank=True)
    design = models.CharField(max_length=20, choices=DESIGNS)
    time_zone = models.CharField(max_length=64)
    languages = models.JSONField(default=list)
    default_language = models.CharField(max_length=8)
    eq5d_value_set = models.CharField(max_length=8, blank=True)
    recruitment_start = models.DateField(null=True, blank=True)
    recruitment_end = models.DateField(null=True, blank=True)
    target_sample_size = models.PositiveIntegerField(null=True, blank=True)
    recruitment_target_per_cluster_month = models.PositiveIntegerField(null=True, blank=True)
    recruitment_ceiling_per_cluster_month = models.PositiveIntegerField(null=True, blank=True)
    washout_days = models.PositiveIntegerField(default=14)
    # Drawn anew at every change of the trial's loaded instrument wording
    # (questionnaires.InstrumentWording): the patient's pages keep the wording they read
    # by it (the trial comes with every page's first query anyway). Random rather than a
    # counter, so a rolled-back or restored database never repeats a stamp.
    wording_stamp = models.CharField(max_length=32, blank=True, editable=False)
    blinded = models.BooleanField(
        default=True,
        help_text=_(
            "Statisticians see neither a participant's condition nor free-text reasons in "
            "the site, and export blinded by default (protocol file: trial.blinded)"
        ),
    )
    randomisation = models.JSONField(
        default=dict, blank=True, help_text=_("strata, block sizes and ratio (individual designs)")
    )
    consent_form_version = models.CharField(max_length=40, blank=True)
    prices = models.JSONField(
        default=dict, blank=True, help_text=_("unit costs: currency, year, items")
    )
    sample_size = models.JSONField(
        default=dict, blank=True, help_text=_("the protocol's sample size inputs and result")
    )
    retention_until = models.DateField(
        null=True,
        blank=True,
        help_text=_(
            "Personal data is kept until this date; after it every participant's personal "
            "details must be erased (manage.py retention)."
        ),
    )
    monitor_sees_personal_details = models.BooleanField(
        default=False,
        help_text=_(
            "Monitors may see personal details (protocol file: "
            "trial.monitor_sees_personal_details); off, they read pseudonymised data only."
        ),
    )
    two_factor_required = models.BooleanField(
        default=True,
        help_text=_("Staff who may see personal details must log in with a second factor (TOTP)."),
    )
    # Edit checks from the protocol file, validated by enrolment.edit_checks; data
    # management runs them. Off-by-default weekly query digest to clinic staff.
    edit_checks = models.JSONField(default=list, blank=True)
    query_digest = models.BooleanField(
        default=False,
        help_text=_("Clinic staff get a weekly email of the queries waiting for them."),
    )
    # The protocol file's [paper] section (return address, scan replaces double entry).
    paper = models.JSONField(default=dict, blank=True)
    # The protocol file's [[instruments]]: {code: {"tags": [...], "items": {role: id}}}
    # (enrolment.tags).
    instrument_tags = models.JSONField(default=dict, blank=True)
    # How follow-up reaches participants (protocol file [contact]): the fallback order of
    # channels and the quiet hours (followup.reach reads it; defaults there).
    contact = models.JSONField(default=dict, blank=True)
    # The protocol file's [enrolment] section: what the enrol form asks beyond identity
    # and consent ({"sex": true, "first_contact_clinician": true}; enrolment.enrol_fields).
    enrolment_fields = models.JSONField(default=dict, blank=True)
    # The protocol file's [instrument_versions]: instrument code -> the version this trial
    # asks (unlisted: the latest). Stored answers keep the version they were answered on.
    instrument_versions = models.JSONField(default=dict, blank=True)
    # The protocol file's [[imports]] (enrolment.import_spec): data brought in per
    # participant, its columns and types; analysis.imports reads and validates by it.
    imports = models.JSONField(default=list, blank=True)
    protocol_file = models.CharField(max_length=300, blank=True)
    protocol_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @cached_property  # asked several times by one template
    def has_workshops(self) -> bool:
        """The protocol schedules physiotherapists around a workshop: the trial has the
        implementation records (workshops, SWOT analyses, interviews) and their exports."""
        return self.timepoints.filter(anchor=Timepoint.WORKSHOP).exists()

    @property
    def is_cluster_design(self) -> bool:
        return self.design in allocation.CLUSTER_DESIGNS


class Arm(models.Model):
    """A condition of the trial. Staff-facing only: patients never see it."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="arms")
    code = models.SlugField()
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["trial", "code"]
        constraints = [models.UniqueConstraint(fields=["trial", "code"], name="unique_arm")]

    def __str__(self) -> str:
        return self.label


class Cluster(models.Model):
    """A cluster of clinics (or, in an individually randomised trial, a site)."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="clusters")
    code = models.CharField(max_length=8)
    name = models.CharField(max_length=100)
    allocation_order = models.PositiveIntegerField()
    crossover = models.DateField(
        null=True,
        blank=True,
        help_text=_("First day in the intervention; empty if the cluster never crosses over."),
    )
    # The language its participants are asked in unless they choose another (selfBACK's
    # Norwegian site: nb); empty means the trial's default language.
    language = models.CharField(max_length=8, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial", "allocation_order"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "code"], name="unique_cluster_code"),
            models.UniqueConstraint(
                fields=["trial", "allocation_order"], name="unique_cluster_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def condition_on(self, day: date) -> str:
        return allocation.cluster_condition(self.crossover, day)


class Clinic(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="clinics")
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=200)
    planned_physiotherapists = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["cluster", "code"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "code"], name="unique_clinic_code")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def trial(self) -> Trial:
        return self.cluster.trial


class Physiotherapist(models.Model):
    """A user working at a clinic; also a respondent of the physiotherapist questionnaires."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="physiotherapist_at"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="physiotherapists")
    study_code = models.CharField(max_length=20, unique=True)
    active = models.BooleanField(default=True)
    workshop_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["study_code"]
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="unique_physio_at_clinic")
        ]

    def __str__(self) -> str:
        return self.study_code


class TrialRole(models.Model):
    """A staff member's role in one trial. Physiotherapists are :class:`Physiotherapist`."""

    COORDINATOR = "coordinator"
    DATA_MANAGER = "data_manager"
    STATISTICIAN = "statistician"
    ADMINISTRATOR = "administrator"
    MONITOR = "monitor"
    INVESTIGATOR = "investigator"
    CLINIC_MANAGER = "clinic_manager"
    ROLES = [
        (COORDINATOR, _("Coordinator")),
        (DATA_MANAGER, _("Data manager")),
        (STATISTICIAN, _("Statistician")),
        (ADMINISTRATOR, _("Administrator")),
        (MONITOR, _("Monitor")),
        (INVESTIGATOR, _("Investigator")),
        (CLINIC_MANAGER, _("Clinic manager")),
    ]
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trial_roles"
    )
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=ROLES)
    # A clinic manager's clinics (one role row, one or more clinics); empty for the others.
    clinics = models.ManyToManyField(Clinic, blank=True, related_name="managers")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "trial", "role"], name="unique_trial_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} in {self.trial.code}"


class Timepoint(models.Model):
    """When a respondent is asked which instruments, relative to an anchor date."""

    PATIENT = "patient"
    PHYSIOTHERAPIST = "physiotherapist"
    CLINICIAN = "clinician"
    RESPONDENTS = [
        (PATIENT, _("Patient")),
        (PHYSIOTHERAPIST, _("Physiotherapist")),
        (CLINICIAN, _("Clinician about a patient")),
    ]
    ENROLMENT = "enrolment"
    WORKSHOP = "workshop"
    EVENT = "event"  # answered when it happens (e.g. the final clinic visit)
    ANCHORS = [
        (ENROLMENT, _("Enrolment (baseline)")),
        (WORKSHOP, _("Physiotherapist workshop")),
        (EVENT, _("When the event happens")),
    ]
    UNITS = [("days", _("days")), ("weeks", _("weeks")), ("months", _("months"))]

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="timepoints")
    code = models.SlugField()
    label = models.CharField(max_length=100)  # staff pages, exports
    # Patient pages: the protocol file's label per language ({"sv": "6 månader", ...}).
    labels = models.JSONField(default=dict, blank=True)
    order = models.PositiveIntegerField()
    respondent = models.CharField(max_length=20, choices=RESPONDENTS)
    anchor = models.CharField(max_length=20, choices=ANCHORS)
    offset = models.IntegerField(default=0)
    unit = models.CharField(max_length=10, choices=UNITS, default="months")
    window_before_days = models.PositiveIntegerField(default=0)
    window_after_days = models.PositiveIntegerField(default=0)
    # Workshop timepoints: which day of the workshop anchors it (1 or 2) and the local
    # time it is answered (BetterBack: day 1 08:30 before, day 2 15:30 directly after).
    workshop_day = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.TimeField(null=True, blank=True)
    instruments = models.JSONField(default=list)
    tags = models.JSONField(default=list, blank=True)  # roles by name (enrolment.tags)
    # Set when an amendment added the timepoint: participants whose date for it had
    # passed by then were never asked it (followup.amendments), and the CONSORT flow
    # counts them apart (analysis.monitoring.consort).
    added_in = models.ForeignKey(
        "ProtocolVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set when an amendment dropped the timepoint but contacts still refer to it: it is
    # kept for them and planned for nobody (enrolment.amendments).
    removed_in = models.ForeignKey(
        "ProtocolVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The version that last changed the instrument list: contacts planned under an
    # earlier one ask their version's list (followup.amendments.instruments_for).
    instruments_since = models.ForeignKey(
        "ProtocolVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["trial", "respondent", "order"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "code"], name="unique_timepoint_code")
        ]

    def __str__(self) -> str:
        return f"{self.trial.code} {self.label}"

    def label_in(self, language: str) -> str:
        return self.labels.get(language) or self.label

    @property
    def staff_label(self) -> str:
        """The label in the language of the page being made (a Swedish coordinator reads
        "3 månader"); the English label where the protocol gives none in that language.
        Exports and files for the paper use :attr:`label`."""
        return self.label_in(get_language() or "")


class SmsSchedule(models.Model):
    """Weekly SMS tracking: which questions, when, for how long."""

    trial = models.OneToOneField(Trial, on_delete=models.CASCADE, related_name="sms_schedule")
    weeks = models.PositiveIntegerField()
    weekday = models.PositiveSmallIntegerField(help_text=_("0 = Monday ... 6 = Sunday"))
    send_time = models.TimeField(help_text=_("Local time in the trial's time zone"))
    reminder_after_hours = models.PositiveIntegerField(default=24)
    questions = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"SMS schedule of {self.trial.code}"

    def question_labels(self, language: str | None = None) -> dict[str, str]:
        """Question code -> its short label in ``language`` (the page's by default), else
        in English, else the code: what a coordinator reads for "pain" on the SMS page."""
        language = language or get_language() or ""
        labels = {}
        for q in self.questions:
            label = q.get("label") or {}
            labels[q["code"]] = label.get(language) or label.get("en") or q["code"]
        return labels


class EligibilityCriterion(models.Model):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="eligibility")
    code = models.SlugField()
    kind = models.CharField(
        max_length=10, choices=[(INCLUSION, _("Inclusion")), (EXCLUSION, _("Exclusion"))]
    )
    text = models.CharField(max_length=300)
    rule = models.JSONField(default=dict, blank=True)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["trial", "order"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "code"], name="unique_criterion_code")
        ]

    def __str__(self) -> str:
        return self.text
