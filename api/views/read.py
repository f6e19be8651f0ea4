"""Read endpoints: metadata, codebook, participants, responses, scores, contacts and a
participant's audit trail. Rows come from the role querysets (:class:`api.data.Viewer`):
another clinic's participant is simply not there (404)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import make_aware
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from analysis import exports
from enrolment import permissions as roles

from .. import data
from ..errors import ApiError
from ..serializers import (
    AuditOut,
    ContactOut,
    MeOut,
    MetadataOut,
    ParticipantOut,
    ResponseOut,
    ScoreOut,
    page_of,
)
from .base import ApiView, TrialView

RESPONSE_FILTERS = [
    OpenApiParameter("instrument", str, description="Instrument code, e.g. odi"),
    OpenApiParameter("timepoint", str, description="Timepoint code, e.g. 3m"),
    OpenApiParameter("participant", str, description="Study ID"),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="Only responses saved at or after this time (ISO 8601; a date means "
        "its midnight UTC)",
    ),
    OpenApiParameter("cursor", str, description="From the previous page's 'next'"),
    OpenApiParameter("page_size", int, description="Rows per page (at most 5000)"),
]


def participant_or_404(viewer: data.Viewer, study_id: str):
    p = viewer.participants().filter(study_id=study_id).select_related("trial").first()
    if p is None:
        raise exceptions.NotFound(f"No participant {study_id} that you may see.",
                                  code="not_found")
    return p


class Root(ApiView):
    @extend_schema(operation_id="root", responses=OpenApiTypes.OBJECT,
                   summary="Where to start: the token's trial and its endpoints")
    def get(self, request):
        code = request.auth.trial.code

        def url(name, **kwargs):
            return request.build_absolute_uri(reverse(f"api:{name}", kwargs=kwargs))

        return Response({
            "me": url("me"),
            "trial": url("trial", code=code),
            "codebook": url("codebook", code=code),
            "participants": url("participants", code=code),
            "responses": url("responses", code=code),
            "scores": url("scores", code=code),
            "contacts": url("contacts", code=code),
            "queries": url("queries", code=code),
            "dataset_csv": url("dataset", code=code, fmt="csv"),
            "dataset_jsonl": url("dataset", code=code, fmt="jsonl"),
            "odm": url("odm", code=code),
            "schema": url("schema"),
            "docs": url("docs"),
        })


class NoSuchEndpoint(ApiView):
    """Any other path under ``/api/v1/``: a JSON refusal with a stable code, as every other
    refusal (Django's own 404 is an HTML page), written to the access log."""

    permission_classes: list = []
    throttle_classes: list = []
    schema = None  # not an endpoint of the schema

    def _refuse(self, request, *args, **kwargs):
        from django.urls import Resolver404, resolve

        detail = f"No endpoint {request.path}; the endpoints are listed at /api/v1/."
        if not request.path.endswith("/"):
            try:
                resolve(request.path + "/")
                detail = f"No endpoint {request.path}; did you mean {request.path}/ ?"
            except Resolver404:
                pass
        raise exceptions.NotFound(detail, code="not_found")

    get = post = put = patch = delete = _refuse


class Me(ApiView):
    @extend_schema(operation_id="me", responses=MeOut,
                   summary="The token in use: its trial, scope, expiry and your roles")
    def get(self, request):
        token = request.auth
        return Response({
            "user": request.user.get_username(),
            "trial": token.trial.code,
            "token": {"name": token.name, "prefix": token.prefix, "scope": token.scope,
                      "expires_at": token.expires_at},
            "roles": sorted(roles.roles_in(request.user, token.trial)),
        })


class TrialMetadata(TrialView):
    @extend_schema(operation_id="trial", responses=MetadataOut,
                   summary="Arms, clusters, clinics, timepoints and instruments (items, "
                           "choices, scores)")
    def get(self, request, code):
        return Response(data.metadata(self.viewer))


class Codebook(TrialView):
    @extend_schema(
        operation_id="codebook",
        responses=serializers.ListSerializer(child=serializers.DictField()),
        summary="The codebook of an export (the same builder as the analysis pages)",
        parameters=[OpenApiParameter("shape", str, enum=["long", "wide"]),
                    OpenApiParameter("level", str, enum=list(exports.LEVELS))],
    )
    def get(self, request, code):
        shape, level = _shape_level(request)
        return Response(data.codebook(self.viewer, shape, level))


def _shape_level(request) -> tuple[str, str]:
    shape = request.query_params.get("shape", "long")
    level = request.query_params.get("level", "score")
    # The analysis shape is built in memory (pandas): not streamed through the API.
    if shape not in ("long", "wide") or level not in exports.LEVELS:
        raise ApiError(400, "invalid_filter",
                       "shape is long or wide; level is score or item.")
    return shape, level


class Participants(TrialView):
    @extend_schema(
        operation_id="participants", responses=page_of(ParticipantOut),
        summary="Participants you may see, pseudonymised (cursor pages)",
        parameters=[OpenApiParameter("clinic", str), OpenApiParameter("status", str),
                    OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
    )
    def get(self, request, code):
        qs = self.viewer.participants()
        for name, lookup in (("clinic", "clinic__code"), ("status", "status")):
            if request.query_params.get(name):
                qs = qs.filter(**{lookup: request.query_params[name]})
        rows = qs.values(*data.PARTICIPANT_FIELDS)
        return self.paginate(rows, lambda r: data.participant(r, self.viewer))


class ParticipantDetail(TrialView):
    @extend_schema(operation_id="participant", responses=ParticipantOut,
                   summary="One participant, pseudonymised")
    def get(self, request, code, study_id):
        row = self.viewer.participants().filter(study_id=study_id).values(
            *data.PARTICIPANT_FIELDS).first()
        if row is None:
            raise exceptions.NotFound(f"No participant {study_id} that you may see.",
                                      code="not_found")
        return Response(data.participant(row, self.viewer))


def _when(value: str):
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        from datetime import datetime, time

        moment = datetime.combine(day, time.min)
    if moment.tzinfo is None:
        from datetime import UTC

        moment = make_aware(moment, UTC)
    return moment


def filtered_responses(view: TrialView, request):
    qs = data.responses(view.viewer)
    params = request.query_params
    if params.get("instrument"):
        qs = qs.filter(instrument=params["instrument"])
    if params.get("timepoint"):
        qs = qs.filter(timepoint__code=params["timepoint"], timepoint__trial=view.trial)
    if params.get("participant"):
        qs = qs.filter(participant__study_id=params["participant"])
    if params.get("updated_since"):
        try:
            qs = qs.filter(updated_at__gte=_when(params["updated_since"]))
        except ValueError as exc:
            raise ApiError(400, "invalid_filter",
                           "updated_since is an ISO 8601 date or date and time, e.g. "
                           "2026-11-29 or 2026-11-29T08:00:00Z.") from exc
    return qs.values(*data.RESPONSE_FIELDS)


class Responses(TrialView):
    @extend_schema(operation_id="responses", responses=page_of(ResponseOut),
                   summary="Final responses with answers and scores, oldest change first "
                           "(cursor pages)", parameters=RESPONSE_FILTERS)
    def get(self, request, code):
        rows = filtered_responses(self, request)
        return self.paginate(rows, lambda r: data.response(r, self.viewer),
                             ordering=("updated_at", "id"))


class Scores(TrialView):
    @extend_schema(operation_id="scores", responses=page_of(ScoreOut),
                   summary="Scores of completed responses (no answers), oldest change first",
                   parameters=RESPONSE_FILTERS)
    def get(self, request, code):
        rows = filtered_responses(self, request).filter(completed_at__isnull=False)
        return self.paginate(rows, lambda r: data.response(r, self.viewer, with_answers=False),
                             ordering=("updated_at", "id"))


class Contacts(TrialView):
    @extend_schema(
        operation_id="contacts", responses=page_of(ContactOut),
        summary="Scheduled contacts (invitations) and their states",
        parameters=[OpenApiParameter("participant", str), OpenApiParameter("timepoint", str),
                    OpenApiParameter("status", str), OpenApiParameter("cursor", str),
                    OpenApiParameter("page_size", int)],
    )
    def get(self, request, code):
        qs = data.contacts(self.viewer)
        for name, lookup in (("participant", "participant__study_id"),
                             ("timepoint", "timepoint__code"), ("status", "status")):
            if request.query_params.get(name):
                qs = qs.filter(**{lookup: request.query_params[name]})
        return self.paginate(qs.values(*data.CONTACT_FIELDS), data.contact)


class AuditTrail(TrialView):
    @extend_schema(operation_id="audit_trail", responses=AuditOut,
                   summary="A participant's audit trail (who, when, what, old, new, reason); "
                           "personal details' values left out")
    def get(self, request, code, study_id):
        p = participant_or_404(self.viewer, study_id)
        if not roles.has_any(request.user, self.trial, roles.HISTORY):
            raise exceptions.PermissionDenied(
                "Your role may not read audit trails.", code="role_may_not_read_history"
            )
        return Response({"participant": p.study_id, "entries": data.audit_trail(p, self.viewer)})
