"""What every API view shares: the token's trial, the viewer, cursor pages and the access
log line written for every call (refused ones too)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.views import APIView

from accounts import access_log
from accounts.models import AccessEvent

from ..data import Viewer
from ..models import ApiToken


class Cursor(CursorPagination):
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000
    ordering = "id"


class Logged:
    """Writes the access log line of every call, refused ones too (a mixin for DRF views)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        token = getattr(request, "auth", None)
        user = getattr(request, "user", None)
        code = ""
        if response.status_code >= 400 and isinstance(getattr(response, "data", None), dict):
            code = f" {response.data.get('code', '')}"
        detail = f"{request.method} {response.status_code}{code}"
        if isinstance(token, ApiToken):
            detail += f" token {token.prefix}"
        access_log.record(
            AccessEvent.API_CALL,
            request._request,
            user=user if user is not None and user.is_authenticated else None,
            detail=detail,
        )
        return response


class ApiView(Logged, APIView):
    pass


class TrialView(ApiView):
    """A view under ``/api/v1/trials/<code>/``: the token must be for that trial."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        token: ApiToken = request.auth
        if kwargs.get("code") != token.trial.code:
            raise exceptions.PermissionDenied(
                f"This token is for trial {token.trial.code}.", code="wrong_trial"
            )
        self.trial = token.trial
        self.viewer = Viewer(request.user, token.trial)

    def paginate(self, queryset, to_json, ordering="id"):
        paginator = Cursor()
        paginator.ordering = ordering
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response([to_json(row) for row in page])
