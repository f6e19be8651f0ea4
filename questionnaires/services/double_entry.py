"""Double data entry of paper questionnaires: the two entries of a response found and
compared item by item, the next entry a form should take, and a data manager's decisions
resolving the differences into the one response that counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from enrolment.audit import DOUBLE_ENTRY_AGREE, DOUBLE_ENTRY_RESOLVED

from .. import missing as reasons
from ..instruments import base
from ..models import Response
from .answers import ResponseError, clean_answers, entered
from .saving import save_answers

# --- double data entry ---------------------------------------------------------------


@dataclass
class Difference:
    """``first`` and ``second`` are what was entered: a value, a reason code, or None."""

    item: base.Item
    first: object
    second: object


def paper_entries(participant, timepoint, code: str) -> dict[int, Response]:
    rows = Response.objects.filter(
        participant=participant,
        timepoint=timepoint,
        instrument=code,
        entry__in=[Response.FIRST_ENTRY, Response.SECOND_ENTRY],
    )
    return {r.entry: r for r in rows}


def next_entry_for(participant, timepoint, code: str, user) -> tuple[int, Response | None]:
    """Which paper entry ``user`` makes now: their own unfinished one, else the first, else
    the second (by another user). Raises when the user cannot make another entry."""
    entries = paper_entries(participant, timepoint, code)
    for number, response in entries.items():
        if response.entered_by_id == user.pk:
            if response.is_complete:
                raise ResponseError(_(
                    "You have entered this form already; the second entry must be made by "
                    "another person."
                ))
            return number, response
    if Response.FIRST_ENTRY not in entries:
        return Response.FIRST_ENTRY, None
    if Response.SECOND_ENTRY not in entries:
        return Response.SECOND_ENTRY, None
    raise ResponseError(_("This form has been entered twice already."))


def compare_entries(first: Response, second: Response) -> list[Difference]:
    """Item by item, where the two entries differ (an unanswered item counts as None; a
    reason for missing in one entry and a value in the other is a difference)."""
    instrument = first.definition()
    a, b = entered(first), entered(second)
    return [
        Difference(item, a.get(item.id), b.get(item.id))
        for item in instrument.items
        if a.get(item.id) != b.get(item.id)
    ]


@transaction.atomic
def resolve_double_entry(
    first: Response, second: Response, decisions: dict[str, tuple[object, str]], user
) -> Response:
    """The final response from two agreeing-or-resolved paper entries.

    ``decisions``: item id -> (final value, reason) for every item where they differ.
    The decisions are kept on the final response and its history row says who resolved
    them and why."""
    if not (first.is_complete and second.is_complete):
        raise ResponseError(_("Both entries must be complete before they are compared."))
    if first.entered_by_id == second.entered_by_id:
        raise ResponseError(_("The two entries must be made by different people."))
    if first.version != second.version:
        raise ResponseError(_("The two entries were made on different versions."))
    differences = compare_entries(first, second)
    missing = [d.item.id for d in differences if d.item.id not in decisions]
    if missing:
        raise ResponseError(
            _("Resolve every difference: %(items)s.") % {"items": ", ".join(missing)}
        )
    unreasoned = [k for k, (_value, why) in decisions.items() if not (why or "").strip()]
    if unreasoned:
        raise ResponseError(
            _("A reason is needed for %(items)s.") % {"items": ", ".join(unreasoned)}
        )
    answers = dict(clean_answers(first.answers))
    missing = dict(first.missing or {})
    resolution = {}
    for d in differences:
        value, why = decisions[d.item.id]
        answers.pop(d.item.id, None)
        missing.pop(d.item.id, None)
        if reasons.is_reason(value):
            missing[d.item.id] = value
        elif value is not None:
            answers[d.item.id] = value
        resolution[d.item.id] = {
            "first": d.first,
            "second": d.second,
            "final": value,
            "reason": why.strip(),
        }
    instrument = first.definition()
    if Response.objects.filter(
        participant=first.participant,
        timepoint=first.timepoint,
        instrument=first.instrument,
        entry=Response.FINAL,
    ).exists():
        raise ResponseError(_("A final response of this form exists already."))
    final = save_answers(
        instrument=instrument,
        timepoint=first.timepoint,
        answers=answers,
        complete=True,
        mode=Response.STAFF_PAPER,
        user=user,
        participant=first.participant,
        language=first.language,
        reason=_resolution_reason(resolution, first, second),
        resolution=resolution,
        missing=missing,
    )
    return final


def _resolution_reason(resolution: dict, first: Response, second: Response) -> str:
    if not resolution:
        return DOUBLE_ENTRY_AGREE % {"first": first.pk, "second": second.pk}
    parts = [f"{k}: {v['reason']}" for k, v in resolution.items()]
    items = "; ".join(parts)
    return DOUBLE_ENTRY_RESOLVED % {"first": first.pk, "second": second.pk, "items": items}
