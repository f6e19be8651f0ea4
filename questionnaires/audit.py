"""Responses in a participant's audit trail (see enrolment.audit)."""

from __future__ import annotations

from django.utils.translation import gettext_noop as N_

from enrolment.audit import SYSTEM

# Who answered when no staff member did (English in the data, as enrolment.audit's).
BY_LINK = N_("the participant, by their survey link")
BY_SMS = N_("the participant, by SMS")


def participant_responses(participant):
    from .models import Response

    respondents = {Response.PATIENT_ONLINE: BY_LINK, Response.PATIENT_SMS: BY_SMS}
    codes = (
        Response.objects.filter(participant=participant)
        .values_list("id", "instrument", "timepoint__code", "entry", "mode")
        .order_by("id")
    )
    for pk, instrument, timepoint, entry, mode in codes:
        label = f"Response {instrument} at {timepoint}"
        if entry:
            label += f" (paper entry {entry})"
        yield Response.history.filter(id=pk), label, respondents.get(mode, SYSTEM)
