"""Follow-up data: the contact schedule and the log of every message sent for it.

A :class:`Contact` is one questionnaire a respondent is due at one timepoint; its
``next_action_at`` is when the dispatcher must next look at it (send the invitation,
send a reminder, or mark it missed), so the due work is one indexed range scan.
A :class:`Message` is written before the provider is called and updated after
(see :mod:`followup.dispatch` for the delivery guarantee).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class OutboxMessage(models.Model):
    """A message the embedded installation 'sent': kept here instead of leaving the
    machine, so that staff can read what patients would have received."""

    EMAIL = "email"
    SMS = "sms"
    channel = models.CharField(max_length=10, choices=[(EMAIL, _("Email")), (SMS, _("SMS"))])
    recipient = models.CharField(max_length=300)  # personal data: shown only to allowed roles
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} {self.created:%Y-%m-%d %H:%M}: {self.subject or self.body[:40]}"


def new_nonce() -> str:
    return secrets.token_hex(16)


class Contact(models.Model):
    """One timepoint's questionnaires for one respondent (a participant, or a
    physiotherapist for the workshop timepoints)."""

    SCHEDULED = "scheduled"  # invitation not sent yet
    INVITED = "invited"  # invitation planned; reminders follow until answered
    COMPLETED = "completed"
    MISSED = "missed"  # the window closed unanswered
    CANCELLED = "cancelled"  # withdrawal, completion of the trial, death
    STATUSES = [
        (SCHEDULED, _("Scheduled")),
        (INVITED, _("Invited")),
        (COMPLETED, _("Answered")),
        (MISSED, _("Missed")),
        (CANCELLED, _("Cancelled")),
    ]
    OPEN = (SCHEDULED, INVITED)

    participant = models.ForeignKey(
        "enrolment.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
    )
    physiotherapist = models.ForeignKey(
        "enrolment.Physiotherapist",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
    )
    timepoint = models.ForeignKey(
        "enrolment.Timepoint", on_delete=models.PROTECT, related_name="contacts"
    )
    anchor_date = models.DateField(help_text=_("Enrolment or workshop date it was planned from"))
    due_on = models.DateField(help_text=_("Local date in the trial's time zone"))
    window_opens = models.DateField()
    window_closes = models.DateField()
    due_at = models.DateTimeField(help_text=_("When the invitation goes out (UTC)"))
    opens_at = models.DateTimeField(help_text=_("Start of the first day of the window (UTC)"))
    closes_at = models.DateTimeField(help_text=_("End of the last day of the window (UTC)"))
    status = models.CharField(max_length=10, choices=STATUSES, default=SCHEDULED)
    next_action_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    # Sequence of the next message of this contact: invitation and reminders share it, so
    # (contact, kind, sequence) stays unique across reschedules.
    messages_planned = models.PositiveSmallIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    # The link token is HMAC(SECRET_KEY, id + nonce); only its SHA-256 is stored.
    token_nonce = models.CharField(max_length=32, default=new_nonce)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["token_nonce", "token_hash"])

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "timepoint"],
                condition=Q(participant__isnull=False),
                name="one_contact_per_participant_timepoint",
            ),
            models.UniqueConstraint(
                fields=["physiotherapist", "timepoint"],
                condition=Q(physiotherapist__isnull=False),
                name="one_contact_per_physio_timepoint",
            ),
            models.CheckConstraint(
                condition=Q(participant__isnull=False) ^ Q(physiotherapist__isnull=False),
                name="contact_has_one_respondent",
            ),
        ]
        indexes = [
            # The dispatcher's scan: open contacts whose next action is due, read in
            # this order, so that LIMIT stops early instead of sorting every due row.
            models.Index(
                fields=["next_action_at", "id"],
                condition=Q(status__in=["scheduled", "invited"]),
                name="contact_due_idx",
            ),
            # The overdue list of a trial.
            models.Index(fields=["status", "timepoint"], name="contact_status_idx"),
        ]

    def __str__(self) -> str:
        who = self.participant_id and f"participant {self.participant_id}"
        return f"Contact {self.pk} ({who or f'physiotherapist {self.physiotherapist_id}'})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class Message(models.Model):
    """One message to one recipient, written before the provider is called."""

    INVITATION = "invitation"
    REMINDER = "reminder"
    KINDS = [(INVITATION, _("Invitation")), (REMINDER, _("Reminder"))]
    EMAIL = "email"
    SMS = "sms"
    CHANNELS = [(EMAIL, _("Email")), (SMS, _("SMS"))]
    PENDING = "pending"  # written, not yet handed to the provider
    SENDING = "sending"  # claimed by a dispatcher that is calling the provider
    SENT = "sent"  # the provider accepted it
    RETRY = "retry"  # failed, another attempt at next_attempt_at
    FAILED = "failed"  # given up: shown on the overdue list
    SKIPPED = "skipped"  # the contact closed before it went out
    STATUSES = [
        (PENDING, _("Pending")),
        (SENDING, _("Sending")),
        (SENT, _("Sent")),
        (RETRY, _("Retrying")),
        (FAILED, _("Failed")),
        (SKIPPED, _("Not needed")),
    ]

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=12, choices=KINDS)
    sequence = models.PositiveSmallIntegerField()
    idempotency_key = models.CharField(max_length=80, unique=True)
    channel = models.CharField(max_length=8, choices=CHANNELS, default=EMAIL)
    recipient = models.CharField(max_length=300, blank=True)  # personal data
    template = models.CharField(max_length=100)
    language = models.CharField(max_length=8)
    status = models.CharField(max_length=8, choices=STATUSES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            # The sender's scan: messages waiting for an attempt, in claim order.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status__in=["pending", "retry"]),
                name="message_waiting_idx",
            ),
            # Stale claims of a dispatcher that died while sending.
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="message_sending_idx"
            ),
            models.Index(fields=["claim"], name="message_claim_idx"),
        ]

    def __str__(self) -> str:
        # Never the recipient: a message printed in a log carries no personal data.
        return f"{self.kind} {self.sequence} of contact {self.contact_id}: {self.status}"
