"""A participant's course through the trial after enrolment: withdrawal, death, a
cluster's crossover to the intervention, the final visit and completion, each a
status change with a reason and its domain signal.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from ..models import Cluster, Participant
from ..signals import participant_completed, participant_died, participant_withdrawn
from .changes import update_participant
from .errors import EnrolmentError


@transaction.atomic
def withdraw_participant(
    participant: Participant, on: date, reason: str, scope: str = Participant.ALL_CONTACT
) -> Participant:
    """Withdraw; the follow-up app cancels every future contact when it hears of it."""
    if participant.status == Participant.WITHDRAWN:
        raise EnrolmentError(f"{participant.study_id} is already withdrawn.")
    if not (reason or "").strip():
        raise EnrolmentError("A withdrawal needs a reason.")
    participant.status = Participant.WITHDRAWN
    participant.withdrawn_on = on
    participant.withdrawal_reason = reason.strip()
    participant.withdrawal_scope = scope
    participant.full_clean()
    # The history row keeps 100 characters; the whole reason is in withdrawal_reason.
    participant._change_reason = f"{N_('withdrawal')}: {reason.strip()}"[:100]
    participant.save()
    participant_withdrawn.send(Participant, participant=participant)
    return participant


@transaction.atomic
def record_death(participant: Participant, on: date, reason: str, today: date | None = None):
    """Record that a participant died; the follow-up app cancels every open contact
    when it hears of it, so no invitation or reminder reaches the family.

    ``reason`` says how the site learned of it (a relative's call, the registry): it is
    the history row's reason. Withdrawal data, if any, is kept."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.status == Participant.DIED:
        raise EnrolmentError(f"The death of {participant.study_id} is already recorded.")
    if not (reason or "").strip():
        raise EnrolmentError("Say how the death became known.")
    if on > (today or timezone.localdate()):
        raise EnrolmentError("The date of death cannot be in the future.")
    participant.status = Participant.DIED
    participant.died_on = on
    participant.full_clean()
    participant._change_reason = f"{N_('death recorded')}: {reason.strip()}"[:100]
    participant.save()
    participant_died.send(Participant, participant=participant)
    return participant


@transaction.atomic
def move_crossover(cluster: Cluster, new_date: date, reason: str, today: date) -> Cluster:
    """Set or move a cluster's crossover, only for the future and with a reason.

    Participants already enrolled keep their condition; only later enrolments follow
    the new date. A cluster that has already crossed over cannot be moved back."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if not cluster.trial.is_cluster_design:
        raise EnrolmentError("Only cluster designs have crossovers.")
    if new_date <= today:
        raise EnrolmentError("A crossover can only be set for the future.")
    if cluster.crossover is not None and cluster.crossover <= today:
        raise EnrolmentError(f"{cluster.name} crossed over on {cluster.crossover}: it stays.")
    if not (reason or "").strip():
        raise EnrolmentError("Say why the crossover moves.")
    cluster.crossover = new_date
    cluster._change_reason = reason.strip()
    cluster.save()
    return cluster


@transaction.atomic
def mark_final_visit(participant: Participant, on: date, reason: str = "") -> Participant:
    """Record the final clinical visit (the CRPE-tool's second timepoint)."""
    if participant.final_visit_on is None:
        participant.final_visit_on = on
        participant._change_reason = N_("final clinical visit recorded")
        participant.save()
        return participant
    update_participant(participant, {"final_visit_on": on}, reason)
    return participant


@transaction.atomic
def complete_participant(participant: Participant, reason: str) -> Participant:
    """The participant finished the trial: follow-up cancels what is still open when it
    hears of it (their answers stay)."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.status != Participant.ACTIVE:
        raise EnrolmentError(f"{participant.study_id} is not active ({participant.status}).")
    if not (reason or "").strip():
        raise EnrolmentError("Say why the participant's trial is complete.")
    participant.status = Participant.COMPLETED
    participant.full_clean()
    participant._change_reason = reason.strip()[:100]
    participant.save()
    participant_completed.send(Participant, participant=participant)
    return participant
