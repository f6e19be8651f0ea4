"""Error pages: styled like the site, in the user's language, with a way back.

The 500 page is rendered without the request's context processors, so it needs no
database: it is also the page shown when the database is down. An outage (the database
refuses or drops the connection) gets a page of its own that keeps what the person sent:
their answers come back as hidden fields of a "Send again" form, so nothing typed is
lost, and going back in the browser keeps the form as well.
"""

from __future__ import annotations

import logging
import sys

from django.core.exceptions import DisallowedHost
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (OperationalError, InterfaceError)
# Patient pages post their language with the answers, so the outage page speaks it even
# though the participant cannot be looked up.
LANGUAGE_FIELD = "respondent_language"


def _way_back(request: HttpRequest) -> str:
    """The page the person came from, if it is ours; else the start page."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:  # the error page itself must not fail
        return ""
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _error_page(request, template: str, status: int) -> HttpResponse:
    return render(request, template, {"back_url": _way_back(request)}, status=status)


@requires_csrf_token
def permission_denied(request, exception=None):
    return _error_page(request, "errors/403.html", 403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _error_page(request, "errors/404.html", 404)


def _resend_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """What was posted, field by field, to be sent again as it was (files cannot be)."""
    if request.method != "POST":
        return []
    try:
        return [(k, v) for k in request.POST for v in request.POST.getlist(k)]
    except Exception:  # noqa: BLE001 - an unreadable body has nothing to keep
        return []


def _had_files(request: HttpRequest) -> bool:
    try:
        return request.method == "POST" and bool(request.FILES)
    except Exception:  # noqa: BLE001 - an unreadable body had nothing to keep
        return False


@requires_csrf_token
def server_error(request):
    """Django's handler500, called inside the ``except`` that caught the error."""
    error = sys.exc_info()[1]
    if isinstance(error, OUTAGE_ERRORS):
        return database_unavailable(request)
    return HttpResponse(
        render_to_string("errors/500.html", {"back_url": _way_back(request)}), status=500
    )


def database_unavailable(request: HttpRequest) -> HttpResponse:
    fields = _resend_fields(request)
    language = dict(fields).get(LANGUAGE_FIELD, "")
    if not translation.check_for_language(language):
        language = translation.get_language()
    # The survey link, or a questionnaire page handed to the patient on the clinic's
    # tablet (it posts the respondent's language): the patient's wording either way.
    patient = request.path.startswith("/s/") or LANGUAGE_FIELD in dict(fields)
    with translation.override(language):
        html = render_to_string(
            "errors/database_unavailable.html",
            {
                "posted": bool(fields) or request.method == "POST",
                "had_files": _had_files(request),
                "fields": fields,
                "action": request.get_full_path(),
                "patient": patient,
                "base_template": "questionnaires/patient_base.html" if patient else "base.html",
                "language": language,
                "back_url": _way_back(request),
                "LANGUAGE_CODE": language,
            },
        )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = "60"
    response["Cache-Control"] = "no-store"
    return response
