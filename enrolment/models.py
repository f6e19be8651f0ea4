"""Trials, clusters, clinics, physiotherapists and participants.

Personal identifiers live only in :class:`PersonalDetails`; everything else carries the
study ID. Clinical records keep an audit history (django-simple-history) and a change to
a saved value needs a reason.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import allocation, guards
from .national_id import age_on


class ReasonRequired(ValidationError):
    """A saved clinical value was changed without saying why."""


class AuditedModel(models.Model):
    """A model whose saved values may only change with a reason.

    The reason goes into the history row (simple-history's ``history_change_reason``).
    Set it with ``obj._change_reason = "..."`` before ``save()``; the action functions
    in :mod:`enrolment.actions` do this for you.
    """

    audit_exempt_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        guards.check(self, "save")
        if self.pk is not None and not getattr(self, "_change_reason", None):
            saved = self._saved_values()
            changes = self.changed_fields(saved)
            if changes and self.needs_reason(saved):
                raise ReasonRequired(
                    _("A reason is required to change %(fields)s.")
                    % {"fields": ", ".join(sorted(changes))}
                )
        super().save(*args, **kwargs)
        # A reason covers one save: a stale one must not let a later change through.
        self._change_reason = None

    def delete(self, *args, **kwargs):
        guards.check(self, "delete")
        return super().delete(*args, **kwargs)

    def needs_reason(self, saved: dict | None) -> bool:
        """Whether a change to this saved row needs a reason; always, unless a model
        says otherwise (a response being answered page by page does not)."""
        return True

    def _saved_values(self) -> dict | None:
        if self.pk is None:
            return None
        return type(self)._default_manager.filter(pk=self.pk).values().first()

    def changed_fields(self, saved: dict | None = None) -> dict[str, tuple[object, object]]:
        """Field name -> (saved value, new value) for every audited field that differs."""
        if saved is None:
            saved = self._saved_values()
        if saved is None:
            return {}
        changes = {}
        for f in self._meta.concrete_fields:
            if f.primary_key or f.name in self.audit_exempt_fields:
                continue
            old, new = saved.get(f.attname), getattr(self, f.attname)
            if old != new:
                changes[f.name] = (old, new)
        return changes


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


class ParticipantQuerySet(models.QuerySet):
    def visible_to(self, user) -> ParticipantQuerySet:
        """Only the participants this user may see (enrolment.permissions decides)."""
        from .permissions import participant_filter

        return self.filter(participant_filter(user))


class Participant(AuditedModel):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"
    DIED = "died"
    STATUSES = [
        (ACTIVE, _("Active")),
        (WITHDRAWN, _("Withdrawn")),
        (COMPLETED, _("Completed")),
        (DIED, _("Died")),
    ]
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="participants")
    study_id = models.CharField(max_length=20, unique=True)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="participants")
    sequence = models.PositiveIntegerField(help_text=_("Number within the cluster"))
    enrolled_on = models.DateField()
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    condition = models.SlugField(help_text=_("Allocated at enrolment; never changes."))
    crossover_washout = models.BooleanField(
        default=False, help_text=_("Enrolled in the two weeks around a crossover.")
    )
    stratum = models.CharField(max_length=100, blank=True)
    late_enrolment_reason = models.TextField(
        blank=True, help_text=_("Why the patient was enrolled after the recruitment period.")
    )
    final_visit_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=ACTIVE)
    FOLLOW_UP_ONLY = "follow_up"
    ALL_CONTACT = "all_contact"
    WITHDRAWAL_SCOPES = [
        (FOLLOW_UP_ONLY, _("From follow-up questionnaires (registry and clinical data kept)")),
        (ALL_CONTACT, _("From all further contact and data collection")),
    ]
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    withdrawal_scope = models.CharField(max_length=12, choices=WITHDRAWAL_SCOPES, blank=True)
    # Who reported the death and how is the reason on the history row (enrolment.actions).
    died_on = models.DateField(null=True, blank=True)
    # The screening-log entry this participant was enrolled from, unique: the database
    # itself refuses a second participant from one screening (a double submit), whatever
    # path writes it. ScreeningRecord.participant links the other way for the log.
    enrolled_from = models.OneToOneField(
        "ScreeningRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    protocol_version = models.ForeignKey(
        "ProtocolVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Asked at enrolment where the protocol's [enrolment] section says so.
    SEXES = [("female", _("Female")), ("male", _("Male"))]
    sex = models.CharField(max_length=8, choices=SEXES, blank=True)
    # IMPACt-LBP: at a clinic in the intervention condition the patient chooses a doctor of
    # chiropractic or a physical therapist as first-contact clinician; empty elsewhere.
    # Staff-facing only, like the condition it reveals.
    CLINICIAN_TYPES = [
        ("chiropractor", _("Chiropractor (doctor of chiropractic)")),
        ("physiotherapist", _("Physiotherapist (physical therapist)")),
    ]
    first_contact_clinician = models.CharField(max_length=16, choices=CLINICIAN_TYPES, blank=True)
    history = HistoricalRecords()

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["study_id"]

    def __str__(self) -> str:
        return self.study_id

    def save(self, *args, **kwargs):
        if self.pk is not None:
            saved = Participant.objects.filter(pk=self.pk).values("condition").first()
            if saved and saved["condition"] != self.condition:
                # Invariant of the design, not a correction: a reason does not unlock it.
                raise ValidationError(_("The allocated condition never changes."))
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.status == self.WITHDRAWN and not (self.withdrawn_on and self.withdrawal_reason):
            raise ValidationError(_("A withdrawal needs a date and a reason."))
        if self.withdrawn_on and self.enrolled_on and self.withdrawn_on < self.enrolled_on:
            raise ValidationError({"withdrawn_on": _("Withdrawal precedes enrolment.")})
        if self.status == self.DIED and not self.died_on:
            raise ValidationError(_("A death needs a date."))
        if self.died_on and self.enrolled_on and self.died_on < self.enrolled_on:
            raise ValidationError({"died_on": _("The date of death precedes enrolment.")})

    @property
    def cluster(self) -> Cluster:
        return self.clinic.cluster


class PersonalDetails(AuditedModel):
    """Personal identifiers, kept apart from everything else and shown only to roles
    that need them (trialsite.roles.can_see_personal_details)."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="personal_details"
    )
    full_name = models.CharField(max_length=200)
    national_id = models.CharField(max_length=20, blank=True)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    mobile = models.CharField(max_length=20, blank=True)
    postal_address = models.TextField(blank=True)
    preferred_language = models.CharField(max_length=8)
    # How invitations and reminders go out first; the trial's fallback order takes over
    # when this channel fails for good (followup.reach). Not an identifier, but kept
    # beside the addresses it chooses between.
    BY_EMAIL, BY_SMS, BY_BOTH, BY_POST = "email", "sms", "both", "post"
    CONTACT_PREFERENCES = [
        (BY_EMAIL, _("Email")),
        (BY_SMS, _("SMS")),
        (BY_BOTH, _("Email and SMS")),
        (BY_POST, _("Post")),
    ]
    contact_preference = models.CharField(
        max_length=8, choices=CONTACT_PREFERENCES, default=BY_EMAIL
    )
    # Set when the identifiers were erased (enrolment.actions.erase_personal_data): the
    # row stays as a tombstone so the participant's research data keeps its study ID.
    erased_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "personal details"

    def __str__(self) -> str:
        return f"Personal details of {self.participant.study_id}"

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def age_on(self, day: date) -> int:
        return age_on(self.date_of_birth, day)


class ScreeningRecord(models.Model):
    """One consecutive patient screened, eligible or not: the CONSORT flow is built from
    these rows. No personal identifiers unless the patient is enrolled (then only the
    link to the participant, whose identifiers live in PersonalDetails)."""

    INELIGIBLE = "ineligible"
    ELIGIBLE = "eligible"  # screened eligible, not yet enrolled or declined
    DECLINED = "declined"
    ENROLLED = "enrolled"
    OUTCOMES = [
        (INELIGIBLE, _("Not eligible")),
        (ELIGIBLE, _("Eligible, awaiting consent")),
        (DECLINED, _("Eligible, declined")),
        (ENROLLED, _("Enrolled")),
    ]
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="screenings")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="screenings")
    screened_on = models.DateField()
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    answers = models.JSONField(default=dict, help_text=_("criterion code -> yes/no"))
    scores = models.JSONField(default=dict, blank=True)
    unmet_criteria = models.JSONField(default=list)
    outcome = models.CharField(max_length=12, choices=OUTCOMES)
    decline_reason = models.CharField(max_length=300, blank=True)
    participant = models.OneToOneField(
        "Participant", null=True, blank=True, on_delete=models.PROTECT, related_name="screening"
    )
    created = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-screened_on", "-id"]

    def __str__(self) -> str:
        return f"Screening {self.pk} at {self.clinic}: {self.outcome}"


class Consent(models.Model):
    participant = models.OneToOneField(
        "Participant", on_delete=models.CASCADE, related_name="consent"
    )
    consented_on = models.DateField()
    form_version = models.CharField(max_length=40)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Consent of {self.participant} ({self.form_version})"


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


class Erasure(models.Model):
    """The audit record of one erasure of a participant's personal data: who, when, why,
    and how many stored copies of identifiers were scrubbed where. It holds no identifier."""

    REQUEST = "request"  # the participant asked (GDPR art. 17)
    RETENTION = "retention"  # the trial's retention date passed
    SOURCES = [(REQUEST, _("The participant's request")), (RETENTION, _("Retention date passed"))]

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="erasure"
    )
    erased_at = models.DateTimeField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=10, choices=SOURCES)
    reason = models.CharField(max_length=300)
    # where -> number of rows scrubbed, e.g. {"personal_details_history": 3, "sms_sent": 12}
    scrubbed = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Erasure of the personal data of {self.participant}"


# Kept in their own module; imported here so that Django and `from .models import` find them.
from .consent_models import (  # noqa: E402, F401
    ConsentDocument,
    ConsentPolicy,
    ConsentRecord,
    ElectronicConsent,
)
from .deviation_models import Deviation, DeviationType  # noqa: E402, F401
from .version_models import ProtocolVersion  # noqa: E402, F401
