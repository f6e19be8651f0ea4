"""Responses in a participant's audit trail (see enrolment.audit)."""

from __future__ import annotations


def participant_responses(participant):
    from .models import Response

    codes = (
        Response.objects.filter(participant=participant)
        .values_list("id", "instrument", "timepoint__code", "entry")
        .order_by("id")
    )
    for pk, instrument, timepoint, entry in codes:
        label = f"Response {instrument} at {timepoint}"
        if entry:
            label += f" (paper entry {entry})"
        yield Response.history.filter(id=pk), label
