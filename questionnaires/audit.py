"""Responses in a participant's audit trail (see enrolment.audit)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from enrolment.audit import SYSTEM

from .readable import instrument_name

# Who answered when no staff member did (English in the data, as enrolment.audit's).
BY_LINK = N_("the participant, by their survey link")
BY_SMS = N_("the participant, by SMS")


def participant_forms(participant) -> list[tuple]:
    """(id, English record name, the name in the reader's language, mode) of each of the
    participant's responses, in id order: the record names of the audit trail, which data
    management's records about a form (its verification, its lock) name it by too."""
    from enrolment.models import Timepoint

    from .models import Response

    rows = list(
        Response.objects.filter(participant=participant)
        .values_list("id", "instrument", "version", "timepoint_id", "timepoint__code",
                     "entry", "mode", "week")
        .order_by("id")
    )
    timepoints = Timepoint.objects.in_bulk({row[3] for row in rows})
    forms = []
    for pk, instrument, version, timepoint_id, timepoint, entry, mode, week in rows:
        what = f"Response {instrument} at {timepoint}"
        label = _("%(instrument)s, %(timepoint)s") % {
            "instrument": instrument_name(instrument, version),
            "timepoint": timepoints[timepoint_id].staff_label,
        }
        if week:  # weekly SMS tracking: one form a week
            what += f" week {week}"
            label = _("%(form)s, week %(week)s") % {"form": label, "week": week}
        if entry:
            what += f" (paper entry {entry})"
            label = _("%(form)s (paper entry %(n)s)") % {"form": label, "n": entry}
        forms.append((pk, what, label, mode))
    return forms


def participant_responses(participant):
    """Each response's history, named in English for the API and the bundle ("Response
    odi at 3m") and for the page in the reader's language (the instrument's name, the
    timepoint's label)."""
    from .models import Response

    respondents = {Response.PATIENT_ONLINE: BY_LINK, Response.PATIENT_SMS: BY_SMS}
    for pk, what, label, mode in participant_forms(participant):
        yield Response.history.filter(id=pk), what, respondents.get(mode, SYSTEM), label
