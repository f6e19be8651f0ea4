"""Listeners to enrolment's domain signals for SMS tracking (:mod:`enrolment.signals`):
database writes only, in the sender's transaction (enrolment never imports followup)."""

from __future__ import annotations

from django.utils import timezone

from enrolment.signals import (
    participant_completed,
    participant_died,
    participant_enrolled,
    participant_withdrawn,
)

from . import tracking


def on_enrolled(sender, participant, **kwargs) -> None:
    tracking.plan_participant(participant)


def on_stopped(sender, participant, **kwargs) -> None:
    # Withdrawal, death or completion: only active participants are asked.
    tracking.cancel_participant(participant.pk, f"participant {participant.status}", timezone.now())


def connect() -> None:
    participant_enrolled.connect(on_enrolled, dispatch_uid="followup.sms.plan")
    participant_withdrawn.connect(on_stopped, dispatch_uid="followup.sms.withdrawn")
    participant_died.connect(on_stopped, dispatch_uid="followup.sms.died")
    participant_completed.connect(on_stopped, dispatch_uid="followup.sms.completed")
