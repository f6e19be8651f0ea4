"""The access log and the lockouts, for administrators (superusers)."""

from __future__ import annotations

import csv
from datetime import datetime, time

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import user_passes_test
from django.core.paginator import Paginator
from django.db.models import Max, Sum
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import access_log
from ..forms import AccessLogFilter
from ..models import AccessEvent

administrators = user_passes_test(lambda u: u.is_active and u.is_superuser)

CSV_COLUMNS = ["at", "kind", "username", "actor", "ip_address", "path", "detail"]


def _events(request):
    form = AccessLogFilter(request.GET or None)
    events = AccessEvent.objects.select_related("actor")
    if form.is_valid():
        data = form.cleaned_data
        if data["username"]:
            events = events.filter(username__iexact=data["username"])
        if data["kind"]:
            events = events.filter(kind=data["kind"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            events = events.filter(at__gte=datetime.combine(data["since"], time.min, zone))
        if data["until"]:
            events = events.filter(at__lte=datetime.combine(data["until"], time.max, zone))
    return form, events


@administrators
def log(request):
    form, events = _events(request)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/access_log.html",
                  {"form": form, "page": page, "query": query.urlencode()})  # fmt: skip


class _Echo:
    def write(self, value):
        return value


@administrators
def log_csv(request):
    _, events = _events(request)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for e in events.iterator():
            yield writer.writerow(
                [e.at.isoformat(), e.kind, e.username, e.actor.username if e.actor else "",
                 e.ip_address or "", e.path, e.detail]  # fmt: skip
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="access-log.csv"'
    return response


def locked_out() -> tuple[list[dict], list[dict]]:
    """Accounts and addresses at the failure limit: axes counts each over all its rows."""
    attempts = AccessAttempt.objects.all()
    if settings.AXES_COOLOFF_TIME:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    limit = settings.AXES_FAILURE_LIMIT

    def over(field):
        return list(
            attempts.exclude(**{field: ""})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")
        )

    return over("username"), over("ip_address")


@administrators
def lockouts(request):
    accounts, addresses = locked_out()
    return render(request, "accounts/lockouts.html",
                  {"accounts": accounts, "addresses": addresses})  # fmt: skip


@administrators
@require_POST
def unlock(request):
    """Lift a lockout of an account or of an address."""
    username = request.POST.get("username", "").strip()
    ip = request.POST.get("ip_address", "").strip()
    if username:
        reset(username=username)
    if ip:
        reset(ip=ip)
    if username or ip:
        user = get_user_model().objects.filter(username=username).first() if username else None
        access_log.record(AccessEvent.UNLOCKED, request, user=user, username=username,
                          actor=request.user, detail=f"address {ip}" if ip else "")
        messages.success(request, _("Unlocked."))
    return redirect("lockouts")
