"""The weekly SMS questions: each prompt due to a participant, the numbers that opted out,
every SMS sent (an :class:`~followup.models.messages.Outgoing`), every reply received and
the gateway's delivery reports.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .contacts import new_nonce
from .messages import Outgoing

# --- weekly SMS tracking ---------------------------------------------------------------


class SmsPrompt(models.Model):
    """One question of one week's SMS tracking to one participant.

    The first question of a week is planned at enrolment for its local send time; each
    further question is planned when the one before it is answered (one at a time). A
    question stays open for replies until the participant's next question goes out, and
    its answer may be replaced by a second reply until then (audited in its history).
    """

    SCHEDULED = "scheduled"  # not sent yet
    SENT = "sent"  # waiting for a reply
    ANSWERED = "answered"
    EXPIRED = "expired"  # the next week's question went out unanswered
    CANCELLED = "cancelled"  # opted out, withdrawn, died, completed
    FAILED = "failed"  # the question could not be delivered
    SKIPPED = "skipped"  # too late for the trial's quiet hours, skipped by its rule
    STATUSES = [
        (SCHEDULED, _("Scheduled")),
        (SENT, _("Sent")),
        (ANSWERED, _("Answered")),
        (EXPIRED, _("Not answered")),
        (CANCELLED, _("Cancelled")),
        (FAILED, _("Failed")),
        (SKIPPED, _("Skipped (quiet hours)")),
    ]
    OPEN = (SCHEDULED, SENT)

    participant = models.ForeignKey(
        "enrolment.Participant", on_delete=models.PROTECT, related_name="sms_prompts"
    )
    week = models.PositiveSmallIntegerField(help_text=_("Week number since baseline (1 = first)"))
    question = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField(help_text=_("0 = first question of the week"))
    status = models.CharField(max_length=10, choices=STATUSES, default=SCHEDULED)
    due_at = models.DateTimeField()
    next_action_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    clarified_at = models.DateTimeField(null=True, blank=True)
    # Held back by the trial's quiet hours (followup.reach): counted on the SMS page.
    held_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    value = models.SmallIntegerField(null=True, blank=True)
    reply = models.ForeignKey(
        "InboundSms", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["participant", "week", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "week", "question"], name="one_sms_prompt_per_week"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_action_at", "id"],
                condition=Q(status__in=["scheduled", "sent"]),
                name="sms_prompt_due_idx",
            ),
            models.Index(fields=["participant", "status"], name="sms_prompt_open_idx"),
        ]

    def __str__(self) -> str:
        return f"SMS {self.question} week {self.week} of participant {self.participant_id}"


class SmsOptOut(models.Model):
    """The participant asked for no more SMS (STOP): nothing more is sent but the one
    confirmation."""

    participant = models.OneToOneField(
        "enrolment.Participant", on_delete=models.PROTECT, related_name="sms_opt_out"
    )
    at = models.DateTimeField()
    source = models.CharField(max_length=20)  # "reply", "provider", "staff"
    reply = models.ForeignKey(
        "InboundSms", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    coordinator_notified_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"SMS opt-out of participant {self.participant_id}"


class SmsMessage(Outgoing):
    """One outgoing SMS, sent by the same dispatcher machinery as :class:`Message`."""

    QUESTION = "question"
    REMINDER = "reminder"
    CLARIFICATION = "clarification"
    STOP_CONFIRMATION = "stop_confirmation"
    KINDS = [
        (QUESTION, _("Question")),
        (REMINDER, _("Reminder")),
        (CLARIFICATION, _("Clarification")),
        (STOP_CONFIRMATION, _("Stop confirmation")),
    ]

    participant = models.ForeignKey(
        "enrolment.Participant", on_delete=models.PROTECT, related_name="sms_messages"
    )
    prompt = models.ForeignKey(
        SmsPrompt, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    kind = models.CharField(max_length=20, choices=KINDS)
    body = models.TextField()
    provider_status = models.CharField(max_length=20, blank=True)
    # Tells this installation's sent marks (followup.dispatch) from another's.
    mark_nonce = models.CharField(max_length=32, default=new_nonce)

    class Meta(Outgoing.Meta):
        indexes = [
            *Outgoing.Meta.indexes,
            # Delivery reports find their message by the gateway's id.
            models.Index(fields=["provider_id"], name="sms_provider_idx"),
        ]

    def __str__(self) -> str:
        return f"SMS {self.kind} to participant {self.participant_id}: {self.status}"


class InboundSms(models.Model):
    """A reply as the gateway delivered it, stored before it is interpreted, so that a
    reply is never lost when interpretation fails. The same provider message id is
    stored once, however often the gateway delivers it."""

    PENDING = "pending"  # stored, not interpreted yet (or interpretation failed)
    ANSWER = "answer"
    REPLACED = "replaced"  # a second answer that replaced the first
    UNCLEAR = "unclear"
    STOP = "stop"
    NO_QUESTION = "no_question"  # from a participant with nothing open
    UNKNOWN_SENDER = "unknown"  # no active participant: sender and text erased
    OUTCOMES = [
        (PENDING, _("Not interpreted yet")),
        (ANSWER, _("Answer")),
        (REPLACED, _("Replacing answer")),
        (UNCLEAR, _("Unclear")),
        (STOP, _("Stop")),
        (NO_QUESTION, _("No open question")),
        (UNKNOWN_SENDER, _("Unknown sender")),
    ]

    provider_id = models.CharField(max_length=64, unique=True)
    sender = models.CharField(max_length=32, blank=True)  # personal data
    body = models.TextField(blank=True)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=OUTCOMES, default=PENDING)
    reason = models.CharField(max_length=40, blank=True)
    participant = models.ForeignKey(
        "enrolment.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sms_replies",
    )
    prompt = models.ForeignKey(
        SmsPrompt, on_delete=models.PROTECT, null=True, blank=True, related_name="replies"
    )
    value = models.SmallIntegerField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["received_at"], condition=Q(outcome="pending"), name="inbound_pending_idx"
            )
        ]

    def __str__(self) -> str:
        return f"Inbound SMS {self.pk}: {self.outcome}"


class SmsStatusCallback(models.Model):
    """A delivery report as the gateway sent it. Kept, and applied to its message once
    the message's provider id is recorded: a report can arrive before the dispatcher
    has written the outcome of the batch that sent it."""

    provider_id = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=20)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    received_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(
                fields=["received_at"], condition=Q(applied_at=None), name="sms_status_pending_idx"
            )
        ]

    def __str__(self) -> str:
        return f"Delivery report {self.status} for {self.provider_id}"
