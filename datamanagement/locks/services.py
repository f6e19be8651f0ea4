"""Locking and unlocking: one write path for :class:`~.models.Lock`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from enrolment import permissions as roles

from .models import Lock

LOCKERS = roles.LOCKERS


def may_lock(user, trial) -> bool:
    return roles.has_any(user, trial, LOCKERS)


def _require(user, trial) -> None:
    if user is not None and not may_lock(user, trial):
        raise PermissionDenied


@transaction.atomic
def lock(level: str, *, trial, user=None, participant=None, timepoint=None, response=None,
         reason: str = "") -> Lock:
    """Lock one thing; an active lock of the same thing is returned, not doubled."""
    _require(user, trial)
    if level not in dict(Lock.LEVELS):
        raise ValidationError(_("Unknown lock level."))
    if response is not None:
        participant = participant or response.participant
        timepoint = timepoint or response.timepoint
    needs = {
        Lock.RESPONSE: (response,),
        Lock.PARTICIPANT_TIMEPOINT: (participant, timepoint),
        Lock.PARTICIPANT: (participant,),
        Lock.TIMEPOINT: (timepoint,),
        Lock.TRIAL: (),
    }[level]
    if any(x is None for x in needs):
        raise ValidationError(_("Say what to lock."))
    if level in (Lock.TRIAL, Lock.TIMEPOINT) and not (reason or "").strip():
        # The regulatory record of a database lock or a freeze says why (a walk locked a
        # trial's database with one click and no reason on record).
        raise ValidationError(_("Locking the database or freezing a timepoint needs a reason."))
    if participant is not None and participant.trial_id != trial.pk:
        raise ValidationError(_("The participant is not in this trial."))
    if timepoint is not None and timepoint.trial_id != trial.pk:
        raise ValidationError(_("The timepoint is not of this trial."))
    keys = {
        "trial": trial,
        "level": level,
        "participant": participant if level in (Lock.PARTICIPANT, Lock.PARTICIPANT_TIMEPOINT)
        else None,
        "timepoint": timepoint if level in (Lock.TIMEPOINT, Lock.PARTICIPANT_TIMEPOINT)
        else None,
        "response": response if level == Lock.RESPONSE else None,
    }
    # Serialise lockers of one trial: two data managers locking the same thing at once
    # make one lock.
    type(trial).objects.select_for_update().filter(pk=trial.pk).exists()
    existing = Lock.objects.active().filter(**keys).first()
    if existing is not None:
        return existing
    row = Lock(**keys, reason=(reason or "").strip(), locked_by=user, locked_at=timezone.now())
    row._change_reason = row.reason or f"locked ({level})"
    row.save()
    return row


@transaction.atomic
def unlock(row: Lock, *, user=None, reason: str) -> Lock:
    """Unlock with a reason (kept on the lock and in its history)."""
    _require(user, row.trial)
    if not (reason or "").strip():
        raise ValidationError(_("Unlocking needs a reason."))
    row = Lock.objects.select_for_update().get(pk=row.pk)
    if not row.is_active:
        return row
    row.unlocked_at, row.unlocked_by, row.unlock_reason = timezone.now(), user, reason.strip()
    row._change_reason = f"{N_('unlocked')}: {reason.strip()}"
    row.save()
    return row


def locks_of_participant(participant):
    """Active locks that cover any of this participant's data, most general first."""
    from django.db.models import Q

    from questionnaires.models import Response

    covers = (
        Q(level=Lock.TRIAL)
        | Q(level=Lock.TIMEPOINT)
        | Q(participant=participant)
        | Q(level=Lock.RESPONSE, response__in=Response.objects.filter(participant=participant))
    )
    return list(
        Lock.objects.active()
        .filter(covers, trial=participant.trial)
        .select_related("timepoint", "participant", "response__timepoint", "locked_by", "trial")
    )


def database_lock(trial) -> Lock | None:
    return Lock.objects.active().filter(trial=trial, level=Lock.TRIAL).first()


def lock_database(trial, *, user=None, reason: str = ""):
    """Lock the whole trial, then build and keep the locked dataset bundle.
    (lock, dataset); the lock stands even if the bundle fails (build it again)."""
    from .. import bundle

    row = lock(Lock.TRIAL, trial=trial, user=user, reason=reason)
    return row, bundle.store(row, user)
