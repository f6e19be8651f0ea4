"""Downloads for other systems: a trial's CDISC ODM 1.3.2 file (streamed) and its REDCap
data dictionary. The roles that export datasets may download them; a statistician of a
blinded trial gets the blinded file whatever they ask. Every download is logged."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from analysis.models import EXCHANGE, ExportLog
from analysis.redcap_dictionary import dictionary_csv
from enrolment import permissions as roles

from .export import odm_chunks

EXPORT_ROLES = roles.EXPORT


def _trial(request, code):
    trial = get_object_or_404(roles.trials_of(request.user), code=code)
    if not roles.has_any(request.user, trial, EXPORT_ROLES):
        raise PermissionDenied
    return trial


def _log(request, trial, fmt: str, blinded: bool, rows: int, name: str) -> None:
    ExportLog.objects.create(
        user=request.user, user_label=request.user.get_username(), trial=trial, format=fmt,
        shape=EXCHANGE, level="item", blinded=blinded, rows=rows, file_name=name,
    )


def log_download(request, trial, fmt: str, blinded: bool) -> str:
    """The ODM file's name, its download written to the export log (the page's and the
    API's alike)."""
    name = f"{trial.code}_odm{'_blinded' if blinded else ''}_{timezone.now():%Y%m%dT%H%M%S}.xml"
    _log(request, trial, fmt, blinded, trial.participants.count(), name)
    return name


@login_required
def odm(request, code):
    trial = _trial(request, code)
    blinded = request.GET.get("blinded") == "1" or roles.blinded_for(request.user, trial)
    name = log_download(request, trial, "odm", blinded)
    response = StreamingHttpResponse(
        odm_chunks(trial, blinded=blinded), content_type="application/xml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def redcap_dictionary(request, code):
    trial = _trial(request, code)
    body = dictionary_csv(trial)
    name = f"{trial.code}_redcap_data_dictionary.csv"
    _log(request, trial, "redcap", False, body.count("\n") - 1, name)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
