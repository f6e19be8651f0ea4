"""Writes that touch clinical data go through these functions: validate, then write in
one transaction, with the user and the reason recorded in the audit history."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from . import allocation
from .models import Clinic, Cluster, Participant, PersonalDetails


class EnrolmentError(ValidationError):
    pass


def allocate(cluster: Cluster, enrolled_on: date) -> tuple[str, bool]:
    """(condition, in crossover washout) for a patient enrolled in ``cluster`` that day."""
    trial = cluster.trial
    if not trial.is_cluster_design:
        raise EnrolmentError(
            f"{trial.name} is individually randomised: allocation comes from its "
            "randomisation list, not from the cluster."
        )
    crossover = cluster.crossover
    return (
        allocation.cluster_condition(crossover, enrolled_on),
        allocation.in_crossover_washout(crossover, enrolled_on, trial.washout_days),
    )


@transaction.atomic
def enrol_participant(
    *,
    clinic: Clinic,
    enrolled_on: date,
    personal: dict,
    user=None,
    condition: str | None = None,
) -> Participant:
    """Create a participant with a new study ID and their personal details.

    In a cluster design the condition is the clinic's cluster's condition on the
    enrolment date; in an individually randomised design the caller passes the condition
    revealed by the randomisation list.
    """
    # Lock the cluster row: two enrolments at once never get the same number, and the
    # allocation reads the crossover date as it is now, not as a cached object had it.
    cluster = Cluster.objects.select_for_update().select_related("trial").get(pk=clinic.cluster_id)
    trial = cluster.trial
    if trial.is_cluster_design:
        if condition is not None:
            raise EnrolmentError("In a cluster design the condition comes from the cluster.")
        condition, washout = allocate(cluster, enrolled_on)
    else:
        if condition is None or not trial.arms.filter(code=condition).exists():
            raise EnrolmentError(f"Unknown condition {condition!r} for {trial.code}.")
        washout = False
    last = Participant.objects.filter(clinic__cluster=cluster).aggregate(n=Max("sequence"))["n"]
    sequence = (last or 0) + 1
    participant = Participant(
        trial=trial,
        clinic=clinic,
        sequence=sequence,
        study_id=allocation.study_id(trial.study_id_prefix, cluster.code, sequence),
        enrolled_on=enrolled_on,
        enrolled_by=user,
        condition=condition,
        crossover_washout=washout,
    )
    participant.full_clean()
    participant._change_reason = "enrolment"
    participant.save()
    details = PersonalDetails(participant=participant, **personal)
    details.preferred_language = details.preferred_language or trial.default_language
    details.full_clean()
    details._change_reason = "enrolment"
    details.save()
    return participant


EDITABLE_PARTICIPANT_FIELDS = ("clinic", "enrolled_on")
EDITABLE_PERSONAL_FIELDS = (
    "full_name",
    "national_id",
    "date_of_birth",
    "email",
    "mobile",
    "preferred_language",
)


def _apply(obj, changes: dict, allowed: tuple[str, ...], reason: str) -> list[str]:
    not_allowed = set(changes) - set(allowed)
    if not_allowed:
        raise EnrolmentError(f"These fields cannot be changed here: {sorted(not_allowed)}")
    changed = [k for k, v in changes.items() if getattr(obj, k) != v]
    if not changed:
        return []
    if not (reason or "").strip():
        raise EnrolmentError("A reason is required to change a saved value.")
    for k in changed:
        setattr(obj, k, changes[k])
    obj.full_clean()
    obj._change_reason = reason.strip()
    obj.save()
    return changed


@transaction.atomic
def update_participant(participant: Participant, changes: dict, reason: str) -> list[str]:
    """Correct enrolment data. Moving a participant never moves their condition."""
    if "clinic" in changes and changes["clinic"].cluster.trial_id != participant.trial_id:
        raise EnrolmentError("A participant cannot move to another trial's clinic.")
    return _apply(participant, changes, EDITABLE_PARTICIPANT_FIELDS, reason)


@transaction.atomic
def update_personal_details(details: PersonalDetails, changes: dict, reason: str) -> list[str]:
    return _apply(details, changes, EDITABLE_PERSONAL_FIELDS, reason)


@transaction.atomic
def withdraw_participant(participant: Participant, on: date, reason: str) -> Participant:
    if participant.status == Participant.WITHDRAWN:
        raise EnrolmentError(f"{participant.study_id} is already withdrawn.")
    if not (reason or "").strip():
        raise EnrolmentError("A withdrawal needs a reason.")
    participant.status = Participant.WITHDRAWN
    participant.withdrawn_on = on
    participant.withdrawal_reason = reason.strip()
    participant.full_clean()
    participant._change_reason = f"withdrawal: {reason.strip()}"
    participant.save()
    return participant
