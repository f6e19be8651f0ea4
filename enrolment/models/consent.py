"""Consent documents and each participant's consent history; the write path is
:mod:`enrolment.consent`.

The enrolment's :class:`~enrolment.models.Consent` row stays as it was (date and form
version at enrolment); every consent given or refused, the first one included, is a
:class:`ConsentRecord` with the document version and the answer to each optional item.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedModel
from .participants import Participant
from .trial import Trial


class ConsentPolicy(models.Model):
    """The trial's ``[consent]`` section: which version is required, whether data
    collection waits for re-consent, whether electronic consent is offered, and the
    optional items (code, effect, labels, answer when not asked)."""

    trial = models.OneToOneField(Trial, on_delete=models.CASCADE, related_name="consent_policy")
    required_version = models.CharField(max_length=40)
    hold_until_reconsent = models.BooleanField(default=False)
    electronic = models.BooleanField(default=False)
    items = models.JSONField(default=list)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Consent policy of {self.trial.code} (requires {self.required_version})"

    def item(self, code: str) -> dict | None:
        return next((i for i in self.items if i["code"] == code), None)


class ConsentDocument(models.Model):
    """One approved version of the consent form, with its text per language."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="consent_documents")
    version = models.CharField(max_length=40)
    approved_on = models.DateField()
    languages = models.JSONField(default=list)
    texts = models.JSONField(default=dict)
    items = models.JSONField(default=list, help_text=_("Codes of the optional items it asks"))
    reconsent = models.BooleanField(
        default=True, help_text=_("Participants who consented to an earlier version re-consent")
    )
    # "Which protocol version requires which consent version": a date, or a protocol
    # version number for the protocol-version history to connect.
    required_from_date = models.DateField(null=True, blank=True)
    required_from_protocol_version = models.PositiveIntegerField(null=True, blank=True)
    order = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial", "order"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "version"], name="unique_consent_version")
        ]

    def __str__(self) -> str:
        return f"{self.trial.code} consent {self.version}"

    def text_in(self, language: str) -> str:
        return self.texts.get(language) or next(iter(self.texts.values()), "")


class ConsentRecord(AuditedModel):
    """One consent event of one participant: the initial consent, a re-consent, or a
    refusal to re-consent (with what happens then)."""

    INITIAL = "initial"
    RECONSENT = "reconsent"
    REFUSAL = "refusal"
    KINDS = [
        (INITIAL, _("Consent at enrolment")),
        (RECONSENT, _("Re-consent")),
        (REFUSAL, _("Re-consent refused")),
    ]
    PAPER = "paper"
    ELECTRONIC = "electronic"
    METHODS = [(PAPER, _("Signed on paper")), (ELECTRONIC, _("Signed electronically"))]
    # What a refusal means for the participant.
    CONTINUE = "continue"
    OUTCOMES = [
        (CONTINUE, _("Continues under the consent already given")),
        (Participant.FOLLOW_UP_ONLY, _("Withdrawn from follow-up questionnaires")),
        (Participant.ALL_CONTACT, _("Withdrawn from all further contact and data collection")),
    ]

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="consent_records"
    )
    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="records"
    )
    version = models.CharField(_("version"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=KINDS)
    given_on = models.DateField(_("given on"))
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=METHODS, default=PAPER)
    refusal_outcome = models.CharField(
        _("refusal outcome"), max_length=12, choices=OUTCOMES, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant", "given_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version} of {self.participant}"


class ElectronicConsent(models.Model):
    """An electronic consent session: started by staff on the clinic's tablet or sent as
    a link, signed by the participant (typed name, each item ticked or not), kept as the
    PDF of exactly what was shown and answered, with its SHA-256; the consent counts once
    a coordinator has confirmed the signer's identity."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="electronic_consents"
    )
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8)
    kind = models.CharField(max_length=10, choices=ConsentRecord.KINDS)
    token_hash = models.CharField(max_length=64, unique=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    signed_name = models.CharField(max_length=200, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    record = models.OneToOneField(
        ConsentRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="electronic"
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Electronic consent {self.pk} of {self.participant}"
