"""The guard registered with :mod:`enrolment.guards`: refuses a write that an active lock
covers. One fixed, indexed query per audited save, and one more for the locks it found."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment.guards import WriteRefused


def scope_of(instance) -> tuple[int, int | None, int | None, int | None] | None:
    """(trial, participant, timepoint, response) ids a record belongs to; None for a
    record no lock covers."""
    from enrolment.models import Participant
    from questionnaires.models import Response

    if isinstance(instance, Response):
        timepoint = instance.timepoint
        return timepoint.trial_id, instance.participant_id, timepoint.pk, instance.pk
    if isinstance(instance, Participant):
        return instance.trial_id, instance.pk, None, None
    participant_id = getattr(instance, "participant_id", None)
    descriptor = getattr(type(instance), "participant", None)
    if participant_id is not None and getattr(descriptor, "is_cached", lambda i: False)(instance):
        # The participant in hand (an enrolment's details and consent): no query.
        return instance.participant.trial_id, participant_id, None, None
    if participant_id is not None:
        trial_id = Participant.objects.filter(pk=participant_id).values_list(
            "trial_id", flat=True
        ).first()
        if trial_id is not None:
            return trial_id, participant_id, None, None
    return None


def covering_lock_ids(trial_id, participant_id=None, timepoint_id=None, response_id=None):
    """The ids of the active locks that cover a record of this scope. Every audited save
    asks it, nearly always to hear "none": one fixed statement, because the ORM's compile
    of the five alternatives with their joins was a quarter of a patient's answer
    (issue 19 item 4). A comparison with an absent scope (NULL) is never true."""
    from .models import Lock

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Lock._meta.db_table} WHERE trial_id = %s AND unlocked_at IS NULL"
            " AND (level = %s OR (level = %s AND timepoint_id = %s)"
            " OR (level = %s AND participant_id = %s)"
            " OR (level = %s AND participant_id = %s AND timepoint_id = %s)"
            " OR (level = %s AND response_id = %s))",
            [
                trial_id,
                Lock.TRIAL,
                Lock.TIMEPOINT, timepoint_id,
                Lock.PARTICIPANT, participant_id,
                Lock.PARTICIPANT_TIMEPOINT, participant_id, timepoint_id,
                Lock.RESPONSE, response_id,
            ],
        )
        return [row[0] for row in cursor.fetchall()]


def covering_locks(trial_id, participant_id=None, timepoint_id=None, response_id=None):
    """The active locks that cover a record of this scope (most general first)."""
    from .models import Lock

    ids = covering_lock_ids(trial_id, participant_id, timepoint_id, response_id)
    if not ids:
        return []
    order = [Lock.TRIAL, Lock.TIMEPOINT, Lock.PARTICIPANT, Lock.PARTICIPANT_TIMEPOINT]
    locks = list(Lock.objects.filter(pk__in=ids).select_related(
        "locked_by", "participant", "timepoint", "trial", "response__timepoint"
    ))
    return sorted(locks, key=lambda lk: order.index(lk.level) if lk.level in order else 9)


def refusal(lock) -> str:
    """The message a refused write shows: what is locked, by whom, since when (on the
    trial's clock, whoever writes it: a page, a command or a Celery task, whose clock is
    UTC), and how to change it."""
    zone = ZoneInfo(lock.trial.time_zone) if lock.trial.time_zone else None
    when = timezone.localtime(lock.locked_at, zone).strftime("%Y-%m-%d %H:%M")
    who = lock.locked_by.get_username() if lock.locked_by else _("the system")
    return _(
        "Locked: %(scope)s (%(level)s, by %(who)s on %(when)s). A data manager must "
        "unlock it, with a reason, before it can change."
    ) % {"scope": lock.scope, "level": lock.get_level_display(), "who": who, "when": when}


def _hold_trial(trial_id) -> None:
    """Inside a transaction on PostgreSQL, hold the trial's row FOR SHARE until the write
    commits: writers never wait for each other, but a data manager locking (who takes the
    row FOR UPDATE, :func:`.services.lock`) waits for the writes already checked, and the
    writes that come after wait for the lock and then see it. Without it a write checked a
    moment before a lock committed could land after it."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    from enrolment.models import Trial

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Trial._meta.db_table} WHERE id = %s FOR SHARE",
                       [trial_id])


def lock_guard(instance, action: str) -> None:
    scope = scope_of(instance)
    if scope is None:
        return
    _hold_trial(scope[0])
    locks = covering_locks(*scope)
    if locks:
        raise WriteRefused(refusal(locks[0]), code="locked")
