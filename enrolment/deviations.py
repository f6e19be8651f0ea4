"""The one write path of the protocol-deviation log: record a deviation, correct one.

Who may record: coordinators, data managers, administrators and the physiotherapists of
the participant's clinic (:func:`trialsite.roles.can_record_deviation`); the check is
here, at the write path, as well as in the views. Every save is kept by simple-history;
a correction needs a reason (:class:`enrolment.models.AuditedModel`).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from enrolment import permissions as roles

from .actions.errors import EnrolmentError
from .models import Deviation, DeviationType, Participant

CORRECTABLE_FIELDS = ("type", "occurred_on", "description", "excludes_per_protocol")


def excludes_per_protocol(rule: str, judged: bool | None, label: str = "") -> bool:
    """Whether a deviation takes its participant out of the per-protocol set.

    The protocol's rule for the type decides (``excluded``/``kept``); for a ``judged``
    type the recorder's answer does. An answer that contradicts the protocol is refused
    rather than silently overruled, so the recorder sees what the protocol says."""
    name = label or "this type"
    if rule == DeviationType.JUDGED:
        if judged is None:
            raise EnrolmentError(
                f"The protocol leaves it to you for {name}: say whether it excludes the "
                "participant from the per-protocol analysis."
            )
        return judged
    fixed = rule == DeviationType.EXCLUDED
    if judged is not None and judged != fixed:
        says = "always excludes" if fixed else "never excludes"
        raise EnrolmentError(
            f"The protocol says {name} {says} the participant from the per-protocol "
            "analysis: leave the choice to the protocol or pick another type."
        )
    return fixed


def _check(participant: Participant, dtype: DeviationType, on: date, description: str, today):
    if dtype.trial_id != participant.trial_id:
        raise EnrolmentError("This deviation type belongs to another trial.")
    if on > today:
        raise EnrolmentError("A deviation cannot be dated in the future.")
    if on < participant.enrolled_on:
        raise EnrolmentError(
            f"A deviation cannot precede the enrolment ({participant.enrolled_on:%Y-%m-%d}); "
            "date an eligibility deviation on the enrolment day."
        )
    if not (description or "").strip():
        raise EnrolmentError("Describe the deviation.")


@transaction.atomic
def record_deviation(
    participant: Participant,
    *,
    user,
    type: DeviationType,  # noqa: A002 - the protocol's word
    occurred_on: date,
    description: str,
    excludes: bool | None = None,
    today: date | None = None,
) -> Deviation:
    """Record a protocol deviation of ``participant`` by ``user``."""
    if not roles.can_record_deviation(user, participant):
        raise PermissionDenied
    _check(participant, type, occurred_on, description, today or timezone.localdate())
    deviation = Deviation(
        participant=participant,
        type=type,
        occurred_on=occurred_on,
        description=description.strip(),
        excludes_per_protocol=excludes_per_protocol(type.per_protocol, excludes, type.label),
        recorded_by=user,
    )
    deviation.full_clean()
    deviation._change_reason = N_("deviation recorded")
    # The recorder is the history row's user outside a request too (a command, a test).
    deviation._history_user = user
    deviation.save()
    return deviation


@transaction.atomic
def correct_deviation(
    deviation: Deviation,
    *,
    user,
    changes: dict,
    reason: str,
    today: date | None = None,
) -> list[str]:
    """Correct a recorded deviation; every change needs a reason, kept in the history.
    ``changes`` may hold ``excludes`` (None: as the protocol says) instead of the flag."""
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    participant = deviation.participant
    if not roles.can_record_deviation(user, participant):
        raise PermissionDenied
    changes = dict(changes)
    excludes = changes.pop("excludes", None)
    not_allowed = set(changes) - set(CORRECTABLE_FIELDS)
    if not_allowed:
        raise EnrolmentError(f"These fields cannot be changed here: {sorted(not_allowed)}")
    dtype = changes.get("type", deviation.type)
    changes["excludes_per_protocol"] = excludes_per_protocol(
        dtype.per_protocol, excludes, dtype.label
    )
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()
    _check(
        participant,
        dtype,
        changes.get("occurred_on", deviation.occurred_on),
        changes.get("description", deviation.description),
        today or timezone.localdate(),
    )
    changed = [k for k, v in changes.items() if getattr(deviation, k) != v]
    if not changed:
        return []
    if not (reason or "").strip():
        raise EnrolmentError("A reason is required to change a saved value.")
    for k in changed:
        setattr(deviation, k, changes[k])
    deviation.full_clean()
    deviation._change_reason = reason.strip()[:100]
    deviation._history_user = user
    deviation.save()
    return changed
