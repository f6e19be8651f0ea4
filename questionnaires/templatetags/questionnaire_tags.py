"""The questionnaire block of the participant page, and answer labels for staff pages."""

from __future__ import annotations

from django import template
from django.utils import formats

from enrolment import guards
from enrolment import permissions as roles
from enrolment.models import Participant, Timepoint

from .. import due, missing
from ..instruments import base
from ..models import Response
from ..readable import answer_text, instrument_name

register = template.Library()


@register.filter
def answer_label(value, item: base.Item) -> str:
    """An answer as staff read it (:func:`questionnaires.readable.answer_text`); a reason
    for a missing value, which paper entries compare as values, with its code."""
    if missing.is_reason(value):
        return f"{value} {missing.label(value)}"
    return answer_text(item, value) or "—"


@register.inclusion_tag("questionnaires/_participant_block.html", takes_context=True)
def participant_questionnaires(context, participant):
    user = context["request"].user
    can_edit = roles.can_edit(user, participant)
    responses = {}
    for r in Response.objects.filter(participant=participant).select_related("entered_by"):
        responses.setdefault(r.timepoint_id, []).append(r)
    rows = []
    # Patient timepoints first (in order), then the clinician's (the CRPE-tool).
    timepoints = sorted(
        participant.trial.timepoints.filter(
            respondent__in=[Timepoint.PATIENT, Timepoint.CLINICIAN]
        ),
        key=lambda tp: (tp.respondent != Timepoint.PATIENT, tp.order),
    )
    for tp in timepoints:
        if "sms_tracking" in tp.instruments:
            continue  # weekly SMS answers: shown by followup's participant_sms block
        instruments = []
        for code in tp.instruments:
            mine = [r for r in responses.get(tp.pk, []) if r.instrument == code]
            final = next((r for r in mine if r.entry == Response.FINAL), None)
            paper = [r for r in mine if r.entry != Response.FINAL]
            instruments.append(
                {
                    "code": code,
                    # the version answered, else the one the protocol pins
                    "name": instrument_name(code, final and final.version,
                                            trial=participant.trial),
                    "final": final,
                    "paper": paper,
                    "scores": _scores(final),
                    "not_done_reason": _not_done_reason(final),
                }
            )
        all_complete = all(i["final"] and i["final"].is_complete for i in instruments)
        rows.append({
            "timepoint": tp,
            # a paper form of it may exist: the participant had not died or withdrawn yet
            "paper": not due.ended_before(participant, tp),
            "instruments": instruments,
            "all_complete": all_complete,
            # Nothing is offered that a lock would refuse after the form was filled in.
            # (a freeze, a lock of the participant or of the visit: data management's guard)
            "locked": guards.refusal(Response(participant=participant, timepoint=tp))
            if can_edit else "",
        })
    return {"participant": participant, "rows": rows, "can_edit": can_edit,
            "asked": participant.status not in Participant.NOT_ASKED}


def _not_done_reason(response) -> str:
    if response is None or not response.not_done or not response.missing:
        return ""
    return missing.label(next(iter(response.missing.values())))


def _scores(response) -> str:
    if response is None or not response.scores:
        return ""
    parts = []
    for name, value in response.scores.items():
        if isinstance(value, float):
            # three significant digits, with the reader's decimal mark (0,675 in Swedish)
            value = f"{value:.3g}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))
        parts.append(f"{name} {value if value is not None else '—'}")
    return ", ".join(parts)
