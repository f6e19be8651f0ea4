"""Middlewares for staff pages: the second factor asked before anything else, every
authenticated response kept out of caches with its downloads logged, and times shown in
the staff's trial's own time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from enrolment.models import Participant, Trial
from enrolment.permissions import time_zones_of

from . import access_log, two_factor
from .models import AccessEvent

# Pages an authenticated user reaches before giving a code.
OPEN_BEFORE_CODE = ("logout", "two_factor_verify", "two_factor_setup", "set_language")


class TwoFactorMiddleware:
    """A logged-in user who must give a code (:func:`accounts.two_factor.needed`) and has
    not yet done so in this session reaches nothing but the code page (or the set-up
    page, if they have no authenticator yet) and logging out. Applies to every path,
    /admin/ included, so that no view can forget it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not self._open(request.path)
            and two_factor.needed(user)
        ):
            target = "two_factor_verify" if two_factor.has_device(user) else "two_factor_setup"
            return redirect_to_login(request.get_full_path(), reverse(target))
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return True
        return any(path == reverse(name) for name in OPEN_BEFORE_CODE)


class StaffPagesMiddleware:
    """Pages shown to a logged-in user may hold personal details: no cache (browser,
    proxy or back button) keeps them. A file sent to a logged-in user is logged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
            disposition = response.get("Content-Disposition", "")
            if disposition:
                access_log.record(AccessEvent.DOWNLOAD, request, user=user, detail=disposition)
        return response


class TrialTimeZoneMiddleware:
    """Staff read a lock, a signature or an audit entry at the time on the trial's clock:
    a page about one trial (its code, a participant's study ID or one of its records in
    the URL) shows times in that trial's time zone (the protocol file's); any other page
    of a logged-in user in the zone of their trials, or in UTC where their trials keep
    different ones. Every staff page names the zone (base.html)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        zone = _zone_of_page(request, view_kwargs)
        if zone is None:
            zones = time_zones_of(user)
            zone = zones.pop() if len(zones) == 1 else None
        if zone:
            timezone.activate(ZoneInfo(zone))
        return None


# Pages about one record named by its id: the record's model and the path to its trial's
# time zone.
ZONE_OF_RECORD = {
    "query_detail": ("datamanagement.Query", "participant__trial__time_zone"),
    "contact_reschedule": ("followup.Contact", "timepoint__trial__time_zone"),
    "contact_new_link": ("followup.Contact", "timepoint__trial__time_zone"),
    "response_correct": ("questionnaires.Response", "timepoint__trial__time_zone"),
}


def _zone_of_page(request, kwargs) -> str | None:
    """The time zone of the trial a page is about: the trial its URL names (``trial`` or
    ``code``), the participant's (``study_id``), or the record's (:data:`ZONE_OF_RECORD`);
    None for a page about no one trial."""
    code = kwargs.get("trial") or kwargs.get("code")
    if isinstance(code, str):
        return Trial.objects.filter(code=code).values_list("time_zone", flat=True).first()
    study_id = kwargs.get("study_id")
    if isinstance(study_id, str):
        return (Participant.objects.filter(study_id=study_id)
                .values_list("trial__time_zone", flat=True).first())
    match = getattr(request, "resolver_match", None)
    record = ZONE_OF_RECORD.get(getattr(match, "url_name", None))
    if record is not None and isinstance(kwargs.get("pk"), int):
        model, path = record
        return (apps.get_model(model).objects.filter(pk=kwargs["pk"])
                .values_list(path, flat=True).first())
    return None


def client_ip(request) -> str | None:
    """The client's address for lockouts and the access log: REMOTE_ADDR, or behind a
    proxy the header named by RATELIMIT_IP_META_KEY (the last address in it, the one
    the proxy saw)."""
    key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    value = request.META.get(key) or request.META.get("REMOTE_ADDR") or ""
    return value.split(",")[-1].strip() or None
