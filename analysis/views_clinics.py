"""Recruitment by clinic, week by week: the clinic manager's page (trial-wide roles and
physiotherapists may open it too). Counts only; the clinics come from
:func:`enrolment.permissions.recruitment_clinic_filter`, so a manager never sees another
clinic's numbers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from enrolment import permissions as roles
from enrolment.models import Clinic

from .monitoring import clinic_recruitment
from .views_monitoring import _today

WEEKS = 12


def manages_only(user, trial) -> bool:
    """A clinic manager with no other role here: their pages are this one."""
    return roles.roles_in(user, trial) == {roles.CLINIC_MANAGER}


@login_required
def clinics(request, code):
    trial = get_object_or_404(roles.trials_of(request.user), code=code)
    visible = Clinic.objects.filter(cluster__trial=trial).filter(
        roles.recruitment_clinic_filter(request.user)
    )
    if not visible.exists():
        raise Http404
    today = _today(request, trial)
    rows = clinic_recruitment(trial, visible, today, WEEKS)
    for r in rows:
        r["weeks"].reverse()  # this week first
    return render(
        request,
        "analysis/monitoring/clinics.html",
        {
            "trial": trial,
            "today": today,
            "clinics": rows,
            "manages_only": manages_only(request.user, trial),
        },
    )
