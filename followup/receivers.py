"""Listeners to enrolment: database writes only, inside the sender's transaction."""

from __future__ import annotations

from django.db.models.signals import post_save

from enrolment.actions import (
    participant_died,
    participant_enrolled,
    participant_withdrawn,
    personal_data_erased,
)
from enrolment.amendments import protocol_amended
from enrolment.models import Participant, PersonalDetails, Physiotherapist

from . import amendments, erasure, planning, reach


def on_enrolled(sender, participant, **kwargs) -> None:
    planning.plan_participant(participant)
    reach.refresh_reachability(participant)


def on_personal_details_saved(sender, instance, created, raw=False, **kwargs) -> None:
    # A new address or a changed preference: the overdue list knows at once.
    if not created and not raw:
        reach.refresh_reachability(instance.participant)


def on_withdrawn(sender, participant, **kwargs) -> None:
    reason = f"withdrawn: {participant.withdrawal_reason}".strip()
    planning.cancel_open_contacts(participant, reason)


def on_died(sender, participant, **kwargs) -> None:
    planning.cancel_open_contacts(participant, "died")


def on_participant_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created or raw:
        return
    # Completion of the trial ends follow-up; withdrawal has its own signal.
    if instance.status == Participant.COMPLETED:
        planning.cancel_open_contacts(instance, "participant completed the trial")
    elif instance.status == Participant.ACTIVE:
        # A corrected enrolment date moves the contacts not yet sent.
        planning.replan_participant(instance, "enrolment date corrected")


def on_physiotherapist_saved(sender, instance, raw=False, **kwargs) -> None:
    # The workshop date anchors the physiotherapist's own questionnaires.
    if not raw and instance.workshop_date is not None and instance.active:
        planning.plan_physiotherapist(instance)


def connect() -> None:
    participant_enrolled.connect(on_enrolled, dispatch_uid="followup.plan")
    participant_withdrawn.connect(on_withdrawn, dispatch_uid="followup.cancel")
    participant_died.connect(on_died, dispatch_uid="followup.died")
    personal_data_erased.connect(erasure.on_erased, dispatch_uid="followup.erased")
    protocol_amended.connect(amendments.on_protocol_amended, dispatch_uid="followup.amended")
    post_save.connect(on_participant_saved, sender=Participant, dispatch_uid="followup.done")
    post_save.connect(
        on_personal_details_saved, sender=PersonalDetails, dispatch_uid="followup.reach"
    )
    post_save.connect(
        on_physiotherapist_saved, sender=Physiotherapist, dispatch_uid="followup.workshop"
    )
