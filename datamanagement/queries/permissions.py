"""Who may read, raise, answer and close queries. Checked in querysets and in the
actions, never only in templates."""

from __future__ import annotations

from django.db.models import Q

from enrolment import permissions as roles

# Read every query of the trial (statisticians never: they read no single value's story).
READERS = roles.DM_READERS
# Raise, close and re-open.
RAISERS = roles.QUERY_RAISERS
# Answer and correct (physiotherapists only at the participant's clinic).
ANSWERERS = roles.QUERY_ANSWERERS


def query_filter(user) -> Q:
    """The queries ``user`` may see, as a filter on Query."""
    return roles.trial_or_clinic_filter(
        user, READERS, "participant__trial_id", "participant__clinic_id"
    )


def _at_clinic(user, participant) -> bool:
    return participant.clinic.physiotherapists.filter(user=user, active=True).exists()


def can_raise(user, participant) -> bool:
    return roles.has_any(user, participant.trial, RAISERS)


def can_answer(user, participant) -> bool:
    held = roles.roles_in(user, participant.trial)
    if held & (ANSWERERS - {roles.PHYSIOTHERAPIST}):
        return True
    return roles.PHYSIOTHERAPIST in held and _at_clinic(user, participant)


def can_read_trial(user, trial) -> bool:
    """The trial's query list: readers, and physiotherapists (their clinic's rows)."""
    return roles.has_any(user, trial, READERS | {roles.PHYSIOTHERAPIST})
