"""The full dataset streamed as CSV or JSON lines: the rows of the analysis exports
(:mod:`analysis.exports`, the same columns and codebook, with the missing-data reasons),
written as they are read from ``.iterator(chunk_size=...)`` querysets, so memory stays
flat in the number of rows; on PostgreSQL the CSV is the file export's own ``COPY``
(:func:`analysis.exports.pg.csv_chunks`), the same bytes at the same cost."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions

from analysis import exports
from analysis.exports import pg
from enrolment import permissions as roles

from .. import data
from ..errors import ApiError
from ..odm.export import odm_chunks
from ..odm.views import log_download
from .base import TrialView
from .read import _shape_level

# Rows joined into one chunk of the response: fewer, larger writes to the socket.
ROWS_PER_CHUNK = 500


class _Line:
    def write(self, value):
        return value


def csv_chunks(export: exports.Export):
    writer = csv.writer(_Line())
    yield writer.writerow([v.name for v in export.vars])
    buffer = []
    for row in export.rows():
        buffer.append(writer.writerow(["" if c is None else exports._csv_cell(c) for c in row]))
        if len(buffer) >= ROWS_PER_CHUNK:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def _json_value(v):
    if isinstance(v, date | datetime):
        return v.isoformat()
    return v


def jsonl_chunks(export: exports.Export):
    names = [v.name for v in export.vars]
    buffer = []
    for row in export.rows():
        buffer.append(json.dumps(dict(zip(names, map(_json_value, row), strict=True)),
                                 ensure_ascii=False, default=str) + "\n")
        if len(buffer) >= ROWS_PER_CHUNK:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


FORMATS = {
    "csv": ("text/csv; charset=utf-8", csv_chunks),
    "jsonl": ("application/x-ndjson; charset=utf-8", jsonl_chunks),
}


class Dataset(TrialView):
    @extend_schema(
        operation_id="dataset",
        summary="The whole pseudonymised dataset, streamed (CSV or JSON lines); the same "
                "rows and columns as the analysis exports",
        parameters=[
            OpenApiParameter("shape", str, enum=["long", "wide"]),
            OpenApiParameter("level", str, enum=list(exports.LEVELS)),
            OpenApiParameter("blinded", bool, description="Blinding codes for the condition "
                             "(always, for a statistician of a blinded trial)"),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR,
                   (200, "application/x-ndjson"): OpenApiTypes.STR},
    )
    def get(self, request, code, fmt):
        if not roles.has_any(request.user, self.trial, roles.ANALYSIS):
            raise exceptions.PermissionDenied(
                "Your role may not export the dataset.", code="role_may_not_export"
            )
        if fmt not in FORMATS:
            raise ApiError(404, "unknown_format", "The dataset comes as .csv or .jsonl.")
        shape, level = _shape_level(request)
        blinded = self.viewer.blinded or request.query_params.get("blinded") in ("1", "true")
        export = data.dataset(self.trial, shape, level, blinded)
        content_type, chunks = FORMATS[fmt]
        if fmt == "csv" and pg.streams(shape):
            # On PostgreSQL the file export's own COPY, streamed: the same bytes and cost.
            body = pg.csv_chunks(self.trial, shape, level, blinded,
                                 [v.name for v in export.vars])
        else:
            body = chunks(export)
        response = StreamingHttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="{self.trial.code}_{shape}_{level}.{fmt}"'
        )
        return response


class Odm(TrialView):
    @extend_schema(
        operation_id="odm",
        summary="The trial as CDISC ODM 1.3.2 XML (metadata, pseudonymised clinical data with "
                "missing-data reasons and audit records), streamed",
        parameters=[OpenApiParameter("blinded", bool, description="Blinding codes for the "
                                     "condition (always, for a statistician of a blinded trial)")],
        responses={(200, "application/xml"): OpenApiTypes.STR},
    )
    def get(self, request, code):
        if not roles.has_any(request.user, self.trial, roles.ANALYSIS):
            raise exceptions.PermissionDenied(
                "Your role may not export the dataset.", code="role_may_not_export"
            )
        blinded = self.viewer.blinded or request.query_params.get("blinded") in ("1", "true")
        name = log_download(request, self.trial, "odm", blinded)
        response = StreamingHttpResponse(odm_chunks(self.trial, blinded=blinded),
                                         content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
