"""The user's own API tokens (under their account menu): make one (shown once), see
them, revoke one. Making a token needs a second factor given in this session."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import two_factor

from . import tokens
from .forms import TokenForm
from .models import ApiToken


def _page(request, form, secret=None, made=None):
    return render(request, "api/tokens.html", {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user).select_related("trial"),
        "secret": secret,
        "made": made,
        "now": timezone.now(),
        "verified": request.user.is_verified(),
        "has_device": two_factor.has_device(request.user),
        "api_base": request.build_absolute_uri(reverse("api:me")).removesuffix("me/"),
    })


@login_required
def token_list(request):
    form = TokenForm(request.user, request.POST or None)
    if request.method == "POST":
        if not request.user.is_verified():
            messages.error(request, _("Give your second factor in this session before making "
                                      "a token (set up two-factor authentication first if you "
                                      "have not)."))
            return redirect("two_factor")
        if form.is_valid():
            c = form.cleaned_data
            try:
                token, secret = tokens.create(request.user, c["trial"], name=c["name"],
                                              scope=c["scope"], days=c["days"],
                                              request=request)
            except ValidationError as exc:
                form.add_error(None, exc.messages[0])
            else:
                # Rendered, not redirected: the secret must not sit in a session or a URL.
                return _page(request, TokenForm(request.user), secret=secret, made=token)
    return _page(request, form)


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    tokens.revoke(token, request)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api:tokens")


@login_required
def docs(request):
    """Swagger UI over the schema, as a page of the site (its script a static file)."""
    return render(request, "api/docs.html")
