"""Coordinator pages of the process measures: SWOT analyses (upload, download) and the
patients selected for an interview. Logic lives in :mod:`implementation.process`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment.consent.reading import INTERVIEW_CONTACT, interview_candidates, item_for_effect
from enrolment.models import Participant

from . import process
from .forms import InterviewForm, SwotForm
from .models import Interview, SwotAnalysis
from .views import trial_for


@login_required
def swot_list(request, code):
    trial = trial_for(request, code)
    form = SwotForm(request.POST or None, request.FILES or None, trial=trial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            process.record_swot(
                data["clinic"],
                held_on=data["held_on"],
                upload=data["document"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error("document", exc)
        else:
            messages.success(request, _("SWOT analysis saved."))
            return redirect("swot_analyses", code=trial.code)
    rows = SwotAnalysis.objects.filter(clinic__cluster__trial=trial).select_related("clinic")
    return render(
        request,
        "implementation/swot.html",
        {"trial": trial, "form": form, "rows": rows},
        status=400 if form.is_bound else 200,
    )


@login_required
def swot_download(request, code, pk):
    trial = trial_for(request, code)
    swot = get_object_or_404(SwotAnalysis, pk=pk, clinic__cluster__trial=trial)
    path = process.document_path(swot)
    if not path.is_file():
        raise Http404
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=swot.file_name,
        content_type=swot.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def interviews(request, code):
    trial = trial_for(request, code)
    failed, status = None, 200
    if request.method == "POST" and "select" in request.POST:
        participant = get_object_or_404(
            Participant.objects.visible_to(request.user),
            trial=trial,
            study_id=request.POST["select"],
        )
        try:
            process.select_for_interview(
                participant, selected_on=timezone.localdate(), user=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("interviews", code=trial.code)
    if request.method == "POST":
        interview = get_object_or_404(
            Interview, pk=request.POST.get("interview"), participant__trial=trial
        )
        form = InterviewForm(request.POST, prefix=str(interview.pk))
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            try:
                process.update_interview(interview, user=request.user, reason=reason, **data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Interview of %(id)s saved.") % {"id": interview.participant.study_id},
                )
                return redirect("interviews", code=trial.code)
        failed, status = (interview.pk, form), 400
    selected = list(
        Interview.objects.filter(participant__trial=trial).select_related("participant__clinic")
    )
    rows = [
        (
            i,
            failed[1]
            if failed and failed[0] == i.pk
            else InterviewForm(
                prefix=str(i.pk),
                initial={f: getattr(i, f) for f in process.INTERVIEW_FIELDS},
            ),
        )
        for i in selected
    ]
    taken = {i.participant_id for i in selected}
    candidates = [
        p
        for p in interview_candidates(trial, Participant.objects.visible_to(request.user))
        if p.pk not in taken
    ]
    return render(
        request,
        "implementation/interviews.html",
        {
            "trial": trial,
            "rows": rows,
            "candidates": candidates,
            "item": item_for_effect(trial, INTERVIEW_CONTACT),
        },
        status=status,
    )
