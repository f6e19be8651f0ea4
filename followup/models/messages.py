"""Every email sent for a contact: :class:`Outgoing` (what every sent message records:
claim, status, provider id, error, duration), :class:`Message` (an invitation or a
reminder, written before the provider is called and updated after; see
:mod:`followup.dispatch` for the delivery guarantee) and :class:`OutboxMessage`, the
embedded installation's outbox kept instead of sending.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .contacts import Contact


class OutboxMessage(models.Model):
    """A message the embedded installation 'sent': kept here instead of leaving the
    machine, so that staff can read what patients would have received."""

    EMAIL = "email"
    SMS = "sms"
    channel = models.CharField(max_length=10, choices=[(EMAIL, _("Email")), (SMS, _("SMS"))])
    recipient = models.CharField(max_length=300)  # personal data: shown only to allowed roles
    subject = models.CharField(max_length=300, blank=True)
    # Stored with survey links replaced (followup.outbox): staff never read a live link.
    body = models.TextField()
    html_body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # What the message concerns, so that staff read their own trials' only; none: a
    # message about no trial, read by administrators only. A copy of a message, so it
    # goes with its participant.
    trial = models.ForeignKey(
        "enrolment.Trial", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    participant = models.ForeignKey(
        "enrolment.Participant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbox_messages",
    )

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["trial", "-created"], name="outbox_trial_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.created:%Y-%m-%d %H:%M}: {self.subject or self.body[:40]}"


class Outgoing(models.Model):
    """What every outgoing message carries for the dispatcher (:mod:`followup.dispatch`):
    written before the provider is called, claimed, sent once, its outcome recorded."""

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

    idempotency_key = models.CharField(max_length=80, unique=True)
    recipient = models.CharField(max_length=300, blank=True)  # personal data
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
    # When an attempt whose outcome is unknown began: the provider may have it. Written
    # before the provider call only when the shared cache cannot take the in-flight mark
    # (followup.dispatch), and kept after an attempt that ended without an answer (a
    # timeout); a dispatcher that claims the message asks the provider first.
    in_flight_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created", "-id"]
        indexes = [
            # The sender's scan: messages waiting for an attempt, in claim order.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status__in=["pending", "retry"]),
                name="%(class)s_waiting_idx",
            ),
            # Stale claims of a dispatcher that died while sending.
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="%(class)s_sending_idx"
            ),
            models.Index(fields=["claim"], name="%(class)s_claim_idx"),
        ]


class Message(Outgoing):
    """One invitation or reminder for one contact, by one channel.

    By post, "sent" means handed to the post tray: the pack is printed from the "post
    today" list (the paper app), and ``posted_at``/``posted_by`` record that it went out.
    """

    INVITATION = "invitation"
    REMINDER = "reminder"
    NEW_LINK = "new_link"  # sent by staff for a patient who needs one (followup.links)
    KINDS = [(INVITATION, _("Invitation")), (REMINDER, _("Reminder")), (NEW_LINK, _("New link"))]
    EMAIL = "email"
    SMS = "sms"
    POST = "post"
    CHANNELS = [(EMAIL, _("Email")), (SMS, _("SMS")), (POST, _("Post"))]

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=12, choices=KINDS)
    sequence = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=8, choices=CHANNELS, default=EMAIL)
    template = models.CharField(max_length=100)
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # When the trial's quiet hours first held this message (or its step) back: it went
    # out at the next allowed time instead. Counted on the message log.
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta(Outgoing.Meta):
        indexes = [
            *Outgoing.Meta.indexes,
            # Delivery reports of invitations sent by SMS find their message by the
            # gateway's id (followup.sms.reports): without it, a scan of every message.
            models.Index(
                fields=["provider_id"], condition=Q(channel="sms"), name="message_sms_provider_idx"
            ),
        ]

    def __str__(self) -> str:
        # Never the recipient: a message printed in a log carries no personal data.
        return f"{self.kind} {self.sequence} of contact {self.contact_id}: {self.status}"

    @property
    def mark_nonce(self) -> str:
        """Random per contact: tells this installation's sent marks from another's."""
        return self.contact.token_nonce
