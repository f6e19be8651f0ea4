"""Coordinators manage their trial's staff: list, invite, roles, deactivate.

Each page finds the trial among :func:`accounts.staff.managed_trials` and the person
among :func:`accounts.staff.staff_of` that trial: anyone else is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from enrolment.models import Clinic, Physiotherapist, TrialRole

from .. import access_log, staff, two_factor
from ..forms import InviteForm, RoleForm
from ..models import AccessEvent


def _trial(request, code):
    return get_object_or_404(staff.managed_trials(request.user), code=code)


def _member(trial, pk):
    return get_object_or_404(staff.staff_of(trial), pk=pk)


def _roles(trial, users=None) -> dict[int, list[dict]]:
    """User id -> their roles in ``trial``, in two queries."""
    trial_roles = TrialRole.objects.filter(trial=trial).prefetch_related("clinics")
    physios = Physiotherapist.objects.filter(clinic__cluster__trial=trial).select_related("clinic")
    if users is not None:
        trial_roles, physios = trial_roles.filter(user__in=users), physios.filter(user__in=users)
    rows: dict[int, list[dict]] = {}
    for r in trial_roles:
        if r.role == TrialRole.CLINIC_MANAGER:
            rows.setdefault(r.user_id, []).extend(
                {
                    "role": r.role,
                    "label": _("Clinic manager at %(clinic)s") % {"clinic": c.name},
                    "clinic": c,
                    "active": True,
                }
                for c in r.clinics.all()
            )
            continue
        rows.setdefault(r.user_id, []).append(
            {"role": r.role, "label": r.get_role_display(), "clinic": None, "active": True}
        )
    for p in physios:
        rows.setdefault(p.user_id, []).append(
            {
                "role": staff.PHYSIOTHERAPIST,
                "label": _("Physiotherapist at %(clinic)s (%(code)s)")
                % {"clinic": p.clinic.name, "code": p.study_code},
                "clinic": p.clinic,
                "active": p.active,
            }
        )
    return rows


def _roles_in(user, trial) -> list[dict]:
    return _roles(trial, [user]).get(user.pk, [])


@login_required
def staff_list(request, code):
    trial = _trial(request, code)
    members = list(staff.staff_of(trial))
    roles = _roles(trial)
    devices = TOTPDevice.objects.filter(user__in=members, confirmed=True)
    with_device = set(devices.values_list("user_id", flat=True))
    for m in members:
        m.roles_here = roles.get(m.pk, [])
        m.two_factor = m.pk in with_device
    return render(request, "accounts/staff_list.html", {"trial": trial, "members": members})


@login_required
def invite(request, code):
    trial = _trial(request, code)
    form = InviteForm(request.POST or None, trial=trial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = staff.invite(
                trial=trial,
                email=data["email"],
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                clinic=data["clinic"],
                study_code=data["study_code"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(user)s is invited: an email with a link to set a password went to %(email)s.")
                % {"user": user.username, "email": user.email},
            )
            return redirect("staff_list", code=trial.code)
    return render(request, "accounts/invite.html", {"trial": trial, "form": form})


@login_required
def member(request, code, pk):
    trial = _trial(request, code)
    user = _member(trial, pk)
    form = RoleForm(request.POST or None, trial=trial)
    if request.method == "POST" and form.is_valid():
        try:
            staff.assign(user, trial, form.cleaned_data["role"], clinic=form.cleaned_data["clinic"],
                         study_code=form.cleaned_data["study_code"], by=request.user,
                         request=request)  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Role given."))
            return redirect("staff_member", code=trial.code, pk=user.pk)
    return render(
        request,
        "accounts/member.html",
        {
            "trial": trial,
            "member": user,
            "roles": _roles_in(user, trial),
            "form": form,
            "two_factor": two_factor.has_device(user),
            "can_deactivate": staff.can_deactivate(request.user, user),
            "events": access_log_for(user)[:10],
        },
    )


def access_log_for(user):
    return AccessEvent.objects.filter(user=user)


@login_required
@require_POST
def remove_role(request, code, pk):
    trial = _trial(request, code)
    user = _member(trial, pk)
    clinic = None
    if request.POST.get("clinic"):
        clinic = get_object_or_404(Clinic, pk=request.POST["clinic"], cluster__trial=trial)
    staff.remove(user, trial, request.POST.get("role", ""), clinic=clinic, by=request.user,
                 request=request)  # fmt: skip
    messages.success(request, _("Role removed; their sessions are ended."))
    return redirect("staff_member", code=trial.code, pk=user.pk)


@login_required
@require_POST
def set_active(request, code, pk):
    trial = _trial(request, code)
    user = _member(trial, pk)
    active = request.POST.get("active") == "1"
    try:
        staff.set_active(user, active, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        done = _("Account deactivated; logged out everywhere.")
        messages.success(request, _("Account reactivated.") if active else done)
    return redirect("staff_member", code=trial.code, pk=user.pk)


@login_required
@require_POST
def resend_invitation(request, code, pk):
    trial = _trial(request, code)
    user = _member(trial, pk)
    try:
        staff.resend_invitation(user, trial, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("A new link went to %(email)s.") % {"email": user.email})
    return redirect("staff_member", code=trial.code, pk=user.pk)


@login_required
@require_POST
def reset_two_factor(request, code, pk):
    """A lost phone: the member sets up a new authenticator at their next login."""
    trial = _trial(request, code)
    user = _member(trial, pk)
    if not staff.can_deactivate(request.user, user):
        messages.error(request, _("This account works in other trials: ask an administrator."))
    else:
        two_factor.reset(user)
        staff.end_sessions(user)
        access_log.record(AccessEvent.ROLE_CHANGED, request, user=user, actor=request.user,
                          detail="two-factor reset")  # fmt: skip
        messages.success(request, _("Two-factor authentication reset."))
    return redirect("staff_member", code=trial.code, pk=user.pk)


class SetPasswordView(PasswordResetConfirmView):
    """The invitation's (and a password reset's) one-time link: Django's own view, its
    token and the password validators."""

    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        access_log.record(AccessEvent.PASSWORD_SET, self.request, user=form.user)
        messages.success(self.request, _("Your password is set. Log in with it."))
        return response
