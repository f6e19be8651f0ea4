"""Coordinator pages of the workshops: list and create, then attendance and diplomas.
Logic lives in :mod:`implementation.workshops`; the trial comes from the user's trials
and the role is checked again by the write path."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from enrolment import permissions as roles

from . import workshops
from .forms import AttendanceForm, InviteForm, WorkshopForm
from .models import Attendance, Workshop


def trial_for(request, code):
    trial = get_object_or_404(roles.trials_of(request.user), code=code)
    if not roles.has_any(request.user, trial, roles.IMPLEMENTATION):
        raise PermissionDenied
    if not trial.has_workshops:
        raise Http404  # the protocol has no physiotherapists' workshop to record
    return trial


@login_required
def workshop_list(request, code):
    trial = trial_for(request, code)
    form = WorkshopForm(request.POST or None, trial=trial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            workshop = workshops.create_workshop(
                data["cluster"],
                day1=data["day1"],
                day2=data["day2"],
                hours=data["hours"],
                facilitators=data["facilitators"],
                user=request.user,
                physiotherapists=data["physiotherapists"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Workshop created."))
            return redirect("workshop_detail", code=trial.code, pk=workshop.pk)
    rows = Workshop.objects.filter(cluster__trial=trial).select_related("cluster")
    return render(
        request,
        "implementation/workshops.html",
        {"trial": trial, "form": form, "workshops": rows},
        status=400 if form.is_bound else 200,
    )


@login_required
def workshop_detail(request, code, pk):
    trial = trial_for(request, code)
    workshop = get_object_or_404(
        Workshop.objects.select_related("cluster"), pk=pk, cluster__trial=trial
    )
    attendances = list(
        workshop.attendances.select_related("physiotherapist__clinic").order_by(
            "physiotherapist__study_code"
        )
    )
    failed, status = None, 200
    if request.method == "POST":
        attendance = get_object_or_404(
            Attendance, pk=request.POST.get("attendance"), workshop=workshop
        )
        form = AttendanceForm(request.POST, prefix=str(attendance.pk))
        if form.is_valid():
            data = form.cleaned_data
            try:
                workshops.record_attendance(
                    attendance,
                    day1=form.presence(data["day1"]),
                    day2=form.presence(data["day2"]),
                    diploma_on=data["diploma_on"],
                    user=request.user,
                    reason=data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Attendance of %(code)s saved.")
                    % {"code": attendance.physiotherapist.study_code},
                )
                return redirect("workshop_detail", code=trial.code, pk=workshop.pk)
        failed, status = (attendance.pk, form), 400
    rows = [
        (
            a,
            failed[1]
            if failed and failed[0] == a.pk
            else AttendanceForm(initial=AttendanceForm.initial_of(a), prefix=str(a.pk)),
        )
        for a in attendances
    ]
    return render(
        request,
        "implementation/workshop.html",
        {
            "trial": trial,
            "workshop": workshop,
            "rows": rows,
            "invite": InviteForm(workshop=workshop),
        },
        status=status,
    )


@login_required
def workshop_invite(request, code, pk):
    """Invite more of the cluster's physiotherapists (e.g. one who started later)."""
    trial = trial_for(request, code)
    workshop = get_object_or_404(Workshop, pk=pk, cluster__trial=trial)
    form = InviteForm(request.POST or None, workshop=workshop)
    if request.method == "POST" and form.is_valid():
        try:
            workshops.invite(workshop, form.cleaned_data["physiotherapists"], request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Invited."))
    return redirect("workshop_detail", code=trial.code, pk=workshop.pk)
