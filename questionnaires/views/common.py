"""What every questionnaire page needs first: the participant the user may see (404
elsewhere) or edit (403), the timepoint and the instrument asked for (404 when unknown),
and a validation error as a list of lines.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404

from enrolment import permissions as roles
from enrolment.models import Participant, Timepoint

from ..instruments import for_trial, get

RESOLVERS = roles.RESOLVERS


def _participant_for(user, study_id: str) -> Participant:
    return get_object_or_404(
        Participant.objects.visible_to(user).select_related("trial", "clinic__cluster"),
        study_id=study_id,
    )


def _editable_participant(user, study_id: str) -> Participant:
    participant = _participant_for(user, study_id)
    if not roles.can_edit(user, participant):
        raise PermissionDenied
    return participant


def _timepoint(participant: Participant, code: str, respondent: str) -> Timepoint:
    return get_object_or_404(
        Timepoint, trial=participant.trial_id, code=code, respondent=respondent
    )


def _instrument_or_404(code: str, version: int | None = None, trial=None):
    try:
        return for_trial(trial, code) if version is None and trial else get(code, version)
    except KeyError:
        raise Http404 from None


def _error_list(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{k}: {m}" for k, msgs in exc.message_dict.items() for m in msgs]
    return exc.messages
