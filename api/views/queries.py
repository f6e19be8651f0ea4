"""Queries: the trial's list and one query's thread (read), raising, answering,
correcting, closing and re-opening (read-write tokens), through the plain functions of
:mod:`datamanagement.queries.actions`, the pages' own write path.

Who sees what is the pages' rule: a physiotherapist sees their clinic's queries (another
clinic's is not there: 404), a statistician none (404, as the list page). A refused action
keeps the site's message with a stable code (``reason_required``, ``query_closed``, ...);
locked data is refused by the write-path guards (409 ``locked``)."""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from datamanagement.queries import actions, permissions
from datamanagement.queries.models import Query

from .. import queries as data
from ..errors import ApiError
from ..serializers import (
    ErrorOut,
    QueryCorrectIn,
    QueryMessageIn,
    QueryOut,
    QueryRaiseIn,
    QueryThreadOut,
    page_of,
)
from .base import TrialView
from .read import _when, participant_or_404

STATES = [s for s, _label in Query.STATES]

REFUSED = {
    400: OpenApiResponse(ErrorOut, description="invalid, text_required, reason_required, "
                         "query_closed, not_reopenable, unknown_value, invalid_value, unchanged"),
    403: OpenApiResponse(ErrorOut, description="read_only_token, role_may_not_raise, "
                         "role_may_not_answer"),
    404: OpenApiResponse(ErrorOut, description="not_found: no such query that you may see"),
    409: OpenApiResponse(ErrorOut, description="locked"),
}


class QueryView(TrialView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not data.may_read(self.viewer):
            raise ApiError(404, "not_found", "Your role reads no queries of this trial.")

    def query_or_404(self, pk: int) -> Query:
        q = data.queries(self.viewer).filter(pk=pk).select_related("response").first()
        if q is None:
            raise exceptions.NotFound(f"No query {pk} that you may see.", code="not_found")
        return q

    def thread(self, pk: int, status_code=status.HTTP_200_OK) -> Response:
        return Response(data.thread(self.query_or_404(pk), self.viewer), status=status_code)


def refused(exc: actions.QueryError) -> ApiError:
    return ApiError(400, exc.code or "invalid", " ".join(exc.messages))


class Queries(QueryView):
    @extend_schema(
        operation_id="queries",
        responses=page_of(QueryOut),
        summary="The trial's queries you may see, least recently changed first (cursor pages)",
        parameters=[
            OpenApiParameter("state", str, enum=STATES),
            OpenApiParameter("clinic", str, description="Clinic code"),
            OpenApiParameter("instrument", str, description="Instrument code, or enrolment"),
            OpenApiParameter("participant", str, description="Study ID"),
            OpenApiParameter("updated_since", OpenApiTypes.DATETIME,
                             description="Only queries with a message at or after this time "
                             "(ISO 8601; a date means its midnight UTC)"),
            OpenApiParameter("cursor", str, description="From the previous page's 'next'"),
            OpenApiParameter("page_size", int, description="Rows per page (at most 5000)"),
        ],
    )
    def get(self, request, code):
        qs = data.queries(self.viewer)
        params = request.query_params
        if params.get("state"):
            if params["state"] not in STATES:
                raise ApiError(400, "invalid_filter", f"state is one of {', '.join(STATES)}.")
            qs = qs.filter(state=params["state"])
        for name, lookup in (("clinic", "participant__clinic__code"),
                             ("instrument", "instrument"),
                             ("participant", "participant__study_id")):
            if params.get(name):
                qs = qs.filter(**{lookup: params[name]})
        if params.get("updated_since"):
            try:
                qs = qs.filter(updated_at__gte=_when(params["updated_since"]))
            except ValueError as exc:
                raise ApiError(400, "invalid_filter",
                               "updated_since is an ISO 8601 date or date and time, e.g. "
                               "2026-11-29 or 2026-11-29T08:00:00Z.") from exc
        return self.paginate(qs, data.query, ordering=("updated_at", "id"))

    @extend_schema(
        operation_id="raise_query",
        summary="Raise a query on a participant's value (data managers, monitors, "
                "administrators)",
        request=QueryRaiseIn,
        responses={201: OpenApiResponse(QueryThreadOut, description="raised"), **REFUSED},
    )
    def post(self, request, code):
        given = QueryRaiseIn(data=request.data)
        given.is_valid(raise_exception=True)
        body = given.validated_data
        p = participant_or_404(self.viewer, body["participant"])
        if not permissions.can_raise(request.user, p):
            raise exceptions.PermissionDenied("Your role may not raise queries.",
                                              code="role_may_not_raise")
        try:
            q = actions.raise_query(p, body["value"], body["text"], request.user)
        except actions.QueryError as exc:
            raise refused(exc) from exc
        return self.thread(q.pk, status.HTTP_201_CREATED)


class QueryDetail(QueryView):
    @extend_schema(operation_id="query", responses={200: QueryThreadOut, 404: ErrorOut},
                   summary="One query with its thread of messages, oldest first")
    def get(self, request, code, pk):
        return self.thread(pk)


class QueryAction(QueryView):
    """A state change with a message; ``act`` is the action's plain function."""

    may = staticmethod(permissions.can_answer)
    refusal = ("Your role may not answer queries.", "role_may_not_answer")

    def act(self, q: Query, body: dict):
        raise NotImplementedError

    def post(self, request, code, pk):
        q = self.query_or_404(pk)
        if not self.may(request.user, q.participant):
            raise exceptions.PermissionDenied(*self.refusal)
        given = self.get_serializer_class()(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            self.act(q, given.validated_data)
        except actions.QueryError as exc:
            raise refused(exc) from exc
        return self.thread(pk)

    def get_serializer_class(self):
        return QueryMessageIn


def _action_schema(operation_id: str, summary: str, request=QueryMessageIn):
    return extend_schema(operation_id=operation_id, summary=summary, request=request,
                         responses={200: QueryThreadOut, **REFUSED})


class AnswerQuery(QueryAction):
    @_action_schema("answer_query", "Answer a query (coordinators, administrators, the "
                    "participant's clinic's physiotherapists)")
    def post(self, request, code, pk):
        return super().post(request, code, pk)

    def act(self, q, body):
        return actions.answer_query(q, body["text"], self.request.user)


def _raw(value) -> str:
    """The value as the query page's form gives it to :func:`actions.parse_value`."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


class CorrectFromQuery(QueryAction):
    @_action_schema("correct_from_query", "Correct the queried value (audited, the query "
                    "is the reason); the query is then answered", request=QueryCorrectIn)
    def post(self, request, code, pk):
        return super().post(request, code, pk)

    def get_serializer_class(self):
        return QueryCorrectIn

    def act(self, q, body):
        value = actions.parse_value(q, _raw(body["new_value"]))
        return actions.correct_from_query(q, value, body["text"], self.request.user)


class CloseQuery(QueryAction):
    may = staticmethod(permissions.can_raise)
    refusal = ("Your role may not close queries.", "role_may_not_close")

    @_action_schema("close_query", "Close a query (a reason is needed unless the value was "
                    "corrected since it was raised or re-opened)")
    def post(self, request, code, pk):
        return super().post(request, code, pk)

    def act(self, q, body):
        return actions.close_query(q, body["text"], self.request.user)


class ReopenQuery(QueryAction):
    may = staticmethod(permissions.can_raise)
    refusal = ("Your role may not re-open queries.", "role_may_not_reopen")

    @_action_schema("reopen_query", "Re-open an answered or closed query, with a reason")
    def post(self, request, code, pk):
        return super().post(request, code, pk)

    def act(self, q, body):
        return actions.reopen_query(q, body["text"], self.request.user)
