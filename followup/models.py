"""Follow-up data: the contact schedule and the log of every message sent for it.

A :class:`Contact` is one questionnaire a respondent is due at one timepoint; its
``next_action_at`` is when the dispatcher must next look at it (send the invitation,
send a reminder, or mark it missed), so the due work is one indexed range scan.
A :class:`Message` is written before the provider is called and updated after
(see :mod:`followup.dispatch` for the delivery guarantee).
"""

from __future__ import annotations

import secrets

from django.conf import settings
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
    # The channel the contact's messages go by when it is not the participant's first
    # choice (a permanent failure moved it on), and why: shown to the coordinator.
    channel = models.CharField(max_length=8, blank=True)
    channel_note = models.CharField(max_length=200, blank=True)
    # The trial's quiet hours held the next step back (followup.reach): passed on to the
    # message planned at the next allowed time, for the message log's count.
    held_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    # The link token is HMAC(SECRET_KEY, id + nonce); only its SHA-256 is stored.
    token_nonce = models.CharField(max_length=32, default=new_nonce)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # The protocol version the contact was (last) planned under: an amendment re-plans
    # contacts not yet due and leaves those sent, answered or missed on theirs.
    protocol_version = models.ForeignKey(
        "enrolment.ProtocolVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
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
        pass

    def __str__(self) -> str:
        # Never the recipient: a message printed in a log carries no personal data.
        return f"{self.kind} {self.sequence} of contact {self.contact_id}: {self.status}"

    @property
    def mark_nonce(self) -> str:
        """Random per contact: tells this installation's sent marks from another's."""
        return self.contact.token_nonce


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
