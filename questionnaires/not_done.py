"""A questionnaire, or a whole timepoint, that staff mark "not done" with a reason.

A not-done questionnaire is a completed final :class:`Response` with no answers, every
item's reason the code chosen (``Response.missing``) and ``not_done`` set; its history row
says who marked it and why. Being complete, it counts as answered for the follow-up
dispatcher (``followup.dispatch._answered``), which closes the timepoint's contact on its
next pass, before any further reminder: the same path as a questionnaire answered on
paper. (followup imports questionnaires, so this module cannot call followup itself.)

A questionnaire already started keeps its answers: only its unanswered items get the
reason, and it is completed as it stands (``not_done`` stays False, it was partly done).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_noop as N_

from enrolment.audit import NOT_DONE

from . import missing as reasons
from .instruments import for_trial
from .models import Response
from .services.answers import ResponseError
from .services.saving import save_answers


def _check(code: int, why: str) -> None:
    if not reasons.is_reason(code):
        raise ResponseError(f"Not a reason for missing data: {code!r}.")
    if not (why or "").strip():
        raise ResponseError("Say why the questionnaire was not done.")


def _final(participant, timepoint, instrument: str) -> Response | None:
    return Response.objects.filter(
        participant=participant, timepoint=timepoint, instrument=instrument, entry=Response.FINAL
    ).first()


@transaction.atomic
def mark_not_done(
    *, participant, timepoint, instrument: str, code: int, why: str, user, mode: str = ""
) -> Response:
    """Mark one questionnaire of ``participant`` at ``timepoint`` not done with ``code``."""
    _check(code, why)
    if instrument not in timepoint.instruments:
        raise ResponseError(f"{instrument} is not asked at {timepoint.code}.")
    response = _final(participant, timepoint, instrument)
    if response is not None and response.is_complete:
        raise ResponseError(
            f"{instrument} at {timepoint.code} is complete already; correct it instead."
        )
    # the version the trial's protocol pins, as a form answered on the site would have
    definition = response.definition() if response else for_trial(timepoint.trial, instrument)
    answers = dict(response.answers) if response else {}
    missing = {item.id: code for item in definition.items if item.id not in answers}
    result = save_answers(
        instrument=definition,
        timepoint=timepoint,
        answers=answers,
        complete=True,
        mode=response.mode if response else (mode or Response.STAFF_PAPER),
        user=user,
        participant=participant,
        language=participant.trial.default_language,
        response=response,
        missing=missing,
        reason=NOT_DONE % {"reason": reasons.REASONS[code][0], "why": why.strip()},
    )
    if not result.answers:
        result.not_done = True
        result._change_reason = f"{N_('marked not done')}: {why.strip()}"
        result.save(update_fields=["not_done"])
    return result


@transaction.atomic
def mark_timepoint_not_done(*, participant, timepoint, code: int, why: str, user) -> list:
    """Every questionnaire of the timepoint not yet complete, marked not done."""
    _check(code, why)
    marked = []
    for instrument in timepoint.instruments:
        response = _final(participant, timepoint, instrument)
        if response is not None and response.is_complete:
            continue
        marked.append(
            mark_not_done(
                participant=participant,
                timepoint=timepoint,
                instrument=instrument,
                code=code,
                why=why,
                user=user,
            )
        )
    if not marked:
        raise ResponseError(f"Every questionnaire of {timepoint.code} is complete already.")
    return marked
