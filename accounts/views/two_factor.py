"""The second factor: the code page after the password, setting up an authenticator,
recovery codes."""

from __future__ import annotations

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import access_log, two_factor
from ..forms import CodeForm
from ..models import AccessEvent


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return resolve_url("home")


@login_required
def verify(request):
    """The code page: an authenticator's code or a recovery code."""
    if request.user.is_verified():
        return redirect(_next(request))
    if not two_factor.has_device(request.user):
        return redirect("two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.verify(request.user, form.cleaned_data["code"])
        if device is not None:
            django_otp.login(request, device)
            access_log.record(AccessEvent.CODE_GIVEN, request, user=request.user,
                              detail=device.name)  # fmt: skip
            if device.name == two_factor.RECOVERY:
                messages.warning(
                    request,
                    _("You used a recovery code; %(n)d left. Make new ones under Two-factor.")
                    % {"n": two_factor.recovery_codes_left(request.user)},
                )
            return redirect(_next(request))
        access_log.record(AccessEvent.CODE_FAILED, request, user=request.user)
        form.add_error("code", _("That code is wrong or too old. Wait a moment and try again."))
    return render(request, "accounts/verify.html", {"form": form, "next": _next(request)})


@login_required
def setup(request):
    """Set up an authenticator app: scan, type a code, receive recovery codes once.
    Replacing an existing one needs this session to have given a code first."""
    if two_factor.has_device(request.user) and not request.user.is_verified():
        return redirect("two_factor_verify")
    device = two_factor.pending_authenticator(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_authenticator(device, form.cleaned_data["code"])
        if codes is not None:
            django_otp.login(request, device)
            access_log.record(AccessEvent.TWO_FACTOR_ENROLLED, request, user=request.user)
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)}
            )
        form.add_error("code", _("That code is wrong. Check the time on your phone and try again."))
    return render(
        request,
        "accounts/setup.html",
        {
            "form": form,
            "qr": two_factor.qr_svg(device),
            "secret": two_factor.secret_for_typing(device),
            "next": _next(request),
            "required": two_factor.required(request.user),
        },
    )


@login_required
def overview(request):
    """Two-factor status of one's own account."""
    return render(
        request,
        "accounts/two_factor.html",
        {
            "has_device": two_factor.has_device(request.user),
            "required": two_factor.required(request.user),
            "codes_left": two_factor.recovery_codes_left(request.user),
        },
    )


@login_required
@require_POST
def recovery_codes(request):
    """New recovery codes, shown once; the old ones stop working."""
    if not two_factor.has_device(request.user):
        return redirect("two_factor_setup")
    codes = two_factor.new_recovery_codes(request.user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": ""})
