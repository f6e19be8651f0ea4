"""Participants and what is recorded of them at enrolment: the participant (study ID, clinic,
status), the personal details (the only place personal identifiers live), the screening
record of a patient who was asked, the consent at enrolment and the erasure of a
participant's personal data.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..national_id import age_on
from .audit import AuditedModel
from .trial import Clinic, Cluster, Trial


class ParticipantQuerySet(models.QuerySet):
    def visible_to(self, user) -> ParticipantQuerySet:
        """Only the participants this user may see (enrolment.permissions decides)."""
        from ..permissions import participant_filter

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
    # Asked nothing more: no follow-up contact, no questionnaire at a visit.
    NOT_ASKED = (WITHDRAWN, DIED)
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="participants")
    study_id = models.CharField(_("study ID"), max_length=20, unique=True)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="participants")
    sequence = models.PositiveIntegerField(_("sequence"), help_text=_("Number within the cluster"))
    enrolled_on = models.DateField(_("enrolled on"))
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    condition = models.SlugField(
        _("condition"), help_text=_("Allocated at enrolment; never changes.")
    )
    crossover_washout = models.BooleanField(
        _("crossover washout"),
        default=False,
        help_text=_("Enrolled in the two weeks around a crossover."),
    )
    stratum = models.CharField(_("stratum"), max_length=100, blank=True)
    late_enrolment_reason = models.TextField(
        _("late enrolment reason"),
        blank=True,
        help_text=_("Why the patient was enrolled after the recruitment period."),
    )
    final_visit_on = models.DateField(_("final visit on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=STATUSES, default=ACTIVE)
    FOLLOW_UP_ONLY = "follow_up"
    ALL_CONTACT = "all_contact"
    WITHDRAWAL_SCOPES = [
        (FOLLOW_UP_ONLY, _("From follow-up questionnaires (registry and clinical data kept)")),
        (ALL_CONTACT, _("From all further contact and data collection")),
    ]
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("withdrawal reason"), blank=True)
    withdrawal_scope = models.CharField(
        _("withdrawal scope"), max_length=12, choices=WITHDRAWAL_SCOPES, blank=True
    )
    # Who reported the death and how is the reason on the history row (enrolment.actions).
    died_on = models.DateField(_("died on"), null=True, blank=True)
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
    sex = models.CharField(_("sex"), max_length=8, choices=SEXES, blank=True)
    # IMPACt-LBP: at a clinic in the intervention condition the patient chooses a doctor of
    # chiropractic or a physical therapist as first-contact clinician; empty elsewhere.
    # Staff-facing only, like the condition it reveals.
    CLINICIAN_TYPES = [
        ("chiropractor", _("Chiropractor (doctor of chiropractic)")),
        ("physiotherapist", _("Physiotherapist (physical therapist)")),
    ]
    first_contact_clinician = models.CharField(
        _("first contact clinician"), max_length=16, choices=CLINICIAN_TYPES, blank=True
    )
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
    full_name = models.CharField(_("full name"), max_length=200)
    national_id = models.CharField(_("national ID"), max_length=20, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    email = models.EmailField(_("email"), blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=8)
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
        _("contact preference"), max_length=8, choices=CONTACT_PREFERENCES, default=BY_EMAIL
    )
    # Set when the identifiers were erased (enrolment.actions.erasure.erase_personal_data): the
    # row stays as a tombstone so the participant's research data keeps its study ID.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "personal details"
        # An SMS reply finds its sender by number (followup.sms.inbound): without the
        # index every reply scanned every participant's details.
        indexes = [models.Index(fields=["mobile"], name="personal_mobile_idx")]

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
