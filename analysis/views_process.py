"""Downloads of the implementation and process measures (:mod:`analysis.process_export`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse

from .process_export import CODEBOOK, codebook_csv, csv_of
from .views import _trial


@login_required
def process_csv(request, code, what):
    trial = _trial(request, code)
    if not trial.has_workshops:
        raise Http404  # no workshop, SWOT or interview records in this protocol
    if what == "codebook":
        body = codebook_csv()
    elif what in CODEBOOK:
        body = csv_of(trial, what)
    else:
        raise Http404
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{trial.code}-{what}.csv"'
    return response
