"""The contact schedule: a :class:`Contact` is one questionnaire a respondent is due at one
timepoint; its ``next_action_at`` is when the dispatcher must next look at it (send the
invitation, send a reminder, or mark it missed), so the due work is one indexed range
scan. ``new_nonce`` makes the secrets its links carry.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


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
