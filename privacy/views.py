"""Subject access and erasure pages, for coordinators only (trialsite.roles.PRIVACY_RIGHTS).

A participant the user cannot see is a 404 (as on every participant page); one they see
without the role is a 403. Pages carrying personal data are never cached."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from enrolment import permissions as roles
from enrolment.actions.erasure import erase_personal_data
from enrolment.models import Erasure, Participant, PersonalDetails

from .forms import ErasureForm
from .models import SubjectAccess
from .subject_access import collect


def _participant_for(user, study_id: str) -> Participant:
    participant = get_object_or_404(
        Participant.objects.visible_to(user).select_related("trial", "clinic"),
        study_id=study_id,
    )
    if not roles.has_any(user, participant.trial, roles.PRIVACY_RIGHTS):
        raise PermissionDenied
    return participant


def _produced(request, participant: Participant, fmt: str) -> dict:
    SubjectAccess.objects.create(participant=participant, user=request.user, format=fmt)
    return collect(participant)


@never_cache
@login_required
def subject_access_page(request, study_id):
    participant = _participant_for(request.user, study_id)
    data = _produced(request, participant, SubjectAccess.HTML)
    return render(
        request, "privacy/subject_access.html", {"participant": participant, "data": data}
    )


@never_cache
@login_required
def subject_access_json(request, study_id):
    participant = _participant_for(request.user, study_id)
    data = _produced(request, participant, SubjectAccess.JSON)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    name = f"{participant.study_id}-subject-access.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@never_cache
@login_required
def subject_access_pdf(request, study_id):
    from .pdf import render_pdf

    participant = _participant_for(request.user, study_id)
    data = _produced(request, participant, SubjectAccess.PDF)
    response = HttpResponse(render_pdf(data), content_type="application/pdf")
    name = f"{participant.study_id}-subject-access.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@never_cache
@login_required
def erase(request, study_id):
    participant = _participant_for(request.user, study_id)
    details = PersonalDetails.objects.filter(participant=participant).first()
    if details is None or details.is_erased:
        messages.info(
            request,
            _("%(study_id)s has no personal details left to erase.")
            % {"study_id": participant.study_id},
        )
        return redirect("participant_detail", study_id=participant.study_id)
    form = ErasureForm(request.POST or None, study_id=participant.study_id)
    if request.method == "POST" and form.is_valid():
        try:
            erase_personal_data(
                participant, form.cleaned_data["reason"], request.user, source=Erasure.REQUEST
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "The personal data of %(study_id)s is erased; its research data is "
                    "kept under the study ID and every contact has stopped."
                )
                % {"study_id": participant.study_id},
            )
            return redirect("participant_detail", study_id=participant.study_id)
    return render(
        request,
        "privacy/erase.html",
        {"participant": participant, "form": form},
        status=400 if form.is_bound else 200,
    )
