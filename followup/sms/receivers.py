"""Listeners to enrolment for SMS tracking: database writes only, in the sender's
transaction (enrolment never imports followup)."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.utils import timezone

from enrolment.actions import participant_enrolled
from enrolment.models import Participant

from . import tracking


def on_enrolled(sender, participant, **kwargs) -> None:
    tracking.plan_participant(participant)


def on_participant_saved(sender, instance, created, raw=False, **kwargs) -> None:
    # Withdrawal, death or completion: whatever the status, only active participants
    # are asked.
    if not created and not raw and instance.status != Participant.ACTIVE:
        tracking.cancel_participant(instance.pk, f"participant {instance.status}", timezone.now())


def connect() -> None:
    participant_enrolled.connect(on_enrolled, dispatch_uid="followup.sms.plan")
    post_save.connect(on_participant_saved, sender=Participant, dispatch_uid="followup.sms.stop")
