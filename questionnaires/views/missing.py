"""Staff mark a questionnaire, or every open questionnaire of a timepoint, "not done"
with a reason for missing data (:mod:`questionnaires.not_done`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrolment.models import Timepoint

from .. import missing, not_done
from ..models import Response
from .common import _editable_participant, _error_list, _instrument_or_404, _timepoint
from .visits import _warn_if_locked

WHOLE_TIMEPOINT = "__all__"


class NotDoneForm(forms.Form):
    code = forms.TypedChoiceField(
        label=gettext_lazy("Reason for missing data"),
        choices=[(code, missing.label(code)) for code in missing.REASONS],
        coerce=int,
    )
    why = forms.CharField(
        label=gettext_lazy("Why (kept in the audit trail)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@login_required
def mark_not_done(request, study_id, timepoint):
    """``?instrument=<code>`` marks one questionnaire; without it, the whole timepoint."""
    participant = _editable_participant(request.user, study_id)
    tp = _timepoint(participant, timepoint, Timepoint.PATIENT)
    instrument = request.GET.get("instrument") or request.POST.get("instrument") or ""
    if instrument and instrument not in tp.instruments:
        raise Http404
    form = NotDoneForm(request.POST or None)
    if request.method == "GET":
        _warn_if_locked(request, Response(participant=participant, timepoint=tp))
    if request.method == "POST" and form.is_valid():
        kwargs = dict(
            participant=participant,
            timepoint=tp,
            code=form.cleaned_data["code"],
            why=form.cleaned_data["why"],
            user=request.user,
        )
        try:
            if instrument:
                not_done.mark_not_done(instrument=instrument, **kwargs)
            else:
                not_done.mark_timepoint_not_done(**kwargs)
        except ValidationError as exc:
            form.add_error(None, _error_list(exc))
        else:
            messages.success(request, _("Marked not done."))
            return redirect("participant_detail", study_id=study_id)
    name = _instrument_or_404(instrument).name if instrument else ""
    return render(
        request,
        "questionnaires/not_done.html",
        {
            "participant": participant,
            "timepoint": tp,
            "instrument": instrument,
            "instrument_name": name,
            "form": form,
        },
    )
