"""The CRPE-tool, filled in by the physiotherapist at the first and the final visit; the
timepoints are found by their protocol tags (:mod:`enrolment.tags`), and the final visit
shows the notes of the first.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from enrolment import tags
from enrolment.models import Timepoint
from questionnaires.services.saving import save_answers

from ..forms import InstrumentForm, ReasonForm
from ..instruments import get
from ..instruments.definitions import crpe
from ..models import Response
from .common import _editable_participant, _error_list, _timepoint

# --- the CRPE-tool -------------------------------------------------------------------------

CRPE_FIRST, CRPE_FINAL = "first-visit", "final-visit"  # protocol tags (enrolment.tags)


@login_required
def crpe_form(request, study_id, timepoint):
    participant = _editable_participant(request.user, study_id)
    tp = _timepoint(participant, timepoint, Timepoint.CLINICIAN)
    if "crpe" not in tp.instruments:
        raise Http404
    response = Response.objects.filter(
        participant=participant, timepoint=tp, instrument="crpe", entry=Response.FINAL
    ).first()
    definition = response.definition() if response else get("crpe")
    saved = response.answers if response else {}
    hide: tuple[str, ...] = ()
    notes: dict[str, str] = {}
    if CRPE_FINAL in tp.tags:
        notes = _first_visit_notes(participant, definition)
    else:
        hide = crpe.FINAL_VISIT_ITEMS  # recorded at the final assessment only
    kwargs = {"hide": hide, "notes": notes, "require": True}
    if request.method == "POST":
        form = InstrumentForm(definition, request.POST, **kwargs)
        valid = form.is_valid()
        if valid:
            # Cross-field check of the form: the ICD-10 codes of the chosen category's row.
            for message in crpe.icd10_matches_category(form.valid_answers()):
                form.add_error("icd10", message)
            valid = not form.errors
        if valid:
            reason = ReasonForm(request.POST)
            try:
                save_answers(
                    instrument=definition,
                    timepoint=tp,
                    answers=form.merged_answers(saved),
                    complete=True,
                    mode=Response.STAFF_CLINIC,
                    user=request.user,
                    participant=participant,
                    language=request.LANGUAGE_CODE,
                    response=response,
                    reason=reason.data.get("reason", ""),
                )
            except ValidationError as exc:
                form.add_error(None, _error_list(exc))
            else:
                messages.success(request, _("The CRPE-tool was saved."))
                return redirect("participant_detail", study_id=study_id)
    else:
        form = InstrumentForm(definition, answers=saved, **kwargs)
    return render(
        request,
        "questionnaires/staff_form.html",
        {
            "participant": participant,
            "form": form,
            "title": f"{definition.name}: {tp.staff_label}",
            "reason_form": ReasonForm() if response and response.is_complete else None,
            "form_id": "crpe-form",
            "queried": (tp.code, definition.code),
        },
    )


def _first_visit_notes(participant, definition) -> dict[str, str]:
    first = Response.objects.filter(
        participant=participant,
        timepoint=tags.timepoint(participant.trial, CRPE_FIRST),
        instrument="crpe",
        entry=Response.FINAL,
    ).first()
    if first is None:
        return {}
    notes = {}
    for item_id, grade in crpe.first_visit_grades(first.answers).items():
        label = {c.code: c.label for c in definition.item(item_id).choices}.get(grade, "")
        notes[item_id] = _("First visit: %(grade)s %(label)s") % {"grade": grade, "label": label}
    return notes
