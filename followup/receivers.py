"""Listeners to enrolment's domain signals (:mod:`enrolment.signals`): database writes
only, inside the sender's transaction. A plain ``save()`` of a participant or their
personal details is no event here: only what the actions say happened is reacted to."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.utils.translation import gettext_noop as N_

from enrolment.amendments import protocol_amended
from enrolment.models import Physiotherapist
from enrolment.signals import (
    contact_details_changed,
    enrolment_date_corrected,
    participant_completed,
    participant_died,
    participant_enrolled,
    participant_withdrawn,
    personal_data_erased,
)

from . import amendments, erasure, planning, reach


def on_enrolled(sender, participant, **kwargs) -> None:
    planning.plan_participant(participant)
    reach.refresh_reachability(participant)


def on_contact_details_changed(sender, participant, **kwargs) -> None:
    # A new address or a changed preference: the overdue list knows at once.
    reach.refresh_reachability(participant)


def on_withdrawn(sender, participant, **kwargs) -> None:
    reason = f"{N_('withdrawn')}: {participant.withdrawal_reason}".strip()
    planning.cancel_open_contacts(participant, reason)


def on_died(sender, participant, **kwargs) -> None:
    planning.cancel_open_contacts(participant, N_("died"))


def on_completed(sender, participant, **kwargs) -> None:
    planning.cancel_open_contacts(participant, N_("participant completed the trial"))


def on_enrolment_date_corrected(sender, participant, **kwargs) -> None:
    # The contacts not yet sent move with the corrected date.
    planning.replan_participant(participant, "enrolment date corrected")


def on_physiotherapist_saved(sender, instance, raw=False, **kwargs) -> None:
    # The workshop date anchors the physiotherapist's own questionnaires.
    if not raw and instance.workshop_date is not None and instance.active:
        planning.plan_physiotherapist(instance)


def connect() -> None:
    participant_enrolled.connect(on_enrolled, dispatch_uid="followup.plan")
    participant_withdrawn.connect(on_withdrawn, dispatch_uid="followup.cancel")
    participant_died.connect(on_died, dispatch_uid="followup.died")
    participant_completed.connect(on_completed, dispatch_uid="followup.done")
    enrolment_date_corrected.connect(on_enrolment_date_corrected, dispatch_uid="followup.replan")
    contact_details_changed.connect(on_contact_details_changed, dispatch_uid="followup.reach")
    personal_data_erased.connect(erasure.on_erased, dispatch_uid="followup.erased")
    protocol_amended.connect(amendments.on_protocol_amended, dispatch_uid="followup.amended")
    post_save.connect(
        on_physiotherapist_saved, sender=Physiotherapist, dispatch_uid="followup.workshop"
    )
