"""Correcting a saved response: a staff member with edit rights changes answers with a reason,
which goes into the response's audit history.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from questionnaires.services.saving import correct_response

from .. import reasons
from ..forms import InstrumentForm, ReasonForm
from ..models import Response
from .common import _editable_participant, _error_list
from .visits import _warn_if_locked

# --- corrections of a saved response ----------------------------------------------------


@login_required
def response_correct(request, pk):
    response = get_object_or_404(Response.objects.select_related("participant"), pk=pk)
    if response.participant_id is None:
        raise Http404
    participant = _editable_participant(request.user, response.participant.study_id)
    definition = response.definition()
    if request.method == "GET":
        _warn_if_locked(request, response)
    form = InstrumentForm(
        definition,
        request.POST or None,
        answers=response.answers,
        missing=response.missing,
        require=False,
        reasons_for=reasons.STAFF,
    )
    reason_form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and reason_form.is_valid():
        answers, missing = form.merged(response.answers, response.missing)
        try:
            correct_response(
                response, answers, reason_form.cleaned_data["reason"], request.user, missing
            )
        except ValidationError as exc:
            form.add_error(None, _error_list(exc))
        else:
            messages.success(request, _("The correction was saved."))
            return redirect("participant_detail", study_id=participant.study_id)
    return render(
        request,
        "questionnaires/staff_form.html",
        {
            "participant": participant,
            "form": form,
            "reason_form": reason_form,
            # In words ("3 months · Oswestry Disability Index"), not codes; the heading
            # names the participant beside it.
            "title": _("Correct %(response)s")
            % {"response": f"{response.timepoint.staff_label} · {definition.name}"},
            "queried": (response.timepoint.code, response.instrument),
        },
    )
