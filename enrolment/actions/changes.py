"""Corrections to an enrolled participant and their personal details: only the fields
listed as editable, each change with a reason in the audit history, and the signals
other apps re-plan on (a corrected enrolment date, changed contact details).
"""

from __future__ import annotations

from django.db import transaction

from .. import enrol_fields
from ..models import Participant, PersonalDetails
from ..signals import contact_details_changed, enrolment_date_corrected
from .errors import EnrolmentError

EDITABLE_PARTICIPANT_FIELDS = (
    "clinic",
    "enrolled_on",
    "final_visit_on",
    "sex",
    "first_contact_clinician",
)
EDITABLE_PERSONAL_FIELDS = (
    "full_name",
    "national_id",
    "date_of_birth",
    "email",
    "mobile",
    "postal_address",
    "preferred_language",
    "contact_preference",
)
# The fields follow-up reaches a participant by (enrolment.signals.contact_details_changed).
CONTACT_FIELDS = ("email", "mobile", "postal_address", "preferred_language", "contact_preference")


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
    asked = ("sex", "first_contact_clinician")
    if any(k in changes and changes[k] != getattr(participant, k) for k in asked):
        # Judged as at enrolment, against the condition the participant keeps.
        sex, clinician = (changes.get(k, getattr(participant, k)) for k in asked)
        if found := enrol_fields.problems(participant.trial, participant.condition, sex, clinician):
            raise EnrolmentError(" ".join(found))
    changed = _apply(participant, changes, EDITABLE_PARTICIPANT_FIELDS, reason)
    if "enrolled_on" in changed:
        enrolment_date_corrected.send(Participant, participant=participant, reason=reason.strip())
    return changed


@transaction.atomic
def update_personal_details(details: PersonalDetails, changes: dict, reason: str) -> list[str]:
    if details.is_erased:
        raise EnrolmentError("These personal details were erased: they cannot be changed.")
    changed = _apply(details, changes, EDITABLE_PERSONAL_FIELDS, reason)
    reached_by = [f for f in changed if f in CONTACT_FIELDS]
    if reached_by:
        contact_details_changed.send(
            Participant, participant=details.participant, fields=reached_by
        )
    return changed
